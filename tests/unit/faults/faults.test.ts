/** The pure parts of faults and chaos: options, scenarios, records, the tar reader, the analysis and the report. */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hasNetAdmin } from "../../../cli/sources/docker/faults/dockerOps";
import {
    analyse,
    checkFaultSpec,
    checkParameters,
    CliError,
    FaultEvent,
    FaultRecord,
    FaultStore,
    firstFileOfTar,
    LogLine,
    MetricsLine,
    parseMetrics,
    parseScenario,
    reconnectScript,
    recordFile,
    reportText,
    stateDir,
    timelineOf,
} from "../../../cli";

function throwsCli(fn: () => unknown, message: string | RegExp): void {
    assert.throws(fn, (err: unknown) => {
        assert.ok(err instanceof CliError, String(err));
        if (typeof message === "string") assert.strictEqual(err.message, message);
        else assert.match(err.message, message);
        return true;
    });
}

describe("fault options (checkFaultSpec)", () => {
    it("takes each kind with its own options and defaults", () => {
        assert.deepStrictEqual(checkFaultSpec("crash", {}), { kind: "crash" });
        assert.deepStrictEqual(checkFaultSpec("hang", { for: 20 }), { kind: "hang", forSeconds: 20 });
        assert.deepStrictEqual(checkFaultSpec("slow", {}), { kind: "slow", cpus: 0.2 });
        assert.deepStrictEqual(checkFaultSpec("slow", { cpus: 0.5, for: 3 }), { kind: "slow", forSeconds: 3, cpus: 0.5 });
        assert.deepStrictEqual(checkFaultSpec("degrade", { bandwidth: 100 }), { kind: "degrade", link: { bandwidthMbit: 100 } });
        assert.deepStrictEqual(checkFaultSpec("degrade", { latency: 5, jitter: 1, loss: 0.5 }), {
            kind: "degrade",
            link: { latencyMs: 5, jitterMs: 1, lossPercent: 0.5 },
        });
    });

    it("refuses what does not fit, in one line naming the flag", () => {
        throwsCli(() => checkFaultSpec("explode", {}), 'unknown fault kind "explode"; kinds: crash, lose, hang, partition, slow, degrade');
        throwsCli(() => checkFaultSpec("crash", { for: 5 }), "crash is instant (the restart policy brings the node back): it takes no --for");
        throwsCli(() => checkFaultSpec("hang", { cpus: 1 }), "--cpus only goes with slow, not hang");
        throwsCli(() => checkFaultSpec("slow", { bandwidth: 10 }), "--bandwidth only go with degrade, not slow");
        throwsCli(() => checkFaultSpec("slow", { cpus: 0.001 }), "--cpus must be at least 0.01 (Docker's smallest quota), got 0.001");
        throwsCli(() => checkFaultSpec("degrade", {}), /^degrade needs the new link: --bandwidth MBIT/);
        throwsCli(() => checkFaultSpec("degrade", { jitter: 2 }), "--jitter needs a --latency to vary");
        throwsCli(() => checkFaultSpec("degrade", { loss: 120 }), "--loss must be a number above 0 and at most 100, got 120");
        throwsCli(() => checkFaultSpec("lose", { for: 0 }), "--for must be a duration above 0");
    });
});

describe("chaos scenarios (parseScenario)", () => {
    it("reads faults at a time or a step, with durations in any spelling", () => {
        const scenario = parseScenario(
            ["timeout: 5m", "faults:", "  - {at: 20s, kind: crash, node: 1}", "  - {step: 30, kind: hang, node: ddp-node-1, for: 15}", "  - {at: 1m30s, kind: slow, node: 0, for: 10s, cpus: 0.3}"].join("\n"),
        );
        assert.deepStrictEqual(scenario, {
            timeoutSeconds: 300,
            faults: [
                { index: 1, node: "1", atSeconds: 20, spec: { kind: "crash" } },
                { index: 2, node: "ddp-node-1", atStep: 30, spec: { kind: "hang", forSeconds: 15 } },
                { index: 3, node: "0", atSeconds: 90, spec: { kind: "slow", forSeconds: 10, cpus: 0.3 } },
            ],
        });
    });

    it("refuses a bad scenario whole, naming the fault and the field", () => {
        const bad = (yaml: string, message: string | RegExp) => throwsCli(() => parseScenario(yaml, "s.yaml"), message);
        bad("faults: [", /^s\.yaml is not valid YAML: /);
        bad("faults: []", 's.yaml needs a non-empty list "faults"');
        bad("faults: [{at: 1, kind: crash, node: 1}]\nspeed: 2", "s.yaml: unknown field(s) speed; fields: faults, timeout");
        bad("faults: [{kind: crash, node: 1}]", "s.yaml: fault 1 (crash): needs exactly one of at (a time) and step (a training step)");
        bad("faults: [{at: 1, step: 2, kind: crash, node: 1}]", "s.yaml: fault 1 (crash): needs exactly one of at (a time) and step (a training step)");
        bad("faults: [{at: 1, kind: hang, node: 1}]", /^s\.yaml: fault 1 \(hang\): needs for \(a duration\)/);
        bad("faults: [{at: 1, kind: hang, node: 1, for: soon}]", /^s\.yaml: fault 1 \(hang\): for must be a duration/);
        bad("faults: [{at: 1, kind: melt, node: 1}]", /^s\.yaml: fault 1 \(melt\): unknown fault kind "melt"/);
        bad("faults: [{at: 1, kind: crash}]", "s.yaml: fault 1 (crash): needs a node (a rank or a host name)");
        bad("faults: [{step: 0, kind: crash, node: 1}]", "s.yaml: fault 1 (crash): step must be a whole number of at least 1, got 0");
        bad("faults: [{at: 1, kind: crash, node: 1, colour: red}]", /^s\.yaml: fault 1 \(crash\): unknown field\(s\) colour/);
    });
});

describe("fault records (FaultStore)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-faults-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const ref = { owner: "ann", project: "ddpsim", stack: "dev/x", cluster: "ddp" };
    const record = (id: string): FaultRecord => ({
        id,
        kind: "hang",
        node: "ddp-node-1",
        rank: 1,
        containerId: "c1",
        containerName: "n1",
        startedAt: "2026-01-01T00:00:00.000Z",
        what: "paused",
        undo: { kind: "hang" },
    });

    it("lives in the XDG state folder, one file per cluster, overridable with DDPSIM_STATE_DIR", () => {
        assert.strictEqual(stateDir({ DDPSIM_STATE_DIR: "/s" }), "/s");
        assert.strictEqual(stateDir({ XDG_STATE_HOME: "/x" }), "/x/ddpsim");
        assert.strictEqual(stateDir({}), path.join(os.homedir(), ".local", "state", "ddpsim"));
        assert.strictEqual(recordFile(ref, { DDPSIM_STATE_DIR: "/s" }), "/s/faults/ann.ddpsim.dev_x.ddp.json");
    });

    it("adds and removes records atomically, and deletes the file when none is left", () => {
        const store = new FaultStore(path.join(dir, "faults", "c.json"));
        assert.deepStrictEqual(store.list(), []);
        store.add(record("a"));
        store.add(record("b"));
        assert.deepStrictEqual(store.list().map((r) => r.id), ["a", "b"]);
        store.remove("a");
        assert.deepStrictEqual(store.list().map((r) => r.id), ["b"]);
        store.remove("b");
        assert.strictEqual(fs.existsSync(store.file), false);
        assert.deepStrictEqual(fs.readdirSync(path.join(dir, "faults")), [], "no lock or temporary file left");
    });

    it("says which file is broken instead of guessing", () => {
        const file = path.join(dir, "c.json");
        fs.writeFileSync(file, "{nope");
        throwsCli(() => new FaultStore(file).list(), `the fault records ${file} are not valid JSON: fix or delete the file`);
    });
});

describe("partition heal: the reconnect script", () => {
    it("renames whatever interface Docker made back to eth0, restores the default route, applies the profile again", () => {
        const script = reconnectScript("192.168.64.1", [["tc", "qdisc", "replace", "dev", "eth0", "root", "handle", "1:", "tbf", "rate", "1000mbit"]]);
        assert.match(script, /ip link set dev "\$dev" name eth0/);
        assert.match(script, /ip route replace default via 192\.168\.64\.1 dev eth0/);
        assert.match(script, /\ntc qdisc replace dev eth0 root handle 1: tbf rate 1000mbit$/);
    });
});

describe("metrics.jsonl through Docker's archive API", () => {
    it("reads the first file of a tar, skipping a pax header", () => {
        const header = (name: string, size: number, type: string) => {
            const h = Buffer.alloc(512);
            h.write(name, 0);
            h.write(size.toString(8).padStart(11, "0"), 124);
            h.write(type, 156);
            return h;
        };
        const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
        const pax = Buffer.from("30 mtime=1795855997.539123456\n");
        const body = Buffer.from('{"step": 1, "time": 10.5, "attempt": 1}\n{"step": 2, "time": 11.5}\n{"step": 3');
        const tar = Buffer.concat([header("pax", pax.length, "x"), pad(pax), header("metrics.jsonl", body.length, "0"), pad(body), Buffer.alloc(1024)]);
        const file = firstFileOfTar(tar)!;
        assert.strictEqual(file.toString(), body.toString());
        assert.deepStrictEqual(parseMetrics(file.toString()), [
            { step: 1, time: 10.5, attempt: 1 },
            { step: 2, time: 11.5 },
        ]);
    });
});

/** A log line at unix second `sec`. */
function line(node: string, sec: number, text: string): LogLine {
    return { node, rank: node === "ddp-node-0" ? 0 : 1, stream: "stderr", timestamp: "", sec, nanos: 0, text };
}

describe("the chaos analysis", () => {
    // Steps 1..10 of attempt A (one per second from t=100), a hang at t=110.5 for 20 s (timeout after 15 s), a new
    // attempt B from the checkpoint of step 5 at t=140 at world size 2; then slow 150..160, training goes on.
    const metrics: MetricsLine[] = [
        ...Array.from({ length: 10 }, (_, i) => ({ step: i + 1, time: 101 + i, attempt: 100, world_size: 2 })),
        ...Array.from({ length: 30 }, (_, i) => ({ step: 6 + i, time: 140 + i, attempt: 139, world_size: 2 })),
    ];
    const faults: FaultEvent[] = [
        { index: 1, kind: "hang", node: "ddp-node-1", rank: 1, trigger: "step 10", startMs: 110_500, endMs: 130_500 },
        { index: 2, kind: "slow", node: "ddp-node-0", rank: 0, trigger: "at 50s", startMs: 150_200, endMs: 160_200 },
        { index: 3, kind: "degrade", node: "ddp-node-1", rank: 1, trigger: "at 60s", error: "no NET_ADMIN" },
    ];
    const logs = [
        line("ddp-node-0", 105, "[ddpsim] step 5/30"),
        line("ddp-node-0", 125, "[rank 0/2 node 0] error: RuntimeError: [gloo] Timed out waiting 15000ms for recv operation to complete"),
        line("ddp-node-0", 127, "E1128 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 1) local_rank: 0 (pid: 3) of binary: python3"),
        line("ddp-node-1", 131, "E1128 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: 1) local_rank: 0 (pid: 4) of binary: python3"),
    ];
    const input = {
        startMs: 100_000,
        endMs: 175_000,
        faults,
        metrics,
        logs,
        restarts: [
            { node: "ddp-node-0", rank: 0, before: 0, after: 0 },
            { node: "ddp-node-1", rank: 1, before: 1, after: 2 },
        ],
        verdict: { status: "succeeded", text: "succeeded: every node exited 0" },
        result: { checksum: "abc", final_step: 25, steps: 25, world_size: 2, world_sizes: [2], agree: true },
        reference: { checksum: "abc", source: "test" },
    };

    it("times detection and recovery, counts steps redone and worker failures per fault", () => {
        const a = analyse(input);
        const [hang, slow, degrade] = a.faults;
        assert.strictEqual(hang.detectSeconds, 14.5);
        assert.match(hang.detectLine!, /^\[ddp-node-0\] .*Timed out waiting/);
        assert.strictEqual(hang.recovery, "restart");
        assert.strictEqual(hang.recoverSeconds, 29.5);
        assert.strictEqual(hang.recoverAfterHealSeconds, 9.5);
        assert.strictEqual(hang.recoveredAtStep, 6);
        assert.strictEqual(hang.stepsRedone, 5, "steps 6..10 were trained twice");
        assert.deepStrictEqual(hang.workerFailures, { "ddp-node-0": 1, "ddp-node-1": 1 });
        assert.strictEqual(slow.detectSeconds, undefined, "a straggler logs no error");
        assert.strictEqual(slow.recovery, "continued");
        assert.strictEqual(slow.recoverSeconds, 10.8);
        assert.strictEqual(slow.stepsRedone, 0);
        assert.strictEqual(degrade.error, "no NET_ADMIN");
        assert.strictEqual(degrade.recoverSeconds, undefined);
        assert.deepStrictEqual(a.nodes, [
            { node: "ddp-node-0", rank: 0, containerRestarts: 0, workerFailures: 1 },
            { node: "ddp-node-1", rank: 1, containerRestarts: 1, workerFailures: 1 },
        ]);
        assert.strictEqual(a.parameters.outcome, "equal");
    });

    it("falls back on the logs' progress lines for a script without metrics.jsonl", () => {
        const a = analyse({ ...input, metrics: [], logs: [...logs, line("ddp-node-0", 145, "Epoch 1 | Step 64")] });
        assert.strictEqual(a.faults[0].recoverSeconds, 34.5);
        assert.strictEqual(a.faults[0].recoveredAtStep, 64);
        assert.strictEqual(a.faults[0].stepsRedone, undefined, "unknown without metrics.jsonl");
    });

    it("compares the final parameters: equal, close after a world-size change, different, unknown", () => {
        assert.strictEqual(checkParameters({ checksum: "a" }, { checksum: "a", source: "s" }).outcome, "equal");
        const elastic = { checksum: "b", world_size: 3, world_sizes: [2, 3], param_norm: 16.4422914 };
        assert.strictEqual(checkParameters(elastic, { checksum: "a", paramNorm: 16.4422913, source: "s" }).outcome, "close");
        assert.strictEqual(checkParameters(elastic, { checksum: "a", paramNorm: 17, source: "s" }).outcome, "different");
        assert.strictEqual(checkParameters({ checksum: "b", world_size: 2, world_sizes: [2] }, { checksum: "a", source: "s" }).outcome, "different");
        assert.strictEqual(checkParameters(undefined, { checksum: "a", source: "s" }).outcome, "unknown");
        assert.strictEqual(checkParameters({ checksum: "b" }, undefined).outcome, "unknown");
    });

    it("prints one row per fault, restarts per node, the parameter check and the verdict", () => {
        const a = analyse(input);
        const text = reportText(
            {
                ...a,
                ref: { owner: "ann", project: "ddpsim", stack: "dev", cluster: "ddp" },
                scenario: "s.yaml",
                startedAt: "t0",
                endedAt: "t1",
                timeline: timelineOf(100_000, metrics, []),
            },
            100_000,
        );
        const rows = text.split("\n");
        assert.match(rows[1], /^#\s+FAULT\s+NODE\s+WHEN\s+STARTED\s+FOR\s+DETECTED\s+RECOVERED\s+REDONE\s+WORKER FAILURES$/);
        assert.match(rows[2], /^1\s+hang\s+ddp-node-1 \(1\)\s+step 10\s+\+10\.5s\s+20\.0s\s+\+14\.5s\s+\+29\.5s \(restart, step 6, world 2\)\s+5\s+ddp-node-0 1, ddp-node-1 1$/);
        assert.match(rows[3], /^2\s+slow\s+ddp-node-0 \(0\)\s+at 50s\s+\+50\.2s\s+10\.0s\s+-\s+\+10\.8s \(no restart, world 2\)\s+0\s+-$/);
        assert.match(rows[4], /^3\s+degrade\s+ddp-node-1 \(1\)\s+at 60s\s+not made/);
        assert.ok(text.includes("fault 3 (degrade ddp-node-1) was not made: no NET_ADMIN"));
        assert.ok(text.includes("restarts: ddp-node-0 0 container, 1 worker failure(s); ddp-node-1 1 container, 1 worker failure(s)"));
        assert.ok(text.includes("parameters: equal to the undisturbed run, bit for bit (checksum abc, test)"));
        assert.ok(text.endsWith("verdict: succeeded: every node exited 0"));
    });
});

describe("degrade's NET_ADMIN check", () => {
    it("reads NET_ADMIN in every form Docker stores it (the Pulumi provider and docker CLI send CAP_NET_ADMIN)", () => {
        const withCaps = (caps: string[] | null) => ({ HostConfig: { CapAdd: caps } });
        assert.deepStrictEqual(
            [["CAP_NET_ADMIN", "CAP_SETPCAP"], ["NET_ADMIN"], ["cap_net_admin"], ["CAP_SETPCAP"], [], null].map((caps) => hasNetAdmin(withCaps(caps))),
            [true, true, true, false, false, false],
        );
    });
});
