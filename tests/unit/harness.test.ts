/**
 * The Docker stand-in's translations (tests/support/dockerHarness.ts) and its `pulumi destroy` order
 * (tests/support/standInState.ts), as pure functions: exact values, each taken from the Terraform docker provider's
 * source (internal/provider/resource_docker_container_funcs.go) or Pulumi's (resource/deploy/step_generator.go).
 * tests/real/standIn.test.ts compares the same behaviour with the real engine on Docker.
 */
import * as assert from "assert";
import { DdpCluster, DdpClusterArgs } from "../../components";
import {
    checkTranslated,
    containerConfig,
    deleteAction,
    durationNs,
    untranslatedInputs,
    UntranslatedInputError,
} from "../support/dockerHarness";
import { deleteSchedule, dependenciesOf, StateEntry } from "../support/standInState";
import { RegisteredResource, useMocks, valueOf } from "../support/pulumiMocks";

const CONTAINER = "docker:index/container:Container";

/** The smallest container input the translation needs, plus `extra`. */
const container = (extra: Record<string, any> = {}) => ({ name: "c", image: "img", ...extra });

describe("the Docker stand-in: translations", () => {
    describe("healthcheck durations, as time.ParseDuration and the schema's validateDurationGeq0 read them", () => {
        const cases: [string, number][] = [
            ["2s", 2e9],
            ["500ms", 5e8],
            ["1m30s", 90e9],
            ["1.5h", 5400e9],
            ["0", 0],
            ["0s", 0],
            ["250us", 250e3],
            ["250µs", 250e3],
            ["+3s", 3e9],
            [".5s", 5e8],
        ];
        for (const [text, ns] of cases) it(`${text} -> ${ns} ns`, () => assert.strictEqual(durationNs(text), ns));
        const refused: [string, RegExp][] = [
            ["5", /'5' is not a valid duration/],
            ["", /'' is not a valid duration/],
            ["2 s", /'2 s' is not a valid duration/],
            ["1d", /'1d' is not a valid duration/],
            ["-1s", /'-1s' duration must not be negative/],
        ];
        for (const [text, message] of refused) it(`refuses ${JSON.stringify(text)}`, () => assert.throws(() => durationNs(text), message));
    });

    it("translates a master node's inputs exactly (what components/dockerNode.ts declares)", () => {
        const inputs = {
            name: "ddpsim-x-node-0",
            image: "sha256:abc",
            hostname: "ddp-node-0",
            networksAdvanced: [{ name: "ddpsim-x-net", aliases: ["ddp-node-0"] }],
            envs: ["A=1", "DDPSIM_RUN_ID=0a1b"],
            command: ["ddpsim-node", "--", "torchrun"],
            workingDir: "/workspace",
            user: "1000:1000",
            mounts: [
                { type: "volume", source: "ddpsim-x-checkpoints", target: "/workspace", readOnly: false },
                { type: "bind", source: "/home/u/code", target: "/code", readOnly: true },
            ],
            shmSize: 2048,
            restart: "on-failure",
            maxRetryCount: 5,
            mustRun: false,
            stopSignal: "SIGTERM",
            stopTimeout: 30,
            destroyGraceSeconds: 30,
            labels: [{ label: "ddpsim.rank", value: "0" }],
            capabilities: { drops: ["ALL"] },
            securityOpts: ["no-new-privileges:true"],
            healthcheck: { tests: ["CMD", "true"], interval: "2s", timeout: "3s", startPeriod: "2s", retries: 60 },
        };
        assert.deepStrictEqual(containerConfig(inputs), {
            create: {
                name: "ddpsim-x-node-0",
                Image: "sha256:abc",
                Hostname: "ddp-node-0",
                StopSignal: "SIGTERM",
                StopTimeout: 30,
                Env: ["A=1", "DDPSIM_RUN_ID=0a1b"],
                Cmd: ["ddpsim-node", "--", "torchrun"],
                User: "1000:1000",
                WorkingDir: "/workspace",
                Labels: { "ddpsim.rank": "0" },
                Healthcheck: { Test: ["CMD", "true"], Interval: 2e9, Timeout: 3e9, StartPeriod: 2e9, Retries: 60 },
                HostConfig: {
                    NetworkMode: "bridge",
                    RestartPolicy: { Name: "on-failure", MaximumRetryCount: 5 },
                    Mounts: [
                        { Type: "volume", Target: "/workspace", Source: "ddpsim-x-checkpoints", ReadOnly: false },
                        { Type: "bind", Target: "/code", Source: "/home/u/code", ReadOnly: true },
                    ],
                    ShmSize: 2048 * 1024 * 1024,
                    CapDrop: ["ALL"],
                    SecurityOpt: ["no-new-privileges:true"],
                    Init: false,
                },
            },
            networks: [{ network: "ddpsim-x-net", aliases: ["ddp-node-0"] }],
        });
    });

    const field = (inputs: Record<string, any>, pick: (c: ReturnType<typeof containerConfig>) => unknown) => pick(containerConfig(container(inputs)));
    const cases: { what: string; inputs: Record<string, any>; pick: (c: ReturnType<typeof containerConfig>) => unknown; expected: unknown }[] = [
        {
            what: "deviceRequests (GPU nodes) -> DeviceRequests: the driver given, Count 0, ids, one capability set, no options",
            inputs: { deviceRequests: [{ driver: "nvidia", deviceIds: ["2", "3"], capabilities: ["gpu"] }] },
            pick: (c) => c.create.HostConfig!.DeviceRequests,
            expected: [{ Driver: "nvidia", Count: 0, DeviceIDs: ["2", "3"], Capabilities: [["gpu"]], Options: {} }],
        },
        {
            what: "a device request without a driver gets the schema's default, cdi",
            inputs: { deviceRequests: [{ deviceIds: ["nvidia.com/gpu=all"] }] },
            pick: (c) => c.create.HostConfig!.DeviceRequests,
            expected: [{ Driver: "cdi", Count: 0, DeviceIDs: ["nvidia.com/gpu=all"], Capabilities: [[]], Options: {} }],
        },
        { what: "no deviceRequests (CPU nodes): none", inputs: {}, pick: (c) => c.create.HostConfig!.DeviceRequests, expected: undefined },
        {
            what: 'restart "on-failure" with maxRetryCount',
            inputs: { restart: "on-failure", maxRetryCount: 3 },
            pick: (c) => c.create.HostConfig!.RestartPolicy,
            expected: { Name: "on-failure", MaximumRetryCount: 3 },
        },
        {
            what: 'restart "no" (restartRetries 0)',
            inputs: { restart: "no" },
            pick: (c) => c.create.HostConfig!.RestartPolicy,
            expected: { Name: "no", MaximumRetryCount: 0 },
        },
        {
            what: 'no restart: the schema\'s default "no"',
            inputs: {},
            pick: (c) => c.create.HostConfig!.RestartPolicy,
            expected: { Name: "no", MaximumRetryCount: 0 },
        },
        {
            what: "a retry count with another policy goes to Docker as given (Docker refuses it, as with the provider)",
            inputs: { restart: "always", maxRetryCount: 2 },
            pick: (c) => c.create.HostConfig!.RestartPolicy,
            expected: { Name: "always", MaximumRetryCount: 2 },
        },
        { what: "stopTimeout 0 is not sent (d.GetOk): Docker's 10 s applies", inputs: { stopTimeout: 0 }, pick: (c) => c.create.StopTimeout, expected: undefined },
        { what: "stopTimeout 7 is sent", inputs: { stopTimeout: 7 }, pick: (c) => c.create.StopTimeout, expected: 7 },
        { what: "user", inputs: { user: "0:0" }, pick: (c) => c.create.User, expected: "0:0" },
        { what: "no user: the image's", inputs: {}, pick: (c) => c.create.User, expected: undefined },
        {
            what: "capabilities as the Docker Go client sends them: CAP_ prefix, upper case, no repeats, sorted",
            inputs: { capabilities: { adds: ["SETPCAP", "net_admin", "CAP_NET_ADMIN"], drops: ["ALL"] } },
            pick: (c) => [c.create.HostConfig!.CapAdd, c.create.HostConfig!.CapDrop],
            expected: [["CAP_NET_ADMIN", "CAP_SETPCAP"], ["ALL"]],
        },
        {
            what: "capabilities with drops only: no CapAdd (null, not [])",
            inputs: { capabilities: { drops: ["ALL"] } },
            pick: (c) => [c.create.HostConfig!.CapAdd, c.create.HostConfig!.CapDrop],
            expected: [undefined, ["ALL"]],
        },
        {
            what: "no capabilities block: Docker's defaults",
            inputs: {},
            pick: (c) => [c.create.HostConfig!.CapAdd, c.create.HostConfig!.CapDrop],
            expected: [undefined, undefined],
        },
        {
            what: "securityOpts -> SecurityOpt",
            inputs: { securityOpts: ["no-new-privileges:true"] },
            pick: (c) => [c.create.HostConfig!.SecurityOpt, c.create.HostConfig!.MaskedPaths],
            expected: [["no-new-privileges:true"], undefined],
        },
        {
            what: "systempaths=unconfined -> empty masked and read-only paths (parseSystemPaths)",
            inputs: { securityOpts: ["systempaths=unconfined", "no-new-privileges:true"] },
            pick: (c) => [c.create.HostConfig!.SecurityOpt, c.create.HostConfig!.MaskedPaths, c.create.HostConfig!.ReadonlyPaths],
            expected: [["no-new-privileges:true"], [], []],
        },
        { what: "shmSize in MB", inputs: { shmSize: 256 }, pick: (c) => c.create.HostConfig!.ShmSize, expected: 256 * 1024 * 1024 },
        { what: "shmSize 0: Docker's default", inputs: { shmSize: 0 }, pick: (c) => c.create.HostConfig!.ShmSize, expected: undefined },
        {
            what: "healthcheck with only tests: the schema's 0s and 0 retries",
            inputs: { healthcheck: { tests: ["CMD", "true"] } },
            pick: (c) => c.create.Healthcheck,
            expected: { Test: ["CMD", "true"], Interval: 0, Timeout: 0, StartPeriod: 0, Retries: 0 },
        },
        { what: "no healthcheck: the image's", inputs: {}, pick: (c) => c.create.Healthcheck, expected: undefined },
        {
            what: "created on the default bridge, moved to networksAdvanced afterwards",
            inputs: { networksAdvanced: [{ name: "n1" }, { name: "n2", aliases: ["a"] }] },
            pick: (c) => [c.create.HostConfig!.NetworkMode, c.networks],
            expected: ["bridge", [{ network: "n1", aliases: [] }, { network: "n2", aliases: ["a"] }]],
        },
        { what: "init false, as the provider always sends it", inputs: {}, pick: (c) => c.create.HostConfig!.Init, expected: false },
        { what: "mustRun has no effect on the create", inputs: { mustRun: true }, pick: (c) => c, expected: containerConfig(container()) },
    ];
    for (const c of cases) it(c.what, () => assert.deepStrictEqual(field(c.inputs, c.pick), c.expected));

    it('refuses a command with an empty value, with the provider\'s message', () => {
        assert.throws(() => containerConfig(container({ command: ["python", ""] })), /^Error: values for command may not be empty$/);
    });

    it("refuses an env name given twice (the provider's set order, not the input order, would decide)", () => {
        assert.throws(() => containerConfig(container({ envs: ["A=1", "B=2", "A=3"] })), /envs name A more than once/);
    });

    describe("every input it does not translate fails by name, at any depth", () => {
        const untranslated: [string, string, Record<string, any>, string[]][] = [
            ["top level: wait (the component no longer sets it)", CONTAINER, container({ wait: true, waitTimeout: 60 }), ["wait", "waitTimeout"]],
            ["top level: gpus and entrypoints", CONTAINER, container({ gpus: "all", entrypoints: ["sh"] }), ["gpus", "entrypoints"]],
            ["healthcheck.startInterval", CONTAINER, container({ healthcheck: { tests: ["CMD", "true"], startInterval: "1s" } }), ["healthcheck.startInterval"]],
            [
                "mounts[].bindOptions and mounts[].volumeOptions",
                CONTAINER,
                container({
                    mounts: [
                        { type: "bind", source: "/a", target: "/a", bindOptions: { propagation: "rshared" } },
                        { type: "volume", source: "v", target: "/v", volumeOptions: { noCopy: true } },
                    ],
                }),
                ["mounts[0].bindOptions", "mounts[1].volumeOptions"],
            ],
            ["networksAdvanced[].ipv4Address", CONTAINER, container({ networksAdvanced: [{ name: "n", ipv4Address: "10.0.0.2" }] }), ["networksAdvanced[0].ipv4Address"]],
            [
                "deviceRequests[].count and options",
                CONTAINER,
                container({ deviceRequests: [{ driver: "nvidia", count: -1, options: { a: "b" } }] }),
                ["deviceRequests[0].count", "deviceRequests[0].options"],
            ],
            ["capabilities.add (the provider's Terraform name)", CONTAINER, container({ capabilities: { add: ["X"] } }), ["capabilities.add"]],
            ["labels[].extra", CONTAINER, container({ labels: [{ label: "a", value: "b", extra: 1 }] }), ["labels[0].extra"]],
            [
                "RemoteImage build.platform and build.target",
                "docker:index/remoteImage:RemoteImage",
                { name: "i", build: { context: ".", platform: "linux/arm64", target: "x" } },
                ["build.platform", "build.target"],
            ],
            ["Network ipamConfigs", "docker:index/network:Network", { name: "n", ipamConfigs: [{ subnet: "10.0.0.0/24" }] }, ["ipamConfigs"]],
            ["Volume driver", "docker:index/volume:Volume", { name: "v", driver: "local" }, ["driver"]],
            ["RandomString minSpecial", "random:index/randomString:RandomString", { length: 6, minSpecial: 1 }, ["minSpecial"]],
        ];
        for (const [what, type, inputs, paths] of untranslated) {
            it(what, () => {
                assert.deepStrictEqual(untranslatedInputs(type, inputs), paths);
                assert.throws(
                    () => checkTranslated(type, inputs),
                    (err: Error) =>
                        err instanceof UntranslatedInputError &&
                        err.message === `the Docker stand-in does not translate ${type} input(s): ${paths.join(", ")}`,
                );
            });
        }
        it("an unknown resource type fails by its type", () => {
            assert.throws(() => checkTranslated("docker:index/service:Service", {}), /^Error: the Docker stand-in cannot create a docker:index\/service:Service$/);
        });
        it("undefined inputs (not set) are not reported", () => {
            assert.deepStrictEqual(untranslatedInputs(CONTAINER, container({ wait: undefined, healthcheck: { tests: ["x"], startInterval: undefined } })), []);
        });
    });

    describe("what the component declares is all translated", () => {
        const programs: [string, DdpClusterArgs][] = [
            ["CPU, 2 nodes, defaults", { nodes: 2, gpusPerNode: 0, imageMode: "local", image: "ddpsim-cpu:latest" }],
            ["GPU nodes", { nodes: 2, gpusPerNode: 1, gpuIds: ["2", "3"], imageMode: "local", image: "ddpsim-train:dev" }],
            [
                "shaped link, a user, no restarts, stop grace 0",
                { nodes: 3, gpusPerNode: 0, imageMode: "local", image: "img", interconnect: "1gbe", user: "1000:1000", restartRetries: 0, stopGraceSeconds: 0 },
            ],
            ["registry image", { nodes: 2, gpusPerNode: 0, imageMode: "registry", image: "ghcr.io/x/y:1" }],
        ];
        for (const [what, args] of programs) {
            it(what, async () => {
                const registered: RegisteredResource[] = await useMocks();
                const cluster = new DdpCluster("ddp", args);
                await valueOf(cluster.logsCommand);
                await valueOf(cluster.checkpointVolumeName);
                const custom = registered.filter((r) => !r.type.startsWith("ddpsim:"));
                assert.ok(custom.some((r) => r.type === CONTAINER));
                for (const r of custom) {
                    assert.deepStrictEqual(untranslatedInputs(r.type, r.inputs), [], `${r.type} ${r.name}`);
                    if (r.type === CONTAINER) containerConfig(r.inputs);
                }
                const nodes = custom.filter((r) => r.type === CONTAINER);
                if (args.gpuIds !== undefined) {
                    assert.deepStrictEqual(
                        nodes.map((n) => containerConfig(n.inputs).create.HostConfig!.DeviceRequests),
                        args.gpuIds.map((id) => [{ Driver: "nvidia", Count: 0, DeviceIDs: [id], Capabilities: [["gpu"]], Options: {} }]),
                    );
                }
                if (args.stopGraceSeconds === 0) {
                    assert.deepStrictEqual(nodes.map((n) => containerConfig(n.inputs).create.StopTimeout), nodes.map(() => undefined));
                    assert.deepStrictEqual(nodes.map((n) => deleteAction({ ...n, custom: true, retainOnDelete: false })), nodes.map(() => ({ kind: "container", stopSeconds: 0, removeVolumes: true })));
                }
                if (args.restartRetries === 0) {
                    assert.deepStrictEqual(nodes.map((n) => containerConfig(n.inputs).create.HostConfig!.RestartPolicy), nodes.map(() => ({ Name: "no", MaximumRetryCount: 0 })));
                }
            });
        }
    });
});

/** A state entry for the schedule tests: `deps` and `parent` by name. */
function entry(name: string, type: string, parent: string, deps: string[] = [], extra: Partial<StateEntry> = {}): StateEntry {
    const urn = (n: string) => (n === "" ? "" : `urn:${n}`);
    return {
        urn: urn(name),
        type,
        name,
        id: type.startsWith("ddpsim:") || type.startsWith("pulumi:pulumi") ? "" : `${name}-id`,
        custom: !(type.startsWith("ddpsim:") || type.startsWith("pulumi:pulumi")),
        parent: urn(parent),
        dependencies: deps.map(urn),
        deletedWith: "",
        retainOnDelete: false,
        inputs: {},
        ...extra,
    };
}

/** The state the stand-in records for a 3-node CPU cluster (registration order, dependencies as the program sends them). */
function clusterState(): StateEntry[] {
    return [
        entry("stack", "pulumi:pulumi:Stack", ""),
        entry("ddp", "ddpsim:index:DdpCluster", "stack"),
        entry("ddp-run", "random:index/randomId:RandomId", "ddp"),
        entry("ddp-suffix", "random:index/randomString:RandomString", "ddp"),
        entry("ddp-checkpoints", "docker:index/volume:Volume", "ddp", [], { retainOnDelete: true }),
        entry("ddp-network", "docker:index/network:Network", "ddp", ["ddp-suffix"]),
        entry("ddp-node-0", CONTAINER, "ddp", ["ddp-checkpoints", "ddp-run", "ddp-suffix", "ddp-network"], { inputs: { destroyGraceSeconds: 60 } }),
        entry("ddp-node-1", CONTAINER, "ddp", ["ddp-node-0", "ddp-run", "ddp-suffix", "ddp-network"], { inputs: { destroyGraceSeconds: 60 } }),
        entry("ddp-node-2", CONTAINER, "ddp", ["ddp-node-0", "ddp-run", "ddp-suffix", "ddp-network"], { inputs: { destroyGraceSeconds: 60 } }),
    ];
}

describe("the Docker stand-in: pulumi destroy", () => {
    it("deletes in the engine's antichains: the workers together, then the master, then the network, then the rest", () => {
        const names = deleteSchedule(clusterState()).map((chain) => chain.map((e) => e.name));
        assert.deepStrictEqual(names, [
            ["ddp-node-1", "ddp-node-2"],
            ["ddp-node-0"],
            ["ddp-network"],
            ["ddp-run", "ddp-suffix", "ddp-checkpoints"],
            ["ddp"],
            ["stack"],
        ]);
    });

    it("a resource depends on its parent, its dependencies and what it is deletedWith", () => {
        const state = [...clusterState(), entry("extra", CONTAINER, "ddp", [], { deletedWith: "urn:ddp-network" })];
        assert.deepStrictEqual(dependenciesOf(state, state[state.length - 1]).map((e) => e.name).sort(), ["ddp", "ddp-network"]);
        // Antichains come from the bottom (what depends on nothing goes last): "extra" sits as high as the master.
        assert.deepStrictEqual(deleteSchedule(state).slice(0, 2).map((chain) => chain.map((e) => e.name)), [["ddp-node-1", "ddp-node-2"], ["ddp-node-0", "extra"]]);
    });

    it("depending on a component means depending on its children registered before (DependencyGraph.DependenciesOf)", () => {
        const state = [...clusterState(), entry("after", CONTAINER, "stack", ["ddp"])];
        assert.deepStrictEqual(
            dependenciesOf(state, state[state.length - 1]).map((e) => e.name).sort(),
            ["ddp", "ddp-checkpoints", "ddp-network", "ddp-node-0", "ddp-node-1", "ddp-node-2", "ddp-run", "ddp-suffix", "stack"],
        );
        assert.deepStrictEqual(deleteSchedule(state)[0].map((e) => e.name), ["after"]);
    });

    const actions: [string, Partial<StateEntry>, unknown][] = [
        ["a container: stopped with destroyGraceSeconds, removed with its anonymous volumes", { type: CONTAINER, inputs: { destroyGraceSeconds: 30 } }, { kind: "container", stopSeconds: 30, removeVolumes: true }],
        ["a container with destroyGraceSeconds 0: stop timeout 0", { type: CONTAINER, inputs: { destroyGraceSeconds: 0 } }, { kind: "container", stopSeconds: 0, removeVolumes: true }],
        ["a container without destroyGraceSeconds: stop timeout 0", { type: CONTAINER, inputs: {} }, { kind: "container", stopSeconds: 0, removeVolumes: true }],
        ["a retained volume: forgotten", { type: "docker:index/volume:Volume", retainOnDelete: true }, { kind: "retain" }],
        ["a volume: removed", { type: "docker:index/volume:Volume" }, { kind: "volume" }],
        ["a network: removed", { type: "docker:index/network:Network" }, { kind: "network" }],
        ["a RemoteImage kept locally: stays", { type: "docker:index/remoteImage:RemoteImage", inputs: { name: "i:1", keepLocally: true } }, { kind: "nothing", why: "keepLocally" }],
        ["a RemoteImage not kept locally: removed by name", { type: "docker:index/remoteImage:RemoteImage", inputs: { name: "i:1" } }, { kind: "image", name: "i:1" }],
        ["a random value: only in the state", { type: "random:index/randomId:RandomId" }, { kind: "nothing", why: "random values live only in the state" }],
        ["a component: nothing", { type: "ddpsim:index:DdpCluster", custom: false }, { kind: "nothing", why: "a component" }],
    ];
    for (const [what, e, expected] of actions) {
        it(what, () => assert.deepStrictEqual(deleteAction({ custom: true, retainOnDelete: false, inputs: {}, type: "", ...e }), expected));
    }
});
