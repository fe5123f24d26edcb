/**
 * The stand-in (tests/support: the mock runtime and dockerHarness.ts) against the real engine (the CLI and the docker
 * provider scripts/pulumi-toolchain.sh builds): the same small program (tests/support/probeProgram.ts, the inputs
 * DdpCluster declares) through each, and what each did to Docker compared: the containers' configuration, the
 * network, the destroy order and stop grace, anonymous volumes, a retained volume, and a create that fails after the
 * container exists. docs/testing.md lists what this shows and what still differs.
 */
import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { ensureCpuImage } from "../support/cpuImage";
import { upStack } from "../support/clusterRuns";
import { docker, purgeStack } from "../support/dockerHarness";
import { destroy as standInDestroy, readState, statePath } from "../support/stackRunner";

const PROJECT = "ddpsim";
const PROBE = path.resolve(__dirname, "..", "support", "probeProgram.ts");

/** The probe program, afresh each time the CLI asks for it (one run per operation). */
async function probeProgram(): Promise<Record<string, unknown>> {
    delete require.cache[PROBE];
    const exports = require(PROBE);
    return Object.fromEntries(Object.entries(exports).filter(([key]) => key !== "__esModule"));
}

interface DockerEvent {
    Type: string;
    Action: string;
    Actor: { ID: string; Attributes: Record<string, string> };
    timeNano: number;
}

/** Docker's events between two instants (seconds since the epoch), all of them. */
async function eventsBetween(since: number, until: number): Promise<DockerEvent[]> {
    const stream = await docker.getEvents({ since: Math.floor(since), until: Math.ceil(until) });
    let text = "";
    for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString();
    return text
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as DockerEvent);
}

/** What a container is, with the run's own names (stack, random suffix, container id) taken out. */
function containerShape(info: any, names: (s: string) => string) {
    const sorted = (list?: string[] | null) => (list == null ? list : [...list].sort());
    return {
        name: names(info.Name),
        image: info.Config.Image,
        hostname: info.Config.Hostname,
        env: sorted(info.Config.Env),
        cmd: info.Config.Cmd,
        user: info.Config.User,
        workingDir: info.Config.WorkingDir,
        labels: info.Config.Labels,
        stopSignal: info.Config.StopSignal,
        stopTimeout: info.Config.StopTimeout ?? null,
        healthcheck: info.Config.Healthcheck ?? null,
        networkMode: info.HostConfig.NetworkMode,
        restart: info.HostConfig.RestartPolicy,
        mounts: (info.HostConfig.Mounts ?? []).map((m: any) => ({ ...m, Source: names(m.Source) })),
        anonymousVolumes: info.Mounts.filter((m: any) => m.Type === "volume" && m.Destination === "/scratch").length,
        shmSize: info.HostConfig.ShmSize,
        capAdd: sorted(info.HostConfig.CapAdd),
        capDrop: sorted(info.HostConfig.CapDrop),
        securityOpt: info.HostConfig.SecurityOpt,
        init: info.HostConfig.Init,
        deviceRequests: info.HostConfig.DeviceRequests ?? null,
        privileged: info.HostConfig.Privileged,
        readonlyRootfs: info.HostConfig.ReadonlyRootfs,
        autoRemove: info.HostConfig.AutoRemove,
        logType: info.HostConfig.LogConfig.Type,
        networks: Object.fromEntries(
            Object.entries(info.NetworkSettings.Networks).map(([name, n]: [string, any]) => [
                names(name),
                (n.Aliases ?? []).filter((a: string) => !info.Id.startsWith(a)).sort(),
            ]),
        ),
    };
}

/** What one engine did with the probe program. */
interface Observed {
    containers: ReturnType<typeof containerShape>[];
    network: unknown;
    /** Container stops and removals, network and volume removals, in Docker's order. */
    events: { what: string; action: string; signal?: string; at: number }[];
    left: { containers: number; network: boolean; volume: boolean; anonymousVolumes: number; image: boolean };
}

describe("the stand-in against the real engine: one program, the same Docker result", function () {
    this.timeout(600_000);
    let tmp: string;
    let base: string;
    let context: string;
    const tags: string[] = [];
    const stacks: string[] = [];
    const observed: Record<string, Observed> = {};
    const failed: Record<
        string,
        { message: string; containerInState: boolean; containerState: string; deviceRequests: unknown; leftAfterDestroy: number }
    > = {};
    const deviceRequestsOf = async (containers: { Id: string }[]) =>
        containers.length === 1 ? (await docker.getContainer(containers[0].Id).inspect()).HostConfig.DeviceRequests : `${containers.length} containers`;

    function probeConfig(stack: string, mode: string): Record<string, string> {
        const tag = `ddpsim-probe:${stack}`;
        tags.push(tag);
        return { "probe:image": base, "probe:context": context, "probe:tag": tag, "probe:mode": mode };
    }

    /** The real engine: Automation API, inline program, local file backend, providers from PATH. */
    function realStack(label: string, mode: string): Promise<{ stack: Stack; config: Record<string, string> }> {
        const stackName = `real-${label}-${crypto.randomBytes(3).toString("hex")}`;
        stacks.push(stackName);
        const config = probeConfig(stackName, mode);
        fs.writeFileSync(path.join(tmp, "project", `Pulumi.${stackName}.yaml`), stringify({ config }));
        const envVars = {
            PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_HOME: path.join(tmp, "home"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
        };
        return LocalWorkspace.createOrSelectStack(
            { stackName, projectName: PROJECT, program: probeProgram },
            { workDir: path.join(tmp, "project"), envVars },
        ).then((stack) => ({ stack, config }));
    }

    /** Brings the probe cluster up with `up`, inspects it, destroys it with `destroy`, and records what Docker saw. */
    async function observe(stack: string, upFn: () => Promise<Record<string, any>>, destroyFn: () => Promise<void>): Promise<Observed> {
        const outputs = await upFn();
        const suffix: string = outputs.suffixValue;
        const names = (s: string) => s.replace(/^\//, "").split(stack).join("<stack>").split(suffix).join("<suffix>");
        const infos = await Promise.all((outputs.containerNames as string[]).map((n) => docker.getContainer(n).inspect()));
        const network = await docker.getNetwork(outputs.networkName).inspect();
        const anonymous = infos.flatMap((i) => i.Mounts.filter((m: any) => m.Destination === "/scratch").map((m: any) => m.Name as string));
        const ids = new Map<string, string>(infos.map((i) => [i.Id, names(i.Name)]));
        const volume = `ddpsim-${stack}-vol`;
        const since = Date.now() / 1000 - 1;
        await destroyFn();
        await new Promise((r) => setTimeout(r, 1500));
        const all = await eventsBetween(since, Date.now() / 1000);
        const events = all
            .filter(
                (e) =>
                    (e.Type === "container" && ids.has(e.Actor.ID) && ["kill", "die", "destroy"].includes(e.Action)) ||
                    (e.Type === "network" && e.Actor.ID === network.Id && e.Action === "destroy") ||
                    (e.Type === "volume" && (e.Actor.ID === volume || anonymous.includes(e.Actor.ID)) && e.Action === "destroy"),
            )
            .map((e) => ({
                what:
                    e.Type === "container" ? ids.get(e.Actor.ID)! : e.Type === "network" ? "network" : e.Actor.ID === volume ? "volume" : "anonymous volume",
                action: e.Action,
                ...(e.Action === "kill" ? { signal: e.Actor.Attributes.signal } : {}),
                at: e.timeNano / 1e9,
            }));
        const exists = (p: Promise<unknown>) => p.then(() => true, () => false);
        return {
            // Names carry the stack and the random suffix: compared without them.
            containers: JSON.parse(names(JSON.stringify(infos.map((i) => containerShape(i, names))))),
            network: JSON.parse(
                names(
                    JSON.stringify({
                        name: network.Name,
                        driver: network.Driver,
                        labels: network.Labels,
                        internal: network.Internal,
                        attachable: network.Attachable,
                        ipv6: network.EnableIPv6,
                        ipamDriver: network.IPAM?.Driver,
                    }),
                ),
            ),
            events,
            left: {
                containers: (await Promise.all(infos.map((i) => exists(docker.getContainer(i.Id).inspect())))).filter(Boolean).length,
                network: await exists(docker.getNetwork(network.Id).inspect()),
                volume: await exists(docker.getVolume(volume).inspect()),
                anonymousVolumes: (await Promise.all(anonymous.map((v) => exists(docker.getVolume(v).inspect())))).filter(Boolean).length,
                image: await exists(docker.getImage(infos[0].Config.Image).inspect()),
            },
        };
    }

    before(async function () {
        this.timeout(900_000);
        const missing = ["pulumi", "pulumi-resource-docker", "pulumi-resource-random"].filter(
            (b) => !(process.env.PATH ?? "").split(path.delimiter).some((d) => d !== "" && fs.existsSync(path.join(d, b))),
        );
        if (missing.length > 0) throw new Error(`${missing.join(", ")} not on PATH: run \`npm run test:real\``);
        base = await ensureCpuImage();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-standin-"));
        for (const dir of ["project", "state", "home", "context"]) fs.mkdirSync(path.join(tmp, dir));
        fs.writeFileSync(path.join(tmp, "project", "Pulumi.yaml"), stringify({ name: PROJECT, runtime: "nodejs" }));
        context = path.join(tmp, "context");
        fs.writeFileSync(path.join(context, "Dockerfile"), "ARG BASE\nFROM ${BASE}\nVOLUME /scratch\n");
    });

    after(async function () {
        this.timeout(120_000);
        for (const stack of stacks) {
            await purgeStack(PROJECT, stack).catch(() => undefined);
            fs.rmSync(statePath(stack), { force: true });
        }
        for (const tag of tags) await docker.getImage(tag).remove().catch(() => undefined);
        if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("the real engine: up, inspect, destroy", async () => {
        const { stack } = await realStack("probe", "cluster");
        observed.real = await observe(
            stack.name,
            async () => Object.fromEntries(Object.entries((await stack.up()).outputs).map(([k, v]) => [k, v.value])),
            async () => void (await stack.destroy()),
        );
    });

    it("the stand-in: up, inspect, destroy", async () => {
        const stack = `standin-probe-${crypto.randomBytes(3).toString("hex")}`;
        stacks.push(stack);
        const config = probeConfig(stack, "cluster");
        observed.standIn = await observe(
            stack,
            async () => {
                const up = await upStack(stack, config, 180_000, PROBE);
                assert.ok(up.ok, up.stderr);
                return up.outputs;
            },
            async () => void (await standInDestroy(stack)),
        );
    });

    it("made the same containers (config, host config, networks and aliases) and the same network", () => {
        assert.ok(observed.real && observed.standIn, "both runs are needed");
        assert.deepStrictEqual(observed.standIn.containers, observed.real.containers);
        assert.deepStrictEqual(observed.standIn.network, observed.real.network);
        // What the provider's reading of the inputs gives (resource_docker_container_funcs.go), seen on Docker:
        const [master, worker] = observed.real.containers;
        assert.strictEqual(master.stopTimeout, null, "stopTimeout 0 is not sent: Docker's default applies");
        assert.strictEqual(master.networkMode, "bridge", "created on the default bridge, then moved");
        assert.deepStrictEqual(master.restart, { Name: "on-failure", MaximumRetryCount: 2 });
        assert.deepStrictEqual(worker.restart, { Name: "no", MaximumRetryCount: 0 });
        assert.strictEqual(master.init, false);
    });

    for (const engine of ["real", "standIn"]) {
        it(`${engine === "real" ? "the real engine" : "the stand-in"} destroyed in Pulumi's order, with the stop grace, anonymous volumes included, the volume kept`, () => {
            const seen = observed[engine];
            assert.ok(seen, "the run is needed");
            const first = (what: string, action: string, signal?: string) => {
                const e = seen.events.find((x) => x.what.includes(what) && x.action === action && (signal === undefined || x.signal === signal));
                assert.ok(e, `no ${action} ${signal ?? ""} of ${what} in ${JSON.stringify(seen.events)}`);
                return e.at;
            };
            const timeline = JSON.stringify(seen.events.map((e) => [e.what, e.action, e.signal, e.at.toFixed(2)]));
            if (process.env.DDPSIM_REAL_SHOW_OUTPUT) {
                const start = seen.events[0]?.at ?? 0;
                console.log(seen.events.map((e) => `      ${(e.at - start).toFixed(2)} s  ${e.what} ${e.action}${e.signal ? ` ${e.signal}` : ""}`).join("\n"));
            }
            // The two workers together, each stopped with SIGTERM and killed after its 2 s grace.
            for (const rank of [1, 2]) {
                const grace = first(`node-${rank}`, "die") - first(`node-${rank}`, "kill", "15");
                assert.ok(grace >= 1.5 && grace < 6, `node-${rank} died ${grace.toFixed(2)} s after SIGTERM: ${timeline}`);
            }
            assert.ok(first("node-1", "kill", "15") < first("node-2", "die") && first("node-2", "kill", "15") < first("node-1", "die"), `workers in parallel: ${timeline}`);
            // Then the master, once both workers are gone; then the network.
            assert.ok(Math.max(first("node-1", "destroy"), first("node-2", "destroy")) <= first("node-0", "kill", "15"), `master after the workers: ${timeline}`);
            assert.ok(first("node-0", "destroy") <= first("network", "destroy"), `network after the master: ${timeline}`);
            assert.deepStrictEqual(seen.left, { containers: 0, network: false, volume: true, anonymousVolumes: 0, image: true });
        });
    }

    it("a create that fails after the container exists (a GPU request, a missing command): up fails, the container stays and is in the state, destroy removes it", async () => {
        const { stack } = await realStack("broken", "broken");
        let message = "";
        await stack.up().then(
            () => assert.fail("up succeeded"),
            (err: Error) => (message = err.message),
        );
        const resources: any[] = (await stack.exportStack()).deployment.resources ?? [];
        const inState = resources.find((r) => r.type === "docker:index/container:Container");
        const left = await docker.listContainers({ all: true, filters: { label: [`ddpsim.stack=${stack.name}`] } });
        const deviceRequests = await deviceRequestsOf(left);
        await stack.destroy();
        const afterDestroy = await docker.listContainers({ all: true, filters: { label: [`ddpsim.stack=${stack.name}`] } });
        failed.real = {
            message,
            containerInState: inState !== undefined && inState.id === left[0]?.Id,
            containerState: left.map((c) => c.State).join(","),
            deviceRequests,
            leftAfterDestroy: afterDestroy.length,
        };

        const standIn = `standin-broken-${crypto.randomBytes(3).toString("hex")}`;
        stacks.push(standIn);
        const up = await upStack(standIn, probeConfig(standIn, "broken"), 180_000, PROBE);
        assert.strictEqual(up.ok, false);
        const entry = readState(standIn).find((e) => e.type === "docker:index/container:Container");
        const standInLeft = await docker.listContainers({ all: true, filters: { label: [`ddpsim.stack=${standIn}`] } });
        const standInDeviceRequests = await deviceRequestsOf(standInLeft);
        await standInDestroy(standIn);
        const standInAfter = await docker.listContainers({ all: true, filters: { label: [`ddpsim.stack=${standIn}`] } });
        failed.standIn = {
            message: up.stderr,
            containerInState: entry !== undefined && entry.id === standInLeft[0]?.Id && entry.initError !== undefined,
            containerState: standInLeft.map((c) => c.State).join(","),
            deviceRequests: standInDeviceRequests,
            leftAfterDestroy: standInAfter.length,
        };
        // The device request as Docker stored it: the same from both (the provider's Count 0, one capability set).
        assert.deepStrictEqual(failed.standIn.deviceRequests, failed.real.deviceRequests);
        assert.deepStrictEqual(failed.real.deviceRequests, [{ Driver: "nvidia", Count: 0, DeviceIDs: ["0"], Capabilities: [["gpu"]], Options: {} }]);
        for (const [engine, f] of Object.entries(failed)) {
            // Without the NVIDIA runtime Docker cannot select the device driver; with it, the command does not exist.
            assert.match(
                f.message,
                /Unable to start container: .*(could not select device driver|nonexistent-probe-binary)/,
                `${engine}: ${f.message.slice(-2000)}`,
            );
            assert.deepStrictEqual(
                { containerInState: f.containerInState, containerState: f.containerState, leftAfterDestroy: f.leftAfterDestroy },
                { containerInState: true, containerState: "created", leftAfterDestroy: 0 },
                engine,
            );
        }
    });
});
