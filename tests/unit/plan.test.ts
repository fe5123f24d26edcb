import * as assert from "assert";
import * as path from "path";
import {
    allocateGpus,
    ClusterSpec,
    dockerName,
    hostLabel,
    packageTrainingDir,
    planCluster,
    planFingerprint,
    resolveClusterSpec,
    ResolveOptions,
} from "../../components/plan";
import { agentLabel, splitNodeCommand } from "../support/nodeCommand";

const identity = { owner: "ann", project: "ddpsim", stack: "dev", cluster: "ddp" };
const PREFIX = "ddpsim-dev-ddp-8eed31";

function specOf(raw: Record<string, unknown>): ClusterSpec {
    return resolveOrThrow(raw);
}

function resolveOrThrow(raw: Record<string, unknown>, options: ResolveOptions = {}): ClusterSpec {
    const result = resolveClusterSpec(raw, "/home/user/project", options);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.spec;
}

function errorsOf(raw: Record<string, unknown>): { propertyPath: string; reason: string }[] {
    const result = resolveClusterSpec(raw, "/home/user/project");
    assert.strictEqual(result.ok, false, "expected validation errors");
    return result.ok ? [] : result.errors;
}

describe("resolveClusterSpec", () => {
    it("applies the documented defaults", () => {
        const spec = specOf({});
        assert.deepStrictEqual(
            {
                nodes: spec.nodes,
                gpusPerNode: spec.gpusPerNode,
                procsPerNode: spec.procsPerNode,
                image: spec.image,
                imageMode: spec.imageMode,
                masterPort: spec.masterPort,
                maxRestarts: spec.maxRestarts,
                restartRetries: spec.restartRetries,
                shmSizeMb: spec.shmSizeMb,
                stopGraceSeconds: spec.stopGraceSeconds,
                retainCheckpoints: spec.retainCheckpoints,
                script: spec.script,
                scriptArgs: spec.scriptArgs,
                env: spec.env,
            },
            {
                nodes: 2,
                gpusPerNode: 0,
                procsPerNode: 1,
                image: "ddpsim-cpu:latest",
                imageMode: "local",
                masterPort: 29500,
                maxRestarts: 3,
                restartRetries: 5,
                shmSizeMb: 2048,
                stopGraceSeconds: 60,
                retainCheckpoints: true,
                script: "train_ddp.py",
                scriptArgs: [],
                env: {},
            },
        );
        assert.strictEqual(spec.codeDir, packageTrainingDir());
        assert.ok(spec.codeDir.endsWith(`${path.sep}training`));
    });

    it("defaults procsPerNode to gpusPerNode", () => {
        assert.strictEqual(specOf({ gpusPerNode: 4 }).procsPerNode, 4);
    });

    it("resolves relative folders against the base folder", () => {
        const spec = specOf({ codeDir: "code", datasetDir: "../data", imageContext: "img" });
        assert.strictEqual(spec.codeDir, "/home/user/project/code");
        assert.strictEqual(spec.datasetDir, "/home/user/data");
        assert.strictEqual(spec.imageContext, "/home/user/project/img");
    });

    const invalid: [string, Record<string, unknown>, string, string][] = [
        ["nodes 0", { nodes: 0 }, "nodes", "nodes must be a whole number from 1 to 256, got 0"],
        ["nodes -1", { nodes: -1 }, "nodes", "nodes must be a whole number from 1 to 256, got -1"],
        ["nodes 1.5", { nodes: 1.5 }, "nodes", "nodes must be a whole number from 1 to 256, got 1.5"],
        ["nodes a string", { nodes: "two" }, "nodes", 'nodes must be a whole number from 1 to 256, got "two"'],
        ["gpusPerNode -1", { gpusPerNode: -1 }, "gpusPerNode", "gpusPerNode must be a whole number from 0 to 64, got -1"],
        [
            "more GPUs than listed",
            { nodes: 3, gpusPerNode: 1, gpuIds: ["0", "1"] },
            "gpuIds",
            'gpuIds lists 2 GPU(s) but nodes (3) x gpusPerNode (1) needs 3; set gpuSharing to true to share them between nodes round-robin, got ["0","1"]',
        ],
        ["port 0", { masterPort: 0 }, "masterPort", "masterPort must be a whole number from 1 to 65535, got 0"],
        ["port 65536", { masterPort: 65536 }, "masterPort", "masterPort must be a whole number from 1 to 65535, got 65536"],
        ["an empty image", { image: "" }, "image", 'image must be a non-empty string, got ""'],
        ["a blank image", { image: "  " }, "image", 'image must be a non-empty string, got "  "'],
        [
            "an unknown image mode",
            { imageMode: "ftp" },
            "imageMode",
            'imageMode must be one of "registry", "build", "local", got "ftp"',
        ],
        ["duplicate GPU ids", { gpuIds: ["0", "0"] }, "gpuIds", 'gpuIds must not list the same entry twice, got ["0","0"]'],
        ["GPU ids not strings", { gpuIds: [0, 1] }, "gpuIds", "gpuIds must be a list of non-empty strings, got [0,1]"],
        [
            "more processes than GPUs",
            { gpusPerNode: 1, procsPerNode: 2 },
            "procsPerNode",
            "procsPerNode must not exceed gpusPerNode (1): NCCL refuses two ranks on one GPU of a node, got 2",
        ],
        ["shm below 64 MB", { shmSizeMb: 16 }, "shmSizeMb", "shmSizeMb must be a whole number from 64 to 1048576, got 16"],
        ["retain not boolean", { retainCheckpoints: "yes" }, "retainCheckpoints", 'retainCheckpoints must be true or false, got "yes"'],
        [
            "bad env name",
            { env: { "A-B": "1" } },
            "env",
            'env must map variable names (letters, digits, _) to string values, got {"A-B":"1"}',
        ],
        [
            "a script flag that checkpointDirArg passes",
            { scriptArgs: ["--save-dir=/tmp"], checkpointDirArg: "--save-dir" },
            "scriptArgs",
            'scriptArgs must not set --save-dir ("--save-dir=/tmp"): checkpointDirArg passes it, got ["--save-dir=/tmp"]',
        ],
        [
            "a negative GPU id",
            { gpusPerNode: 1, gpuIds: ["0", "-1"] },
            "gpuIds",
            'gpuIds must list GPU indexes (0, 1, ...) or UUIDs (GPU-..., MIG-...), not "-1", got ["0","-1"]',
        ],
        [
            "an image reference Docker rejects",
            { image: "my image:latest" },
            "image",
            'image must be an image reference Docker accepts, like name, name:tag, registry/name:tag or name@sha256:digest, got "my image:latest"',
        ],
        [
            "an upper-case image name",
            { image: "Ddpsim:1" },
            "image",
            'image must be an image reference Docker accepts, like name, name:tag, registry/name:tag or name@sha256:digest, got "Ddpsim:1"',
        ],
        [
            "a system folder as code",
            { codeDir: "/etc" },
            "codeDir",
            'codeDir must not be inside the system folder /etc, which would hand the host\'s system files to every node (set allowSystemPaths to true if you mean it), got "/etc"',
        ],
        [
            "the host's root as a dataset",
            { datasetDir: "/" },
            "datasetDir",
            'datasetDir must not be the host\'s root folder /, which would hand the host\'s system files to every node (set allowSystemPaths to true if you mean it), got "/"',
        ],
        [
            "the Docker socket",
            { datasetDir: "/var/run/docker.sock" },
            "datasetDir",
            'datasetDir must not be the Docker socket /var/run/docker.sock, which would hand the host\'s system files to every node (set allowSystemPaths to true if you mean it), got "/var/run/docker.sock"',
        ],
        [
            "a user Docker would not read",
            { user: "ann smith" },
            "user",
            'user must be a user as Docker takes it: uid, uid:gid, name or name:group, got "ann smith"',
        ],
        [
            "a script that looks like a flag",
            { script: "--help" },
            "script",
            'script must be a file path, not a flag (torchrun flags go in torchrunArgs), got "--help"',
        ],
        [
            "a module with a path in it",
            { module: "pkg/train.py" },
            "module",
            'module must be a dotted Python module name (pkg.train), got "pkg/train.py"',
        ],
        [
            "a module and a script",
            { module: "pkg.train", script: "train.py" },
            "module",
            'module cannot be set together with script ("train.py"): torchrun starts one of them, got "pkg.train"',
        ],
        [
            "fail-fast exit codes out of range",
            { failFastExitCodes: [2, 256] },
            "failFastExitCodes",
            "failFastExitCodes must be a list of distinct whole numbers from 1 to 255, got [2,256]",
        ],
        [
            "a data flag without a dataset",
            { dataDirArg: "--data" },
            "dataDirArg",
            'dataDirArg needs a dataset to point at: set datasetDir or datasetVolume, got "--data"',
        ],
        [
            "a bad volume name",
            { checkpointVolumeName: "my volume" },
            "checkpointVolumeName",
            'checkpointVolumeName must be a Docker volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*), got "my volume"',
        ],
    ];
    for (const [title, raw, key, reason] of invalid) {
        it(`refuses ${title}`, () => {
            assert.deepStrictEqual(errorsOf(raw), [{ propertyPath: key, reason }]);
        });
    }

    it("reports every problem at once", () => {
        const errors = errorsOf({ nodes: 0, masterPort: -5, image: "" });
        assert.deepStrictEqual(
            errors.map((e) => e.propertyPath),
            ["nodes", "image", "masterPort"],
        );
    });
});

describe("allocateGpus", () => {
    const table: [number, number, string[] | undefined, string[][]][] = [
        [2, 1, undefined, [["0"], ["1"]]],
        [3, 2, undefined, [["0", "1"], ["2", "3"], ["4", "5"]]],
        [2, 1, ["3", "5"], [["3"], ["5"]]],
        [2, 2, ["GPU-a", "GPU-b", "GPU-c", "GPU-d", "GPU-e"], [["GPU-a", "GPU-b"], ["GPU-c", "GPU-d"]]],
        [2, 0, undefined, [[], []]],
    ];
    for (const [nodes, perNode, pool, expected] of table) {
        it(`${nodes} nodes x ${perNode} GPUs from ${JSON.stringify(pool)}`, () => {
            assert.deepStrictEqual(allocateGpus(nodes, perNode, pool), expected);
        });
    }
});

describe("names", () => {
    it("makes Docker names of anything", () => {
        assert.strictEqual(dockerName("my proj", "dev/alice", "ddp"), "my-proj-dev-alice-ddp");
        assert.strictEqual(dockerName("-x", "y"), "x-y");
    });
    it("makes host labels of at most 63 characters", () => {
        assert.strictEqual(hostLabel("My_Cluster", "node-0"), "my-cluster-node-0");
        const long = hostLabel("a".repeat(100), "node-12");
        assert.strictEqual(long.length, 63);
        assert.ok(long.endsWith("-node-12"));
    });
});

describe("planCluster", () => {
    it("plans the Compose topology: 2 nodes, 1 GPU each, master on 29500", () => {
        const plan = planCluster(specOf({ nodes: 2, gpusPerNode: 1, codeDir: "training" }), identity);
        assert.strictEqual(plan.masterEndpoint, "ddp-node-0:29500");
        assert.strictEqual(plan.checkpointVolumeName, `${PREFIX}-checkpoints`);
        assert.strictEqual(plan.networkNameBase, `${PREFIX}-net`);
        assert.deepStrictEqual(
            plan.nodes.map((n) => [n.rank, n.role, n.hostname, n.containerNameBase, n.gpuIds]),
            [
                [0, "master", "ddp-node-0", `${PREFIX}-node-0`, ["0"]],
                [1, "worker", "ddp-node-1", `${PREFIX}-node-1`, ["1"]],
            ],
        );
        const { config, torchrun } = splitNodeCommand(plan.nodes[1].command);
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
        assert.deepStrictEqual(plan.nodes[1].env, {
            PYTHONUNBUFFERED: "1",
            PYTHONDONTWRITEBYTECODE: "1",
            PYTHONPATH: "/code",
            NCCL_SOCKET_IFNAME: "eth0",
            GLOO_SOCKET_IFNAME: "eth0",
            TORCH_DISABLE_SHARE_RDZV_TCP_STORE: "1",
            DDPSIM_PROJECT: "ddpsim",
            DDPSIM_STACK: "dev",
            DDPSIM_CLUSTER: "ddp",
            DDPSIM_NODE: "ddp-node-1",
            DDPSIM_NODE_RANK: "1",
            DDPSIM_NODES: "2",
            DDPSIM_PROCS_PER_NODE: "1",
            DDPSIM_WORK_DIR: "/workspace",
            DDPSIM_CODE_DIR: "/code",
            DDPSIM_CHECKPOINT_DIR: "/checkpoints",
            DDPSIM_COLLECTIVE_TIMEOUT_SECONDS: "30",
            NODE_RANK: "1",
            NNODES: "2",
            MASTER_ADDR: "ddp-node-0",
            MASTER_PORT: "29500",
            PET_NNODES: "2",
            PET_NPROC_PER_NODE: "1",
            PET_NODE_RANK: "1",
            PET_MASTER_ADDR: "ddp-node-0",
            PET_MASTER_PORT: "29500",
        });
        assert.strictEqual(plan.runIdVariable, "DDPSIM_RUN_ID");
        assert.strictEqual(plan.nodes[0].workingDir, "/workspace");
        assert.deepStrictEqual(plan.nodes[0].mounts, [
            { type: "bind", source: "/home/user/project/training", target: "/code", readOnly: true },
            { type: "volume", source: `${PREFIX}-checkpoints`, target: "/workspace", readOnly: false },
            { type: "volume", source: `${PREFIX}-checkpoints`, target: "/checkpoints", readOnly: false },
        ]);
        assert.deepStrictEqual(plan.nodes[0].labels, {
            "ddpsim.owner": "ann",
            "ddpsim.project": "ddpsim",
            "ddpsim.stack": "dev",
            "ddpsim.cluster": "ddp",
            "ddpsim.rank": "0",
            "ddpsim.role": "master",
            "ddpsim.node": "ddp-node-0",
            "ddpsim.nodes": "2",
            "ddpsim.gpus": "0",
            "ddpsim.agent": agentLabel(),
        });
    });

    it("labels mount-mode nodes with the code's content hash when it was read", () => {
        const read = (raw: Record<string, unknown>) =>
            planCluster(resolveOrThrow(raw, { codeHash: () => "0123456789abcdef" }), identity).nodes[0].labels;
        assert.strictEqual(read({})["ddpsim.code"], "0123456789abcdef");
        assert.strictEqual(read({ codeMode: "image" })["ddpsim.code"], undefined, "the image's tag carries the code");
    });

    it("keeps bind-mount host paths out of the fingerprint (a moved checkout), and the code hash in it", () => {
        const fingerprint = (dir: string, hash: string) =>
            planFingerprint(planCluster(resolveOrThrow({ codeDir: dir }, { codeHash: () => hash }), identity));
        assert.strictEqual(fingerprint("/home/ann/ddpsim/training", "aa"), fingerprint("/ci/runner/ddpsim/training", "aa"));
        assert.notStrictEqual(fingerprint("/home/ann/ddpsim/training", "aa"), fingerprint("/home/ann/ddpsim/training", "bb"));
    });

    it("labels each node with its hostname, the node count and its GPU ids (comma-separated, empty on CPU)", () => {
        const labels = (raw: Record<string, unknown>) =>
            planCluster(specOf(raw), identity).nodes.map((n) => [n.labels["ddpsim.node"], n.labels["ddpsim.nodes"], n.labels["ddpsim.gpus"]]);
        assert.deepStrictEqual(labels({ nodes: 2, gpusPerNode: 2 }), [
            ["ddp-node-0", "2", "0,1"],
            ["ddp-node-1", "2", "2,3"],
        ]);
        assert.deepStrictEqual(labels({ nodes: 3, gpusPerNode: 0 }), [
            ["ddp-node-0", "3", ""],
            ["ddp-node-1", "3", ""],
            ["ddp-node-2", "3", ""],
        ]);
    });

    it("passes the script exactly its arguments; directories go in the environment, or as flags on request", () => {
        const plain = planCluster(specOf({ datasetDir: "/srv/data", scriptArgs: ["10", "5", "--batch_size", "32"] }), identity);
        assert.deepStrictEqual(splitNodeCommand(plain.nodes[0].command).torchrun.slice(-5), [
            "/code/train_ddp.py", "10", "5", "--batch_size", "32",
        ]);
        assert.strictEqual(plain.nodes[0].env.DDPSIM_DATA_DIR, "/data");

        const flags = planCluster(
            specOf({ datasetDir: "/srv/data", scriptArgs: ["10"], checkpointDirArg: "--save-dir", dataDirArg: "--data" }),
            identity,
        );
        assert.deepStrictEqual(splitNodeCommand(flags.nodes[1].command).torchrun.slice(-6), [
            "/code/train_ddp.py", "10", "--save-dir", "/checkpoints", "--data", "/data",
        ]);
    });

    it("starts a module with python -m, after the user's torchrun flags; the user's --rdzv-conf keys join ddpsim's", () => {
        const plan = planCluster(
            specOf({ module: "app.train", torchrunArgs: ["--rdzv-conf", "join_timeout=900", "--tee=3"], scriptArgs: ["--lr", "0.1"] }),
            identity,
        );
        assert.deepStrictEqual(splitNodeCommand(plan.nodes[0].command).torchrun.slice(13), [
            "--rdzv-conf", "keep_alive_interval=1,keep_alive_max_attempt=3,join_timeout=900", "--tee=3", "-m", "app.train", "--lr", "0.1",
        ]);
    });

    it("ships the launcher only to clusters with checkHooks", () => {
        assert.deepStrictEqual(planCluster(specOf({}), identity).nodes[0].files.map((f) => f.name), ["node_agent.py"]);
    });

    it("starts the script through ddpsim check's launcher with checkHooks, the script or module after it", () => {
        for (const [raw, target] of [[{ script: "train.py" }, ["--script", "/code/train.py"]], [{ module: "app.train" }, ["--module", "app.train"]]] as const) {
            const torchrun = splitNodeCommand(planCluster(specOf({ ...raw, checkHooks: true, scriptArgs: ["3"] }), identity).nodes[0].command).torchrun;
            const at = torchrun.indexOf("--no-python");
            assert.deepStrictEqual(torchrun.slice(at), ["--no-python", "python3", "-u", "/opt/ddpsim/check_launcher.py", ...target, "3"]);
            const files = planCluster(specOf({ ...raw, checkHooks: true }), identity).nodes[0].files.map((f) => f.target);
            assert.deepStrictEqual(files, ["/opt/ddpsim/node_agent.py", "/opt/ddpsim/check_launcher.py"]);
        }
    });

    it("names nodes so that torchrun's rendezvous order is the rank order (zero-padded past ten)", () => {
        const twelve = planCluster(specOf({ nodes: 12 }), identity);
        const hostnames = twelve.nodes.map((n) => n.hostname);
        assert.deepStrictEqual(hostnames.slice(0, 3), ["ddp-node-00", "ddp-node-01", "ddp-node-02"]);
        assert.strictEqual(hostnames[11], "ddp-node-11");
        assert.deepStrictEqual([...hostnames].sort(), hostnames, "sorted names are in rank order");
        assert.strictEqual(twelve.masterEndpoint, "ddp-node-00:29500");
        assert.deepStrictEqual(twelve.nodes.map((n) => n.labels["ddpsim.rank"]), hostnames.map((_, i) => String(i)));
        assert.strictEqual(twelve.nodes[11].env.NODE_RANK, "11");
        assert.strictEqual(planCluster(specOf({ nodes: 10 }), identity).nodes[9].hostname, "ddp-node-9");
        assert.strictEqual(planCluster(specOf({ nodes: 101 }), identity).nodes[7].hostname, "ddp-node-007");
    });

    it("mounts a dataset volume read-only instead of a folder", () => {
        const plan = planCluster(specOf({ datasetVolume: "imagenet-mini" }), identity);
        assert.deepStrictEqual(plan.nodes[1].mounts[3], {
            type: "volume",
            source: "imagenet-mini",
            target: "/data",
            readOnly: true,
        });
        assert.strictEqual(plan.nodes[1].env.DDPSIM_DATA_DIR, "/data");
        assert.deepStrictEqual(errorsOf({ datasetVolume: "v", datasetDir: "/d" }), [
            {
                propertyPath: "datasetVolume",
                reason: 'datasetVolume cannot be set together with datasetDir ("/d"): /data holds one of them, got "v"',
            },
        ]);
    });

    it("lets users override NCCL settings but never a node's identity", () => {
        const plan = planCluster(specOf({ env: { NCCL_SOCKET_IFNAME: "eth1", NODE_RANK: "7" } }), identity);
        assert.strictEqual(plan.nodes[1].env.NCCL_SOCKET_IFNAME, "eth1");
        assert.strictEqual(plan.nodes[1].env.NODE_RANK, "1");
    });

    it("health-checks the master's rendezvous port", () => {
        const plan = planCluster(specOf({ masterPort: 23456 }), identity);
        assert.deepStrictEqual(plan.masterHealthcheck.tests, [
            "CMD",
            "python3",
            "-c",
            'import socket; socket.create_connection(("127.0.0.1", 23456), timeout=2).close()',
        ]);
    });
});

describe("host folders, when the Docker host is this machine", () => {
    it("refuses a code or dataset folder that does not exist, and allows system folders only when asked", () => {
        const exists = (dir: string) => dir === "/srv/code" || dir === "/etc";
        const missing = resolveClusterSpec({ codeDir: "/srv/nope", datasetDir: "/srv/data" }, "/p", { pathExists: exists });
        assert.deepStrictEqual(missing.ok ? [] : missing.errors.map((e) => e.reason), [
            'codeDir must be a folder on the Docker host, and /srv/nope does not exist, got "/srv/nope"',
            'datasetDir must be a folder on the Docker host, and /srv/data does not exist, got "/srv/data"',
        ]);
        assert.ok(resolveClusterSpec({ codeDir: "/srv/code" }, "/p", { pathExists: exists }).ok);
        assert.ok(resolveClusterSpec({ codeDir: "/etc", allowSystemPaths: true }, "/p", { pathExists: exists }).ok);
    });
});
