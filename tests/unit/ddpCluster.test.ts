import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { codeContentHash, contentTag } from "../../components/hostReading";
import { DdpCluster, DdpClusterArgs, defaultOwner, identityTag, resetGpuClaims } from "../../components";
import { agentLabel, nodeFile, splitNodeCommand } from "../support/nodeCommand";
import { MOCK_RUN_ID, MOCK_SUFFIX, ObservedOptions, observeOptions, RegisteredResource, useMocks, valueOf } from "../support/pulumiMocks";

const CONTAINER = "docker:index/container:Container";
/** How the SDK marks a secret value on the wire (runtime/rpc.js specialSigKey, specialSecretSig). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_MARKER = "1b47061264138c4ac30d75fd1eb44270";
/** Every host-level name of the test stack's cluster starts with this (project, stack, name, owner hash). */
const PREFIX = `ddpsim-test-ddp-${identityTag(defaultOwner(), "ddpsim", "test", "ddp")}`;
const NETWORK = "docker:index/network:Network";
const VOLUME = "docker:index/volume:Volume";

/** Declares one cluster and waits until every child is registered. */
async function declare(
    args: DdpClusterArgs,
    name = "ddp",
): Promise<{ registered: RegisteredResource[]; seen: ObservedOptions[]; cluster: DdpCluster }> {
    const registered = await useMocks();
    const seen: ObservedOptions[] = [];
    const cluster = new DdpCluster(name, args, { transformations: [observeOptions(seen)] });
    await valueOf(cluster.logsCommand);
    await valueOf(cluster.networkName);
    await valueOf(cluster.checkpointVolumeName);
    return { registered, seen, cluster };
}

const ofType = (registered: RegisteredResource[], type: string) => registered.filter((r) => r.type === type);

describe("DdpCluster", () => {
    let codeDir: string;
    before(() => {
        codeDir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-code-"));
        fs.writeFileSync(path.join(codeDir, "train.py"), "print('hi')\n");
    });
    after(() => fs.rmSync(codeDir, { recursive: true, force: true }));
    beforeEach(() => resetGpuClaims());

    for (const [nodes, containers] of [
        [1, 1],
        [2, 2],
        [8, 8],
    ]) {
        it(`declares one network, one volume, one suffix, one run id and ${containers} container(s) for ${nodes} node(s)`, async () => {
            const { registered } = await declare({ nodes });
            const counts: Record<string, number> = {};
            for (const r of registered) counts[r.type] = (counts[r.type] ?? 0) + 1;
            assert.deepStrictEqual(counts, {
                "ddpsim:index:DdpCluster": 1,
                "random:index/randomString:RandomString": 1,
                "random:index/randomId:RandomId": 1,
                [NETWORK]: 1,
                [VOLUME]: 1,
                [CONTAINER]: containers,
            });
            assert.deepStrictEqual(
                ofType(registered, CONTAINER).map((c) => [c.name, c.inputs.name, c.inputs.hostname]),
                Array.from({ length: nodes }, (_, r) => [
                    `ddp-node-${r}`,
                    `${PREFIX}-node-${r}-${MOCK_SUFFIX}`,
                    `ddp-node-${r}`,
                ]),
            );
        });
    }

    it("declares every container with its envs, command, mounts, GPUs, labels and safety settings", async () => {
        const { registered } = await declare({ nodes: 2, gpusPerNode: 1, codeDir: codeDir, shmSizeMb: 4096 });
        const [master, worker] = ofType(registered, CONTAINER).map((c) => c.inputs);
        assert.strictEqual(master.image, "ddpsim-cpu:latest");
        assert.deepStrictEqual(worker.envs, [
            "PYTHONUNBUFFERED=1",
            "PYTHONDONTWRITEBYTECODE=1",
            "PYTHONPATH=/code",
            "NCCL_SOCKET_IFNAME=eth0",
            "GLOO_SOCKET_IFNAME=eth0",
            "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1",
            "DDPSIM_PROJECT=ddpsim",
            "DDPSIM_STACK=test",
            "DDPSIM_CLUSTER=ddp",
            "DDPSIM_NODE=ddp-node-1",
            "DDPSIM_NODE_RANK=1",
            "DDPSIM_NODES=2",
            "DDPSIM_PROCS_PER_NODE=1",
            "DDPSIM_WORK_DIR=/workspace",
            "DDPSIM_CODE_DIR=/code",
            "DDPSIM_CHECKPOINT_DIR=/checkpoints",
            "DDPSIM_COLLECTIVE_TIMEOUT_SECONDS=30",
            "NODE_RANK=1",
            "NNODES=2",
            "MASTER_ADDR=ddp-node-0",
            "MASTER_PORT=29500",
            "PET_NNODES=2",
            "PET_NPROC_PER_NODE=1",
            "PET_NODE_RANK=1",
            "PET_MASTER_ADDR=ddp-node-0",
            "PET_MASTER_PORT=29500",
            `DDPSIM_RUN_ID=${MOCK_RUN_ID}`,
        ]);
        const { config, torchrun } = splitNodeCommand(worker.command);
        assert.deepStrictEqual(torchrun, [
            "torchrun",
            "--nnodes", "2",
            "--nproc-per-node", "1",
            "--rdzv-backend", "c10d",
            "--rdzv-endpoint", "ddp-node-0:29500",
            "--rdzv-id", PREFIX,
            "--max-restarts", "3",
            "--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=3",
            "/code/train_ddp.py",
        ]);
        assert.deepStrictEqual(config, {
            node: "ddp-node-1",
            rank: 1,
            controlDir: "/workspace/.ddpsim",
            graceSeconds: 60,
            failFastExitCodes: [2, 3],
            failFastRepeats: 2,
            ncclSockets: { env: { NCCL_NSOCKS_PERTHREAD: "2", NCCL_SOCKET_NTHREADS: "4", NCCL_MIN_NCHANNELS: "4" }, minCpus: 16 },
        });
        assert.deepStrictEqual(splitNodeCommand(master.command).torchrun, torchrun);
        // The node agent is a file of the container, uploaded before it starts: by its path in the program's folder and
        // its content hash, never its source.
        assert.deepStrictEqual(worker.uploads, [
            { file: "/opt/ddpsim/node_agent.py", source: path.join("training", "node_agent.py"), sourceHash: nodeFile("node_agent.py").sha256 },
        ]);
        assert.deepStrictEqual(worker.mounts, [
            { type: "bind", source: codeDir, target: "/code", readOnly: true },
            { type: "volume", source: `${PREFIX}-checkpoints`, target: "/workspace", readOnly: false },
            { type: "volume", source: `${PREFIX}-checkpoints`, target: "/checkpoints", readOnly: false },
        ]);
        assert.deepStrictEqual(
            [master.deviceRequests, worker.deviceRequests],
            [
                [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }],
                [{ driver: "nvidia", deviceIds: ["1"], capabilities: ["gpu"] }],
            ],
        );
        assert.deepStrictEqual(worker.labels, [
            { label: "ddpsim.owner", value: defaultOwner() },
            { label: "ddpsim.project", value: "ddpsim" },
            { label: "ddpsim.stack", value: "test" },
            { label: "ddpsim.cluster", value: "ddp" },
            { label: "ddpsim.rank", value: "1" },
            { label: "ddpsim.role", value: "worker" },
            { label: "ddpsim.node", value: "ddp-node-1" },
            { label: "ddpsim.nodes", value: "2" },
            { label: "ddpsim.gpus", value: "1" },
            { label: "ddpsim.agent", value: agentLabel() },
            { label: "ddpsim.code", value: codeContentHash(codeDir) },
            { label: "ddpsim.image", value: "ddpsim-cpu:latest" },
        ]);
        assert.match(codeContentHash(codeDir), /^[0-9a-f]{16}$/);
        assert.deepStrictEqual(worker.networksAdvanced, [{ name: `${PREFIX}-net-${MOCK_SUFFIX}`, aliases: ["ddp-node-1"] }]);
        assert.deepStrictEqual(
            [worker.shmSize, worker.restart, worker.maxRetryCount, worker.destroyGraceSeconds, worker.stopSignal],
            [4096, "on-failure", 5, 60, "SIGTERM"],
        );
        assert.strictEqual(worker.workingDir, "/workspace");
        assert.deepStrictEqual(worker.capabilities, { adds: ["CHOWN", "DAC_OVERRIDE", "FOWNER"], drops: ["ALL"] });
        assert.deepStrictEqual(worker.securityOpts, ["no-new-privileges:true"]);
        assert.strictEqual(worker.user, undefined, "the image's user");
        assert.strictEqual(worker.healthcheck, undefined);
        assert.strictEqual(worker.wait, undefined);
        assert.deepStrictEqual(master.healthcheck, {
            tests: ["CMD", "python3", "-c", 'import socket; socket.create_connection(("127.0.0.1", 29500), timeout=2).close()'],
            interval: "2s",
            timeout: "3s",
            startPeriod: "2s",
            retries: 60,
        });
        assert.strictEqual(master.wait, undefined, "nothing waits on the master's health: c10d retries");
    });

    it("binds no GPU on a CPU cluster", async () => {
        const { registered } = await declare({ nodes: 2, gpusPerNode: 0 });
        for (const c of ofType(registered, CONTAINER)) {
            assert.strictEqual(c.inputs.deviceRequests, undefined);
            assert.strictEqual(c.inputs.gpus, undefined);
        }
    });

    it("creates every node at once (each depends on the run volume only), all children parented to the cluster", async () => {
        const { seen } = await declare({ nodes: 4 });
        const containers = seen.filter((s) => s.type === CONTAINER);
        assert.deepStrictEqual(
            containers.map((c) => [c.name, c.dependsOn]),
            [
                ["ddp-node-0", ["ddp-checkpoints"]],
                ["ddp-node-1", ["ddp-checkpoints"]],
                ["ddp-node-2", ["ddp-checkpoints"]],
                ["ddp-node-3", ["ddp-checkpoints"]],
            ],
        );
        const children = seen.filter((s) => s.type !== "ddpsim:index:DdpCluster");
        assert.strictEqual(children.length, 8);
        assert.ok(children.every((s) => s.parent === "ddp"), JSON.stringify(children));
    });

    it("keeps the checkpoint volume on destroy unless told not to", async () => {
        const kept = (await declare({})).seen.find((s) => s.type === VOLUME);
        assert.strictEqual(kept?.retainOnDelete, true);
        const dropped = (await declare({ retainCheckpoints: false })).seen.find((s) => s.type === VOLUME);
        assert.strictEqual(dropped?.retainOnDelete, false);
    });

    it("pulls a registry image and keeps it locally, or builds a Dockerfile folder", async () => {
        const pulled = await declare({ imageMode: "registry", image: "pytorch/pytorch:2.8.0-cuda12.8-cudnn9-runtime" });
        const remote = ofType(pulled.registered, "docker:index/remoteImage:RemoteImage");
        assert.deepStrictEqual(
            remote.map((r) => [r.name, r.inputs.name, r.inputs.keepLocally]),
            [["ddp-image", "pytorch/pytorch:2.8.0-cuda12.8-cudnn9-runtime", true]],
        );
        assert.strictEqual(ofType(pulled.registered, CONTAINER)[0].inputs.image, "sha256:ddp-image");

        const built = await declare({ imageMode: "build", image: "ddpsim-train:dev", imageContext: codeDir });
        const image = ofType(built.registered, "docker:index/remoteImage:RemoteImage");
        const tag = `ddpsim-train:dev-${contentTag(codeDir, PREFIX)}`;
        assert.match(tag, /^ddpsim-train:dev-[0-9a-f]{6}-[0-9a-f]{12}$/);
        // A context outside the program's folder goes by its absolute path; inside it, by its relative one.
        assert.deepStrictEqual(
            image.map((r) => [r.inputs.name, r.inputs.build, r.inputs.keepLocally]),
            [[tag, { context: codeDir, dockerfile: "Dockerfile" }, true]],
        );
        assert.strictEqual(ofType(built.registered, CONTAINER)[1].inputs.image, tag);

        const local = await declare({ imageMode: "local", image: "mine:1" });
        assert.strictEqual(local.registered.filter((r) => r.type.includes("mage:")).length, 0);
        assert.strictEqual(ofType(local.registered, CONTAINER)[0].inputs.image, "mine:1");
    });

    it("accepts the image as an Output from another resource", async () => {
        const { registered } = await declare({ image: pulumi.output("from-elsewhere:1") });
        assert.strictEqual(ofType(registered, CONTAINER)[0].inputs.image, "from-elsewhere:1");
    });

    it("reports its outputs", async () => {
        const { cluster } = await declare({ nodes: 2, gpusPerNode: 1, gpuIds: ["2", "3"] });
        const names = [`${PREFIX}-node-0-${MOCK_SUFFIX}`, `${PREFIX}-node-1-${MOCK_SUFFIX}`];
        assert.strictEqual(await valueOf(cluster.networkName), `${PREFIX}-net-${MOCK_SUFFIX}`);
        assert.strictEqual(await valueOf(cluster.masterEndpoint), "ddp-node-0:29500");
        assert.strictEqual(await valueOf(cluster.checkpointVolumeName), `${PREFIX}-checkpoints`);
        assert.deepStrictEqual(await valueOf(cluster.containerNames), names);
        assert.deepStrictEqual(await valueOf(cluster.nodes), [
            { rank: 0, containerName: names[0], hostname: "ddp-node-0", gpuIds: ["2"] },
            { rank: 1, containerName: names[1], hostname: "ddp-node-1", gpuIds: ["3"] },
        ]);
        assert.strictEqual(
            await valueOf(cluster.logsCommand),
            `for c in ${names.join(" ")}; do docker logs -f --tail 100 "$c" 2>&1 | sed -u "s/^/[$c] /" & done; wait`,
        );
    });

    it("lets two clusters live in one program without colliding", async () => {
        const registered = await useMocks();
        const a = new DdpCluster("alpha", { nodes: 2 });
        const b = new DdpCluster("beta", { nodes: 3 });
        await Promise.all([valueOf(a.logsCommand), valueOf(b.logsCommand), valueOf(a.networkName), valueOf(b.networkName)]);
        const dockerNames = registered.filter((r) => r.type.startsWith("docker:")).map((r) => r.inputs.name);
        const urnNames = registered.map((r) => `${r.type}::${r.name}`);
        assert.strictEqual(dockerNames.length, 2 + 2 + 5);
        assert.strictEqual(new Set(dockerNames).size, dockerNames.length);
        assert.strictEqual(new Set(urnNames).size, urnNames.length);
        assert.strictEqual(await valueOf(b.masterEndpoint), "beta-node-0:29500");
    });

    it("keeps a secret env value secret in the container inputs, and out of every output", async () => {
        const { registered, cluster } = await declare({ env: { HF_TOKEN: pulumi.secret("hf_s3cr3t"), LOG: "debug" } });
        for (const container of ofType(registered, CONTAINER)) {
            const envs = container.inputs.envs;
            // What the engine receives: the whole list wrapped as a secret (its value only inside the wrapper).
            assert.strictEqual(envs[SECRET_SIG], SECRET_MARKER, JSON.stringify(envs).slice(0, 200));
            assert.ok(envs.value.includes("HF_TOKEN=hf_s3cr3t") && envs.value.includes("LOG=debug"));
        }
        const outputs = await Promise.all([valueOf(cluster.nodes), valueOf(cluster.logsCommand), valueOf(cluster.containerNames)]);
        assert.ok(!JSON.stringify(outputs).includes("hf_s3cr3t"));
        const plain = await declare({ env: { LOG: "debug" } });
        assert.ok(Array.isArray(ofType(plain.registered, CONTAINER)[0].inputs.envs), "no secret, no wrapper");
    });

    it("names every host-level object per owner, project, stack and cluster: no collision, and stable", async () => {
        const volume = async (args: DdpClusterArgs, name = "ddp") => valueOf((await declare(args, name)).cluster.checkpointVolumeName);
        const ann = await volume({ owner: "ann" });
        const bob = await volume({ owner: "bob" });
        assert.notStrictEqual(ann, bob, "two people's dev stacks");
        assert.strictEqual(await volume({ owner: "ann" }), ann, "an up after destroy finds its own checkpoints");
        const slash = await volume({ owner: "ann" }, "team/a");
        const dash = await volume({ owner: "ann" }, "team-a");
        assert.notStrictEqual(slash, dash, "clusters team/a and team-a");
        assert.match(slash, /^ddpsim-test-team-a-[0-9a-f]{6}-checkpoints$/);
    });

    it("refuses two clusters of one program on the same GPUs unless both share", async () => {
        await useMocks();
        new DdpCluster("alpha", { nodes: 2, gpusPerNode: 1 });
        assert.throws(() => new DdpCluster("beta", { nodes: 2, gpusPerNode: 1 }), {
            message:
                'Invalid arguments for DdpCluster "beta":\n  - gpuIds: GPU(s) 0, 1 are already bound to DdpCluster "alpha" in ' +
                'this program; give "beta" other gpuIds, or set gpuSharing to true on both clusters, got ["0","1"]',
        });
        new DdpCluster("gamma", { nodes: 2, gpusPerNode: 1, gpuIds: ["2", "3"] });
        resetGpuClaims();
        new DdpCluster("shared-a", { nodes: 1, gpusPerNode: 1, gpuIds: ["0"], gpuSharing: true });
        new DdpCluster("shared-b", { nodes: 1, gpusPerNode: 1, gpuIds: ["0"], gpuSharing: true });
    });

    it("drives its own Docker host when given one: a provider for every child", async () => {
        const { registered } = await declare({ dockerHost: "ssh://me@gpu-box", codeDir });
        assert.deepStrictEqual(
            registered.filter((r) => r.type === "pulumi:providers:docker").map((r) => [r.name, r.inputs.host]),
            [["ddp-docker", "ssh://me@gpu-box"]],
        );
    });

    it("runs nodes as the configured user, with no capability left when nothing is shaped", async () => {
        const { registered } = await declare({ user: "1000:1000" });
        const node = ofType(registered, CONTAINER)[1].inputs;
        assert.strictEqual(node.user, "1000:1000");
        assert.deepStrictEqual(node.capabilities, { drops: ["ALL"] });
        const shaped = await declare({ user: "1000:1000", interconnect: "1gbe" });
        const shapedNode = ofType(shaped.registered, CONTAINER)[1].inputs;
        assert.strictEqual(shapedNode.user, "0:0", "starts as root to run tc; the agent then switches to 1000:1000");
        assert.strictEqual(splitNodeCommand(shapedNode.command).config.runAs, "1000:1000");
        assert.deepStrictEqual(shapedNode.capabilities, {
            adds: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "NET_ADMIN", "SETPCAP", "SETUID", "SETGID"],
            drops: ["ALL"],
        });
    });

    it("reports bad arguments as an error pulumi up prints without a stack trace, and a provider as a property list", async () => {
        await useMocks();
        let caught: unknown;
        try {
            new DdpCluster("ddp", { nodes: 0 });
        } catch (err) {
            caught = err;
        }
        assert.ok(pulumi.RunError.isInstance(caught), "the language host prints a RunError's message alone");
        assert.ok(pulumi.InputPropertiesError.isInstance(caught), "the component provider lists the properties");
    });

    const invalid: [string, DdpClusterArgs, string][] = [
        ["nodes 0", { nodes: 0 }, "nodes must be a whole number from 1 to 256, got 0"],
        ["nodes -1", { nodes: -1 }, "nodes must be a whole number from 1 to 256, got -1"],
        ["nodes 1.5", { nodes: 1.5 }, "nodes must be a whole number from 1 to 256, got 1.5"],
        ["nodes a string", { nodes: "3" as unknown as number }, 'nodes must be a whole number from 1 to 256, got "3"'],
        ["gpusPerNode -2", { gpusPerNode: -2 }, "gpusPerNode must be a whole number from 0 to 64, got -2"],
        [
            "more GPUs than listed",
            { nodes: 2, gpusPerNode: 2, gpuIds: ["0", "1", "2"] },
            'gpuIds lists 3 GPU(s) but nodes (2) x gpusPerNode (2) needs 4; set gpuSharing to true to share them between nodes round-robin, got ["0","1","2"]',
        ],
        ["port 70000", { masterPort: 70000 }, "masterPort must be a whole number from 1 to 65535, got 70000"],
        ["an empty image", { image: "" }, 'image must be a non-empty string, got ""'],
        ["an unknown image mode", { imageMode: "pull" }, 'imageMode must be one of "registry", "build", "local", got "pull"'],
    ];
    for (const [title, args, reason] of invalid) {
        it(`refuses ${title} with one InputPropertiesError and registers nothing`, async () => {
            const registered = await useMocks();
            let caught: unknown;
            try {
                new DdpCluster("ddp", args);
            } catch (err) {
                caught = err;
            }
            assert.ok(pulumi.InputPropertiesError.isInstance(caught), `expected InputPropertiesError, got ${caught}`);
            assert.strictEqual(caught.message, `Invalid arguments for DdpCluster "ddp":\n  - ${reason}`);
            assert.deepStrictEqual(caught.errors.map((e) => e.reason), [reason]);
            await new Promise((r) => setTimeout(r, 50));
            assert.deepStrictEqual(registered, []);
        });
    }
});
