import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { DdpCluster, DdpClusterArgs } from "../../components";
import { MOCK_SUFFIX, ObservedOptions, observeOptions, RegisteredResource, useMocks, valueOf } from "../support/pulumiMocks";

const CONTAINER = "docker:index/container:Container";
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
    for (const [nodes, containers] of [
        [1, 1],
        [2, 2],
        [8, 8],
    ]) {
        it(`declares one network, one volume, one suffix and ${containers} container(s) for ${nodes} node(s)`, async () => {
            const { registered } = await declare({ nodes });
            const counts: Record<string, number> = {};
            for (const r of registered) counts[r.type] = (counts[r.type] ?? 0) + 1;
            assert.deepStrictEqual(counts, {
                "ddpsim:index:DdpCluster": 1,
                "random:index/randomString:RandomString": 1,
                [NETWORK]: 1,
                [VOLUME]: 1,
                [CONTAINER]: containers,
            });
            assert.deepStrictEqual(
                ofType(registered, CONTAINER).map((c) => [c.name, c.inputs.name, c.inputs.hostname]),
                Array.from({ length: nodes }, (_, r) => [
                    `ddp-node-${r}`,
                    `ddpsim-test-ddp-node-${r}-${MOCK_SUFFIX}`,
                    `ddp-node-${r}`,
                ]),
            );
        });
    }

    it("declares every container with its envs, command, mounts, GPUs, labels and safety settings", async () => {
        const { registered } = await declare({ nodes: 2, gpusPerNode: 1, codeDir: "/src/train", shmSizeMb: 4096 });
        const [master, worker] = ofType(registered, CONTAINER).map((c) => c.inputs);
        assert.strictEqual(master.image, "ddpsim-cpu:latest");
        assert.deepStrictEqual(worker.envs, [
            "PYTHONUNBUFFERED=1",
            "PYTHONDONTWRITEBYTECODE=1",
            "NCCL_SOCKET_IFNAME=eth0",
            "GLOO_SOCKET_IFNAME=eth0",
            "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1",
            "NCCL_NSOCKS_PERTHREAD=2",
            "NCCL_SOCKET_NTHREADS=4",
            "NCCL_MIN_NCHANNELS=4",
            "NODE_RANK=1",
            "NNODES=2",
            "MASTER_ADDR=ddp-node-0",
            "MASTER_PORT=29500",
        ]);
        assert.deepStrictEqual(worker.command, [
            "torchrun",
            "--nnodes", "2",
            "--nproc-per-node", "1",
            "--rdzv-backend", "c10d",
            "--rdzv-endpoint", "ddp-node-0:29500",
            "--rdzv-id", "ddpsim-test-ddp",
            "--max-restarts", "3",
            "train_ddp.py",
            "--checkpoint-dir", "/checkpoints",
        ]);
        assert.deepStrictEqual(master.command, worker.command);
        assert.deepStrictEqual(worker.mounts, [
            { type: "bind", source: "/src/train", target: "/workspace", readOnly: true },
            { type: "volume", source: "ddpsim-test-ddp-checkpoints", target: "/checkpoints", readOnly: false },
        ]);
        assert.deepStrictEqual(
            [master.deviceRequests, worker.deviceRequests],
            [
                [{ driver: "nvidia", deviceIds: ["0"], capabilities: ["gpu"] }],
                [{ driver: "nvidia", deviceIds: ["1"], capabilities: ["gpu"] }],
            ],
        );
        assert.deepStrictEqual(worker.labels, [
            { label: "ddpsim.project", value: "ddpsim" },
            { label: "ddpsim.stack", value: "test" },
            { label: "ddpsim.cluster", value: "ddp" },
            { label: "ddpsim.rank", value: "1" },
            { label: "ddpsim.role", value: "worker" },
        ]);
        assert.deepStrictEqual(worker.networksAdvanced, [{ name: `ddpsim-test-ddp-net-${MOCK_SUFFIX}`, aliases: ["ddp-node-1"] }]);
        assert.deepStrictEqual(
            [worker.shmSize, worker.restart, worker.maxRetryCount, worker.destroyGraceSeconds, worker.stopSignal],
            [4096, "on-failure", 5, 60, "SIGTERM"],
        );
        assert.strictEqual(worker.workingDir, "/workspace");
        assert.strictEqual(worker.healthcheck, undefined);
        assert.strictEqual(worker.wait, undefined);
        assert.deepStrictEqual(master.healthcheck, {
            tests: ["CMD", "python3", "-c", 'import socket; socket.create_connection(("127.0.0.1", 29500), timeout=2).close()'],
            interval: "2s",
            timeout: "3s",
            startPeriod: "2s",
            retries: 60,
        });
        assert.strictEqual(master.wait, true);
    });

    it("binds no GPU on a CPU cluster", async () => {
        const { registered } = await declare({ nodes: 2, gpusPerNode: 0 });
        for (const c of ofType(registered, CONTAINER)) {
            assert.strictEqual(c.inputs.deviceRequests, undefined);
            assert.strictEqual(c.inputs.gpus, undefined);
        }
    });

    it("makes workers depend on the master only, all children parented to the cluster", async () => {
        const { seen } = await declare({ nodes: 4 });
        const containers = seen.filter((s) => s.type === CONTAINER);
        assert.deepStrictEqual(
            containers.map((c) => [c.name, c.dependsOn]),
            [
                ["ddp-node-0", ["ddp-checkpoints"]],
                ["ddp-node-1", ["ddp-node-0"]],
                ["ddp-node-2", ["ddp-node-0"]],
                ["ddp-node-3", ["ddp-node-0"]],
            ],
        );
        const children = seen.filter((s) => s.type !== "ddpsim:index:DdpCluster");
        assert.strictEqual(children.length, 7);
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

        const built = await declare({ imageMode: "build", image: "ddpsim-train:dev", imageContext: "/ctx" });
        const image = ofType(built.registered, "docker:index/image:Image");
        assert.deepStrictEqual(
            image.map((r) => [r.inputs.imageName, r.inputs.build, r.inputs.skipPush]),
            [["ddpsim-train:dev", { context: "/ctx", dockerfile: "Dockerfile" }, true]],
        );
        assert.strictEqual(ofType(built.registered, CONTAINER)[1].inputs.image, "ddpsim-train:dev");

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
        const names = [`ddpsim-test-ddp-node-0-${MOCK_SUFFIX}`, `ddpsim-test-ddp-node-1-${MOCK_SUFFIX}`];
        assert.strictEqual(await valueOf(cluster.networkName), `ddpsim-test-ddp-net-${MOCK_SUFFIX}`);
        assert.strictEqual(await valueOf(cluster.masterEndpoint), "ddp-node-0:29500");
        assert.strictEqual(await valueOf(cluster.checkpointVolumeName), "ddpsim-test-ddp-checkpoints");
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
