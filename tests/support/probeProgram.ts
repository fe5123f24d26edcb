/**
 * A small stack program that declares the resource kinds and the inputs DdpCluster declares (components/dockerNode.ts,
 * components/ddpCluster.ts), with values chosen to be observable on Docker in seconds: three containers that sleep
 * (PID 1 ignores SIGTERM, so a stop takes its full grace), the workers depending on the master, an image built with a
 * VOLUME (anonymous volumes), a retained volume, stopTimeout 0. tests/real/standIn.test.ts runs it through the real
 * engine and through the stand-in and compares what each did to Docker.
 *
 * Config (namespace `probe`): image (the base image), context (a folder with the Dockerfile), tag (the built image's
 * name), mode ("cluster", or "broken": one container whose command does not exist and that asks for a GPU, so its
 * start fails).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

const config = new pulumi.Config("probe");
const mode = config.get("mode") ?? "cluster";
const prefix = `ddpsim-${pulumi.getStack()}`;
const labels = [
    { label: "ddpsim.project", value: pulumi.getProject() },
    { label: "ddpsim.stack", value: pulumi.getStack() },
];

const suffix = new random.RandomString("probe-suffix", { length: 6, special: false, upper: false });
const network = new docker.Network("probe-network", { name: pulumi.interpolate`${prefix}-net-${suffix.result}`, driver: "bridge", labels });

function declareCluster(): pulumi.Output<string>[] {
    const volume = new docker.Volume("probe-volume", { name: `${prefix}-vol`, labels }, { retainOnDelete: true });
    const image = new docker.RemoteImage("probe-image", {
        name: config.require("tag"),
        build: { context: config.require("context"), dockerfile: "Dockerfile", buildArgs: { BASE: config.require("image") } },
        keepLocally: true,
    });
    const node = (rank: number, opts: pulumi.CustomResourceOptions) =>
        new docker.Container(
            `probe-node-${rank}`,
            {
                name: pulumi.interpolate`${prefix}-node-${rank}-${suffix.result}`,
                image: image.name,
                hostname: `probe-node-${rank}`,
                networksAdvanced: [{ name: network.name, aliases: [`probe-node-${rank}`] }],
                envs: ["B=2", "A=1", `RANK=${rank}`],
                command: ["sleep", "600"],
                workingDir: "/tmp",
                user: "65534:65534",
                mounts: [{ type: "volume", source: volume.name, target: "/data", readOnly: rank > 0 }],
                shmSize: 128,
                ...(rank === 0 ? { restart: "on-failure", maxRetryCount: 2 } : { restart: "no" }),
                mustRun: false,
                stopSignal: "SIGTERM",
                stopTimeout: 0,
                destroyGraceSeconds: 2,
                labels: [...labels, { label: "probe.rank", value: String(rank) }],
                capabilities: rank === 2 ? { adds: ["NET_ADMIN", "CHOWN"], drops: ["ALL"] } : { drops: ["ALL"] },
                securityOpts: ["no-new-privileges:true"],
                ...(rank === 0
                    ? { healthcheck: { tests: ["CMD", "true"], interval: "1s", timeout: "2s", startPeriod: "1s", retries: 3 } }
                    : {}),
            },
            opts,
        );
    const master = node(0, { dependsOn: [volume] });
    return [master, node(1, { dependsOn: [master] }), node(2, { dependsOn: [master] })].map((c) => c.name);
}

function declareBroken(): pulumi.Output<string>[] {
    const broken = new docker.Container("probe-broken", {
        name: pulumi.interpolate`${prefix}-broken-${suffix.result}`,
        image: config.require("image"),
        networksAdvanced: [{ name: network.name }],
        command: ["/nonexistent-probe-binary"],
        // As a GPU node asks: without the NVIDIA runtime, this alone makes the start fail.
        deviceRequests: [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }],
        labels,
        restart: "no",
        mustRun: false,
        destroyGraceSeconds: 1,
    });
    return [broken.name];
}

export const containerNames = pulumi.all(mode === "broken" ? declareBroken() : declareCluster());
export const networkName = network.name;
export const suffixValue = suffix.result;
