import * as assert from "assert";
import { spawnSync } from "child_process";
import {
    INTERCONNECT_PRESET_NAMES,
    missingQdiscMessage,
    nodeCapabilities,
    planCluster,
    readStackConfig,
    resolveClusterSpec,
    resolveInterconnect,
    shapingConfig,
    shellJoin,
    shellQuote,
    tcCommands,
} from "../../components/plan";
import { DdpCluster, DdpClusterArgs } from "../../components";
import { splitNodeCommand } from "../support/nodeCommand";
import { useMocks, valueOf } from "../support/pulumiMocks";

const identity = { owner: "ann", project: "ddpsim", stack: "dev", cluster: "ddp" };
const ROOT_TBF = ["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "1:", "tbf"];
const CHILD_TBF = ["tc", "qdisc", "replace", "dev", "eth0", "parent", "1:1", "handle", "10:", "tbf"];
const ROOT_NETEM = ["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "1:", "netem"];

describe("interconnect profiles", () => {
    it("names the presets", () => {
        assert.deepStrictEqual(INTERCONNECT_PRESET_NAMES, [
            "ideal", "100mbit", "1gbe", "10gbe", "25gbe", "100gbe", "congested", "wan",
        ]);
    });

    const exact: [string, Parameters<typeof resolveInterconnect>, string[][]][] = [
        ["ideal", ["ideal", {}], []],
        ["100mbit", ["100mbit", {}], [[...ROOT_TBF, "rate", "100mbit", "burst", "100000", "latency", "50ms"]]],
        ["1gbe", ["1gbe", {}], [[...ROOT_TBF, "rate", "1000mbit", "burst", "1000000", "latency", "50ms"]]],
        ["10gbe", ["10gbe", {}], [[...ROOT_TBF, "rate", "10000mbit", "burst", "10000000", "latency", "50ms"]]],
        ["25gbe", ["25gbe", {}], [[...ROOT_TBF, "rate", "25000mbit", "burst", "25000000", "latency", "50ms"]]],
        ["100gbe", ["100gbe", {}], [[...ROOT_TBF, "rate", "100000mbit", "burst", "100000000", "latency", "50ms"]]],
        [
            "congested",
            ["congested", {}],
            [
                [...ROOT_NETEM, "limit", "1000", "delay", "1ms", "500us", "loss", "0.1%"],
                [...CHILD_TBF, "rate", "1000mbit", "burst", "1000000", "latency", "50ms"],
            ],
        ],
        [
            "wan",
            ["wan", {}],
            [
                [...ROOT_NETEM, "limit", "1000", "delay", "20ms", "2ms", "loss", "0.01%"],
                [...CHILD_TBF, "rate", "100mbit", "burst", "100000", "latency", "50ms"],
            ],
        ],
        [
            "ideal + 20 ms latency (netem's queue sized for 10 Gbit/s in flight)",
            ["ideal", { latencyMs: 20 }],
            [[...ROOT_NETEM, "limit", "33334", "delay", "20ms"]],
        ],
        ["ideal + 0.25 ms latency", ["ideal", { latencyMs: 0.25 }], [[...ROOT_NETEM, "limit", "1000", "delay", "250us"]]],
        ["ideal + loss only", ["ideal", { lossPercent: 1 }], [[...ROOT_NETEM, "limit", "1000", "loss", "1%"]]],
        [
            "a fractional rate, with the minimum burst",
            ["ideal", { bandwidthMbit: 1.5 }],
            [[...ROOT_TBF, "rate", "1500kbit", "burst", "32768", "latency", "50ms"]],
        ],
        [
            "congested with its latency, jitter and loss overridden to 0: bandwidth only",
            ["congested", { latencyMs: 0, jitterMs: 0, lossPercent: 0 }],
            [[...ROOT_TBF, "rate", "1000mbit", "burst", "1000000", "latency", "50ms"]],
        ],
        ["100mbit with its bandwidth overridden to 0: unshaped", ["100mbit", { bandwidthMbit: 0 }], []],
    ];
    for (const [title, [preset, overrides], commands] of exact) {
        it(`runs exactly these tc commands: ${title}`, () => {
            const plan = resolveInterconnect(preset, overrides);
            assert.deepStrictEqual(
                tcCommands(plan.link, "eth0").map((c) => c.argv),
                commands,
            );
            assert.strictEqual(plan.shaped, commands.length > 0);
        });
    }

    it("overrides replace the preset's fields one by one", () => {
        assert.deepStrictEqual(resolveInterconnect("wan", { bandwidthMbit: 50, lossPercent: 0 }), {
            preset: "wan",
            link: { bandwidthMbit: 50, latencyMs: 20, jitterMs: 2 },
            shaped: true,
        });
    });

    it("grants NET_ADMIN only to a shaped cluster, and drops what training never needs", () => {
        const files = ["CHOWN", "DAC_OVERRIDE", "FOWNER"];
        const drops = ["ALL"];
        assert.deepStrictEqual(nodeCapabilities(resolveInterconnect("ideal", {})), { adds: files, drops });
        assert.deepStrictEqual(nodeCapabilities(resolveInterconnect("ideal", {}), "1000"), { adds: [], drops });
        assert.deepStrictEqual(nodeCapabilities(resolveInterconnect("ideal", {}), "root"), { adds: files, drops });
        assert.deepStrictEqual(nodeCapabilities(resolveInterconnect("10gbe", {})), { adds: [...files, "NET_ADMIN", "SETPCAP", "SETUID", "SETGID"], drops });
        assert.deepStrictEqual(nodeCapabilities(resolveInterconnect("10gbe", {}), "ddp"), {
            adds: [...files, "NET_ADMIN", "SETPCAP", "SETUID", "SETGID"],
            drops,
        });
    });

    it("names the missing kernel feature and the settings that need it", () => {
        const plan = resolveInterconnect("congested", {});
        assert.strictEqual(
            missingQdiscMessage(plan, tcCommands(plan.link, "eth0")[0]),
            'ddpsim: interconnect "congested" needs the netem qdisc for linkLatencyMs=1, linkJitterMs=0.5, ' +
                "linkLossPercent=0.1, but the Docker host's kernel lacks it (module sch_netem, CONFIG_NET_SCH_NETEM); " +
                "not training unshaped. Use a kernel with sch_netem, or a profile without " +
                "linkLatencyMs/linkJitterMs/linkLossPercent.",
        );
    });
});

describe("shell quoting", () => {
    const table: [string, string][] = [
        ["torchrun", "torchrun"],
        ["--rdzv-endpoint", "--rdzv-endpoint"],
        ["ddp-node-0:29500", "ddp-node-0:29500"],
        ["0.1%", "0.1%"],
        ["/checkpoints", "/checkpoints"],
        ["", "''"],
        ["two words", "'two words'"],
        ["it's", "'it'\\''s'"],
        ["$HOME", "'$HOME'"],
        ["a\"b", "'a\"b'"],
        ["`id`", "'`id`'"],
        ["a;b", "'a;b'"],
        ["*", "'*'"],
        ["line\nbreak", "'line\nbreak'"],
    ];
    for (const [word, quoted] of table) {
        it(`quotes ${JSON.stringify(word)} as ${quoted}`, () => {
            assert.strictEqual(shellQuote(word), quoted);
        });
    }

    it("gives back the same words through a real sh", () => {
        const words = table.map(([w]) => w).concat(["'", "''", "\\", "$(id)", "~", "!x", "{a,b}"]);
        const shell = spawnSync("sh", ["-c", `for w in ${shellJoin(words)}; do printf '%s\\0' "$w"; done`], {
            encoding: "utf8",
        });
        assert.strictEqual(shell.status, 0, shell.stderr);
        assert.deepStrictEqual(shell.stdout.split("\0").slice(0, -1), words);
    });
});

describe("interconnect settings", () => {
    function errorsOf(raw: Record<string, unknown>) {
        const result = resolveClusterSpec(raw, "/p");
        return result.ok ? [] : result.errors.map((e) => e.reason);
    }

    it("defaults to the unshaped ideal profile", () => {
        const result = resolveClusterSpec({}, "/p");
        assert.ok(result.ok);
        assert.deepStrictEqual(result.spec.interconnect, { preset: "ideal", link: {}, shaped: false });
    });

    const invalid: [Record<string, unknown>, string][] = [
        [
            { interconnect: "infiniband" },
            'interconnect must be one of "ideal", "100mbit", "1gbe", "10gbe", "25gbe", "100gbe", "congested", "wan", got "infiniband"',
        ],
        [{ linkBandwidthMbit: 1.5 }, "linkBandwidthMbit must be a whole number from 0 to 10000000, got 1.5"],
        [{ linkBandwidthMbit: -100 }, "linkBandwidthMbit must be a whole number from 0 to 10000000, got -100"],
        [{ linkLatencyMs: -1 }, "linkLatencyMs must be a number from 0 to 60000, got -1"],
        [{ linkLatencyMs: "2ms" }, 'linkLatencyMs must be a number from 0 to 60000, got "2ms"'],
        [{ linkLossPercent: 101 }, "linkLossPercent must be a number from 0 to 100, got 101"],
        [{ linkJitterMs: 1 }, "linkJitterMs needs a latency to vary: set linkLatencyMs above 0, got 1"],
        [
            { interconnect: "wan", linkLatencyMs: 0 },
            'linkLatencyMs cannot be 0 while interconnect "wan" varies the latency by 2 ms: set linkJitterMs to 0 too, got 0',
        ],
    ];
    for (const [raw, reason] of invalid) {
        it(`refuses ${JSON.stringify(raw)}`, () => {
            assert.deepStrictEqual(errorsOf(raw), [reason]);
        });
    }

    it("hands every node's agent the shaping and grants NET_ADMIN when a profile shapes", () => {
        const result = resolveClusterSpec({ interconnect: "10gbe", linkLatencyMs: 0.5 }, "/p");
        assert.ok(result.ok);
        const plan = planCluster(result.spec, identity);
        for (const node of plan.nodes) {
            const { config, torchrun } = splitNodeCommand(node.command);
            assert.deepStrictEqual(config.shaping, shapingConfig(result.spec.interconnect, "eth0"));
            assert.strictEqual(node.user, "0:0", "tc needs root");
            assert.strictEqual(config.runAs, "@workspace", "then the training runs as the working directory's owner");
            assert.deepStrictEqual(torchrun.slice(0, 2), ["torchrun", "--nnodes"]);
            assert.deepStrictEqual(node.capabilities.adds, ["CHOWN", "DAC_OVERRIDE", "FOWNER", "NET_ADMIN", "SETPCAP", "SETUID", "SETGID"]);
        }
    });
});

describe("DdpCluster with an interconnect profile", () => {
    const CONTAINER = "docker:index/container:Container";

    async function containersOf(args: DdpClusterArgs) {
        const registered = await useMocks();
        const cluster = new DdpCluster("ddp", args);
        const info = await valueOf(cluster.interconnect);
        await valueOf(cluster.logsCommand);
        return { containers: registered.filter((r) => r.type === CONTAINER).map((r) => r.inputs), info };
    }

    it("declares unshaped nodes without NET_ADMIN, with the unneeded capabilities dropped", async () => {
        const { containers, info } = await containersOf({ nodes: 2 });
        for (const c of containers) {
            assert.deepStrictEqual(c.capabilities, { adds: ["CHOWN", "DAC_OVERRIDE", "FOWNER"], drops: ["ALL"] });
            assert.strictEqual(splitNodeCommand(c.command).config.shaping, undefined);
        }
        assert.deepStrictEqual(info, { profile: "ideal", description: "unshaped", link: {}, tcCommands: [] });
    });

    it("shapes every node before torchrun, grants NET_ADMIN and reports the tc commands", async () => {
        const { containers, info } = await containersOf({ nodes: 3, interconnect: "25gbe", linkLossPercent: 0.5 });
        assert.strictEqual(containers.length, 3);
        for (const c of containers) {
            assert.deepStrictEqual(c.capabilities, {
                adds: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "NET_ADMIN", "SETPCAP", "SETUID", "SETGID"],
                drops: ["ALL"],
            });
            assert.deepStrictEqual(
                splitNodeCommand(c.command).config.shaping?.commands.map((command) => command.argv),
                [
                    [...ROOT_NETEM, "limit", "1000", "loss", "0.5%"],
                    [...CHILD_TBF, "rate", "25000mbit", "burst", "25000000", "latency", "50ms"],
                ],
            );
        }
        assert.deepStrictEqual(info, {
            profile: "25gbe",
            description: "25000 Mbit/s, 0.5% loss",
            link: { bandwidthMbit: 25000, lossPercent: 0.5 },
            tcCommands: [
                [...ROOT_NETEM, "limit", "1000", "loss", "0.5%"],
                [...CHILD_TBF, "rate", "25000mbit", "burst", "25000000", "latency", "50ms"],
            ],
        });
    });

    it("reads the profile keys from stack config", () => {
        const raw: Record<string, string> = {
            interconnect: "wan",
            linkBandwidthMbit: "50",
            linkLatencyMs: "0.5",
            linkJitterMs: "0.1",
            linkLossPercent: "0.01",
            gpuSharing: "true",
            gpuIds: "auto",
        };
        const { args, errors } = readStackConfig((k) => raw[k], Object.keys(raw));
        assert.deepStrictEqual(errors, []);
        assert.deepStrictEqual(args, {
            interconnect: "wan",
            linkBandwidthMbit: 50,
            linkLatencyMs: 0.5,
            linkJitterMs: 0.1,
            linkLossPercent: 0.01,
            gpuSharing: true,
            gpuIds: "auto",
        });
    });
});
