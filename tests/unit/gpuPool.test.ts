import * as assert from "assert";
import { spawnSync } from "child_process";
import { busyGpuIds, hostCommands, HostCommands, probeLocalGpus } from "../../components/hostProbe";
import {
    allocateGpus,
    autoPoolIds,
    dockerSocketPath,
    gpuPoolProblem,
    isLocalDockerHost,
    localGpuPool,
    LocalGpuProbe,
    nvidiaRuntimeProblem,
    parseNvidiaSmiList,
    planCluster,
    resolveClusterSpec,
} from "../../components/plan";

const TWO_H100 = [
    "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-3f5a7c9e-1b2d-4e6f-8a9b-0c1d2e3f4a5b)",
    "GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9)",
    "",
].join("\n");

// MIG mode on GPU 0 (driver R470 and later), GPU 1 whole.
const A100_MIG = [
    "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-5d5ba0d6-d33d-2b2c-524d-9e3d8d2b8a77)",
    "  MIG 3g.20gb     Device  0: (UUID: MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f)",
    "  MIG 1g.5gb      Device  1: (UUID: MIG-cba663e8-9bed-5b25-b243-5985ef7c9beb)",
    "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0)",
].join("\n");

// Drivers before R470 named MIG devices after their GPU, GPU instance and compute instance.
const OLD_MIG = [
    "GPU 0: A100-SXM4-40GB (UUID: GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2)",
    "  MIG 1g.5gb Device 0: (UUID: MIG-GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2/7/0)",
].join("\n");

const WITH_NVIDIA = { Runtimes: { "io.containerd.runc.v2": { path: "runc" }, nvidia: { path: "nvidia-container-runtime" }, runc: { path: "runc" } } };
const WITHOUT_NVIDIA = { Runtimes: { "io.containerd.runc.v2": { path: "runc" }, runc: { path: "runc" } } };

describe("GPU allocation", () => {
    const table: [string, number, number, string[] | undefined, string[][]][] = [
        ["disjoint, default pool", 2, 1, undefined, [["0"], ["1"]]],
        ["disjoint, listed pool", 2, 2, ["GPU-a", "GPU-b", "GPU-c", "GPU-d"], [["GPU-a", "GPU-b"], ["GPU-c", "GPU-d"]]],
        ["4 nodes sharing one GPU", 4, 1, ["0"], [["0"], ["0"], ["0"], ["0"]]],
        ["3 nodes sharing 2 GPUs round-robin", 3, 1, ["0", "1"], [["0"], ["1"], ["0"]]],
        ["3 nodes x 2 GPUs from 3: never one GPU twice in a node", 3, 2, ["0", "1", "2"], [["0", "1"], ["2", "0"], ["1", "2"]]],
        ["CPU nodes", 3, 0, ["0"], [[], [], []]],
    ];
    for (const [title, nodes, perNode, pool, expected] of table) {
        it(title, () => {
            const got = allocateGpus(nodes, perNode, pool);
            assert.deepStrictEqual(got, expected);
            for (const ids of got) assert.strictEqual(new Set(ids).size, ids.length);
        });
    }

    it("refuses a pool too small unless sharing is on, naming needs, has and gpuSharing", () => {
        assert.strictEqual(
            gpuPoolProblem(4, 1, ["0"], false),
            "lists 1 GPU(s) but nodes (4) x gpusPerNode (1) needs 4; set gpuSharing to true to share them between nodes round-robin",
        );
        assert.strictEqual(gpuPoolProblem(4, 1, ["0"], true), undefined);
        assert.strictEqual(gpuPoolProblem(2, 2, ["0", "1", "2", "3"], false), undefined);
    });

    it("refuses a node that would hold one GPU twice, even with sharing", () => {
        assert.strictEqual(
            gpuPoolProblem(2, 2, ["0"], true),
            "lists 1 GPU(s), fewer than gpusPerNode (2): a node cannot use one GPU twice (NCCL refuses a GPU duplicated within a host)",
        );
    });
});

describe("GPU settings", () => {
    const fakeProbe = (probe: LocalGpuProbe) => {
        const calls: number[] = [];
        return { calls, options: { localGpus: () => (calls.push(1), probe) } };
    };
    function errorsOf(raw: Record<string, unknown>, options = {}) {
        const result = resolveClusterSpec(raw, "/p", options);
        return result.ok ? [] : result.errors.map((e) => `${e.propertyPath}: ${e.reason}`);
    }

    it("shares one GPU among 3 nodes with gpuSharing", () => {
        const result = resolveClusterSpec({ nodes: 3, gpusPerNode: 1, gpuIds: ["0"], gpuSharing: true }, "/p");
        assert.ok(result.ok);
        const plan = planCluster(result.spec, { owner: "ann", project: "p", stack: "s", cluster: "ddp" });
        assert.deepStrictEqual(
            plan.nodes.map((n) => n.gpuIds),
            [["0"], ["0"], ["0"]],
        );
    });

    const invalid: [string, Record<string, unknown>, string][] = [
        [
            "a pool too small without gpuSharing",
            { nodes: 3, gpusPerNode: 1, gpuIds: ["0"] },
            'gpuIds: gpuIds lists 1 GPU(s) but nodes (3) x gpusPerNode (1) needs 3; set gpuSharing to true to share them between nodes round-robin, got ["0"]',
        ],
        [
            "a node that would hold a GPU twice",
            { nodes: 2, gpusPerNode: 2, gpuIds: ["0"], gpuSharing: true },
            'gpuIds: gpuIds lists 1 GPU(s), fewer than gpusPerNode (2): a node cannot use one GPU twice (NCCL refuses a GPU duplicated within a host), got ["0"]',
        ],
        [
            "gpuSharing with no pool to share",
            { nodes: 2, gpusPerNode: 1, gpuSharing: true },
            'gpuSharing: gpuSharing needs gpuIds, the GPUs to share (or ["auto"] for this machine\'s), got true',
        ],
        ["gpuSharing not a boolean", { gpuSharing: "yes" }, 'gpuSharing: gpuSharing must be true or false, got "yes"'],
        [
            "auto mixed with ids",
            { gpusPerNode: 1, gpuIds: ["auto", "0"] },
            'gpuIds: gpuIds must be ["auto"] alone (this machine\'s GPUs) or a list of GPU ids, got ["auto","0"]',
        ],
        [
            "auto where the machine cannot be read",
            { gpusPerNode: 1, gpuIds: ["auto"] },
            'gpuIds: gpuIds is ["auto"] (this machine\'s GPUs), but this caller cannot read the machine\'s GPUs (the stack program and DdpCluster can), got ["auto"]',
        ],
    ];
    for (const [title, raw, message] of invalid) {
        it(`refuses ${title}`, () => {
            assert.deepStrictEqual(errorsOf(raw), [message]);
        });
    }

    it('reads this machine\'s GPUs for ["auto"] (and "auto"), only when GPUs are asked for', () => {
        const probe = fakeProbe({ ok: true, ids: ["0", "MIG-a", "MIG-b"] });
        for (const gpuIds of [["auto"], "auto"]) {
            const result = resolveClusterSpec({ nodes: 3, gpusPerNode: 1, gpuIds }, "/p", probe.options);
            assert.ok(result.ok);
            assert.deepStrictEqual(result.spec.gpuIds, ["0", "MIG-a", "MIG-b"]);
        }
        assert.strictEqual(probe.calls.length, 2);
        assert.ok(resolveClusterSpec({ nodes: 3, gpusPerNode: 0, gpuIds: ["auto"] }, "/p", probe.options).ok);
        assert.strictEqual(probe.calls.length, 2);
    });

    it('says what this machine has when ["auto"] is too small', () => {
        const probe = fakeProbe({ ok: true, ids: ["0"] });
        assert.deepStrictEqual(errorsOf({ nodes: 2, gpusPerNode: 1, gpuIds: ["auto"] }, probe.options), [
            'gpuIds: gpuIds is ["auto"], and this machine has 1 free GPU(s) (0) but nodes (2) x gpusPerNode (1) needs 2; ' +
                'set gpuSharing to true to share them between nodes round-robin, got ["auto"]',
        ]);
    });

    it('passes on why ["auto"] cannot be read', () => {
        const probe = fakeProbe({ ok: false, reason: "nvidia-smi is not installed on this machine" });
        assert.deepStrictEqual(errorsOf({ gpusPerNode: 1, gpuIds: ["auto"] }, probe.options), [
            'gpuIds: gpuIds is ["auto"] (this machine\'s GPUs), but nvidia-smi is not installed on this machine, got ["auto"]',
        ]);
    });
});

describe("nvidia-smi -L", () => {
    it("reads whole GPUs", () => {
        assert.deepStrictEqual(parseNvidiaSmiList(TWO_H100), [
            { index: 0, name: "NVIDIA H100 80GB HBM3", uuid: "GPU-3f5a7c9e-1b2d-4e6f-8a9b-0c1d2e3f4a5b", mig: [] },
            { index: 1, name: "NVIDIA H100 80GB HBM3", uuid: "GPU-9e8d7c6b-5a49-3827-1605-f4e3d2c1b0a9", mig: [] },
        ]);
        assert.deepStrictEqual(autoPoolIds(parseNvidiaSmiList(TWO_H100)), ["0", "1"]);
    });

    it("reads MIG instances under their GPU, and hands out instances instead of a GPU in MIG mode", () => {
        const gpus = parseNvidiaSmiList(A100_MIG);
        assert.deepStrictEqual(gpus[0].mig, [
            { profile: "3g.20gb", index: 0, uuid: "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f" },
            { profile: "1g.5gb", index: 1, uuid: "MIG-cba663e8-9bed-5b25-b243-5985ef7c9beb" },
        ]);
        assert.deepStrictEqual(autoPoolIds(gpus), [
            "MIG-c6d4f1ef-42e4-5de3-91c7-45d71c87eb3f",
            "MIG-cba663e8-9bed-5b25-b243-5985ef7c9beb",
            "1",
        ]);
    });

    it("reads the MIG names of drivers before R470", () => {
        assert.deepStrictEqual(autoPoolIds(parseNvidiaSmiList(OLD_MIG)), ["MIG-GPU-e91edf3b-b297-37c1-a2a7-7601c3238fa2/7/0"]);
    });

    it("ignores anything else, with Windows line ends too", () => {
        assert.deepStrictEqual(parseNvidiaSmiList("No devices found.\n"), []);
        assert.strictEqual(parseNvidiaSmiList(TWO_H100.replace(/\n/g, "\r\n")).length, 2);
    });

    it("makes a pool only when there are GPUs and the engine has the nvidia runtime", () => {
        assert.deepStrictEqual(localGpuPool(TWO_H100, WITH_NVIDIA), { ok: true, ids: ["0", "1"] });
        assert.deepStrictEqual(localGpuPool("No devices found.\n", WITH_NVIDIA), {
            ok: false,
            reason: '"nvidia-smi -L" lists no GPU on this machine (it says: No devices found.)',
        });
        assert.deepStrictEqual(localGpuPool(TWO_H100, WITHOUT_NVIDIA), {
            ok: false,
            reason:
                "docker info lists no nvidia runtime (runtimes: io.containerd.runc.v2, runc): install the NVIDIA " +
                'Container Toolkit, run "nvidia-ctk runtime configure --runtime=docker" and restart dockerd',
        });
        assert.match(nvidiaRuntimeProblem({})!, /runtimes: none/);
    });
});

describe("the Docker host and the machine probe", () => {
    const table: [string | undefined, boolean, string][] = [
        [undefined, true, "/var/run/docker.sock"],
        ["", true, "/var/run/docker.sock"],
        ["unix:///run/user/1000/docker.sock", true, "/run/user/1000/docker.sock"],
        ["tcp://10.0.0.5:2376", false, "/var/run/docker.sock"],
        ["ssh://me@gpu-box", false, "/var/run/docker.sock"],
    ];
    for (const [host, local, socket] of table) {
        it(`${JSON.stringify(host)} is ${local ? "" : "not "}this machine`, () => {
            assert.strictEqual(isLocalDockerHost(host), local);
            assert.strictEqual(dockerSocketPath(host), socket);
        });
    }

    const SELF = { owner: "ann", project: "ddpsim", stack: "dev", cluster: "ddp" };

    function commands(
        list: () => string,
        info: () => unknown,
        running: { Labels?: Record<string, string> }[] = [],
    ): HostCommands & { asked: string[] } {
        const asked: string[] = [];
        return {
            asked,
            nvidiaSmiList: () => (asked.push("nvidia-smi"), list()),
            dockerInfo: (socket) => (asked.push(`info ${socket}`), info()),
            runningGpuContainers: (socket) => (asked.push(`containers ${socket}`), running),
            imageInspect: () => ({}),
        };
    }

    it("leaves out GPUs that running ddpsim containers of other clusters hold, but not its own", () => {
        const labels = (owner: string, stack: string, gpus: string) => ({
            Labels: { "ddpsim.owner": owner, "ddpsim.project": "ddpsim", "ddpsim.stack": stack, "ddpsim.cluster": "ddp", "ddpsim.gpus": gpus },
        });
        const running = [labels("bob", "dev", "0,1"), labels("ann", "dev", "2"), labels("ann", "other", "3")];
        const fake = commands(() => TWO_H100.replace(/\n$/, "") + "\nGPU 2: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000002)\nGPU 3: NVIDIA H100 80GB HBM3 (UUID: GPU-00000000-0000-0000-0000-000000000003)\n", () => WITH_NVIDIA, running);
        assert.deepStrictEqual(probeLocalGpus("unix:///x.sock", SELF, fake), { ok: true, ids: ["2"], busy: ["0", "1", "3"] });
        assert.deepStrictEqual(busyGpuIds(running, SELF), ["0", "1", "3"]);
    });

    it("never reads this machine for a remote Docker host", () => {
        const fake = commands(() => TWO_H100, () => WITH_NVIDIA);
        assert.deepStrictEqual(probeLocalGpus("ssh://me@gpu-box", SELF, fake), {
            ok: false,
            reason: "the Docker host is ssh://me@gpu-box, not this machine: list that host's GPU ids (or UUIDs) instead",
        });
        assert.deepStrictEqual(fake.asked, []);
    });

    it("reads nvidia-smi, then the engine behind the socket", () => {
        const fake = commands(() => A100_MIG, () => WITH_NVIDIA);
        const probe = probeLocalGpus("unix:///x.sock", SELF, fake);
        assert.deepStrictEqual(probe, { ok: true, ids: autoPoolIds(parseNvidiaSmiList(A100_MIG)) });
        assert.deepStrictEqual(fake.asked, ["nvidia-smi", "info /x.sock", "containers /x.sock"]);
    });

    it("passes on the error of a reading", () => {
        const fake = commands(
            () => {
                throw new Error("nvidia-smi is not installed on this machine (it comes with the NVIDIA driver)");
            },
            () => WITH_NVIDIA,
        );
        assert.deepStrictEqual(probeLocalGpus(undefined, SELF, fake), {
            ok: false,
            reason: "nvidia-smi is not installed on this machine (it comes with the NVIDIA driver)",
        });
    });

    it("says plainly when this machine has no nvidia-smi", function () {
        if (spawnSync("nvidia-smi", ["-L"]).error === undefined) this.skip();
        assert.throws(() => hostCommands.nvidiaSmiList(), {
            message: "nvidia-smi is not installed on this machine (it comes with the NVIDIA driver)",
        });
    });
});

describe("a GPU cluster on a Docker host without the NVIDIA runtime", () => {
    it("is refused before anything is created, with the way to the CPU stack", () => {
        const noRuntime = () => nvidiaRuntimeProblem({ Runtimes: { runc: {} } });
        const result = resolveClusterSpec({ gpusPerNode: 1 }, "/p", { gpuRuntimeProblem: noRuntime });
        assert.deepStrictEqual(result.ok ? [] : result.errors.map((e) => e.reason), [
            "gpusPerNode asks for GPUs, but docker info lists no nvidia runtime (runtimes: runc): install the NVIDIA " +
                'Container Toolkit, run "nvidia-ctk runtime configure --runtime=docker" and restart dockerd; or train on ' +
                "CPU: set gpusPerNode to 0 (the cpu stack: STACK=cpu npm run up), got 1",
        ]);
        assert.ok(resolveClusterSpec({ gpusPerNode: 0 }, "/p", { gpuRuntimeProblem: noRuntime }).ok, "CPU clusters are fine");
        // gpuIds ["auto"] reads the same engine: the missing runtime is said once, under gpusPerNode
        const auto = resolveClusterSpec({ gpusPerNode: 1, gpuIds: ["auto"] }, "/p", {
            gpuRuntimeProblem: noRuntime,
            localGpus: () => ({ ok: false, reason: nvidiaRuntimeProblem({ Runtimes: { runc: {} } })! }),
        });
        assert.deepStrictEqual(auto.ok ? [] : auto.errors.map((e) => e.propertyPath), ["gpusPerNode"]);
    });
});
