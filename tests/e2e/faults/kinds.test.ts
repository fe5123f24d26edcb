/**
 * Every fault kind of `ddpsim fault` on a real engine (CPU image, 2 nodes): the fault is really in effect (seen from
 * outside), the outcome is the documented one, and the run ends with equal parameters on every rank, equal to an
 * undisturbed run's. The six runs go in three lanes at once (most of a fault's time is waiting); timings are
 * printed, never asserted.
 */
import * as assert from "assert";
import * as fs from "fs";
import { ensureCpuImage } from "../../support/cpuImage";
import { cleanUp, metricsOf, volumeFiles, waitForStep } from "../../support/clusterRuns";
import { waitFor } from "../../support/wait";
import { ensureCliBuilt, isAlive } from "../cli/cliProcess";
import { COLLECTIVE_TIMEOUT, execOut, FaultLab, secs, sharedReference, waitForLine } from "./faultLab";

describe("ddpsim fault, every kind, on a real engine (CPU image)", function () {
    this.timeout(1_800_000);
    let lab: FaultLab;
    const runs: Record<string, Promise<void>> = {};
    const reference = () => sharedReference(lab.image);

    /** Runs the lanes now; each `it` awaits its own kind. */
    function lanes(...lanes: [string, () => Promise<void>][][]): void {
        for (const lane of lanes) {
            let previous: Promise<unknown> = Promise.resolve();
            for (const [kind, body] of lane) {
                const run = previous.catch(() => undefined).then(body);
                run.catch(() => undefined); // reported by its own test
                runs[kind] = run;
                previous = run;
            }
        }
    }

    before(async function () {
        this.timeout(900_000);
        const [image] = await Promise.all([ensureCpuImage(), ensureCliBuilt()]);
        lab = new FaultLab(image);
        void reference().catch(() => undefined);
        lanes(
            [["crash", crash], ["hang", hang]],
            [["partition", partition], ["slow", slow]],
            [["lose", lose], ["degrade", degrade]],
        );
    });

    after(async () => {
        await Promise.all(Object.values(runs).map((r) => r.catch(() => undefined)));
        await cleanUp(lab?.stacks ?? []);
        if (lab !== undefined) fs.rmSync(lab.stateDir, { recursive: true, force: true });
    });

    async function crash(): Promise<void> {
        const s = await lab.up("f-crash");
        await waitForStep(s.volume, 8, 300_000);
        // degrade needs a cluster created with shaping: refused in one line, nothing changed, nothing recorded
        const refused = await lab.cli(s.stack, ["fault", "degrade", "--node", "1", "--bandwidth", "10"]);
        assert.strictEqual(refused.code, 2, refused.stdout + refused.stderr);
        assert.match(refused.stderr, /^ddpsim: ddp-node-1 \(rank 1\) was created without link shaping, so it has no NET_ADMIN/);
        assert.deepStrictEqual((await lab.statusJson(s.stack)).faults, []);

        const pid = (await lab.inspect(s.names[1])).State.Pid;
        const made = await lab.cliOk(s.stack, ["fault", "crash", "--node", "1"]);
        const startMs = Date.parse(made.stdout.split(" ")[0]);
        assert.match(made.stdout, new RegExp(`crash ddp-node-1 \\(rank 1\\): SIGKILL to its main process \\(host pid ${pid}\\); Docker's restart policy`));
        await waitFor("the node's main process to be gone", 10_000, async () => (isAlive(pid) ? undefined : true));
        const result = await lab.finish(s);
        assert.ok((await lab.inspect(s.names[1])).RestartCount >= 1, "Docker restarted the node");
        assert.strictEqual(result.checksum, (await reference()).checksum, "same parameters as an undisturbed run");
        const m = await lab.measure(s, { kind: "crash", node: "ddp-node-1", rank: 1, startMs, endMs: startMs });
        assert.strictEqual(m.recovery, "restart");
        console.log(`      figure: crash of a worker: detected after ${secs(m.detectSeconds)}, training again after ${secs(m.recoverSeconds)}, ${m.stepsRedone} step(s) redone`);
    }

    async function hang(): Promise<void> {
        const s = await lab.up("f-hang");
        await waitForStep(s.volume, 8, 300_000);
        const holdFor = COLLECTIVE_TIMEOUT + 5;
        const blocking = lab.cli(s.stack, ["fault", "hang", "--node", "1", "--for", `${holdFor}s`]);
        await waitFor("node 1 paused", 30_000, async () => ((await lab.inspect(s.names[1])).State.Paused ? true : undefined));
        const status = await lab.statusJson(s.stack);
        assert.deepStrictEqual(status.faults.map((f: any) => [f.kind, f.node]), [["hang", "ddp-node-1"]]);
        assert.strictEqual(status.nodes[1].state, "paused");
        await waitForLine(s.names[0], /Timed out waiting \d+ms/, (COLLECTIVE_TIMEOUT + 60) * 1000);
        const done = await blocking;
        assert.strictEqual(done.code, 0, done.stdout + done.stderr);
        assert.match(done.stdout, /healed hang ddp-node-1 \(rank 1\): unpaused/);
        assert.strictEqual((await lab.inspect(s.names[1])).State.Paused, false);
        const startMs = Date.parse(done.stdout.split(" ")[0]);
        const endMs = Date.parse(done.stdout.split("\n").find((l) => l.includes("healed"))!.split(" ")[0]);
        const result = await lab.finish(s);
        assert.strictEqual(result.checksum, (await reference()).checksum, "same parameters as an undisturbed run");
        const m = await lab.measure(s, { kind: "hang", node: "ddp-node-1", rank: 1, startMs, endMs });
        console.log(`      figure: hang of a worker for ${holdFor} s (collective timeout ${COLLECTIVE_TIMEOUT} s): detected after ${secs(m.detectSeconds)}, training again ${secs(m.recoverAfterHealSeconds)} after the heal`);
    }

    async function partition(): Promise<void> {
        const s = await lab.up("f-part");
        await waitForStep(s.volume, 8, 300_000);
        const made = await lab.cliOk(s.stack, ["fault", "partition", "--node", "1"]);
        const startMs = Date.parse(made.stdout.split(" ")[0]);
        const cut = await lab.inspect(s.names[1]);
        assert.deepStrictEqual(Object.keys(cut.NetworkSettings.Networks ?? {}), [], "node 1 is on no network");
        assert.strictEqual(cut.State.Running, true);
        await waitForLine(s.names[0], /Timed out waiting \d+ms|Connection (reset|closed)/, (COLLECTIVE_TIMEOUT + 60) * 1000);
        const healed = await lab.cliOk(s.stack, ["heal"]);
        const endMs = Date.parse(healed.stdout.split(" ")[0]);
        assert.match(healed.stdout, new RegExp(`healed partition ddp-node-1 \\(rank 1\\): reconnected to ${s.outputs.networkName} as ddp-node-1, address `));
        const back = await lab.inspect(s.names[1]);
        assert.ok(back.NetworkSettings.Networks[s.outputs.networkName].Aliases?.includes("ddp-node-1"), "same alias");
        assert.strictEqual((await execOut(s.names[1], ["cat", "/sys/class/net/eth0/operstate"])).trim(), "up", "its interface is eth0 again");
        const result = await lab.finish(s);
        assert.strictEqual(result.checksum, (await reference()).checksum, "same parameters as an undisturbed run");
        const m = await lab.measure(s, { kind: "partition", node: "ddp-node-1", rank: 1, startMs, endMs });
        console.log(`      figure: partition of a worker for ${secs((endMs - startMs) / 1000)}: detected after ${secs(m.detectSeconds)}, training again ${secs(m.recoverAfterHealSeconds)} after the heal`);
    }

    async function slow(): Promise<void> {
        const s = await lab.up("f-slow");
        await waitForStep(s.volume, 8, 300_000);
        const blocking = lab.cli(s.stack, ["fault", "slow", "--node", "0", "--cpus", "0.05", "--for", "12s"]);
        await waitFor("node 0's CPU quota", 30_000, async () => ((await lab.inspect(s.names[0])).HostConfig.CpuQuota === 5000 ? true : undefined));
        assert.strictEqual((await lab.inspect(s.names[0])).HostConfig.CpuPeriod, 100_000);
        const done = await blocking;
        assert.strictEqual(done.code, 0, done.stdout + done.stderr);
        const after = await lab.inspect(s.names[0]);
        assert.deepStrictEqual([after.HostConfig.CpuQuota, after.HostConfig.NanoCpus], [-1, 0], "no CPU limit again");
        const quotaFile = `/sys/fs/cgroup/cpu/docker/${after.Id}/cpu.cfs_quota_us`;
        if (fs.existsSync(quotaFile)) assert.strictEqual(fs.readFileSync(quotaFile, "utf8").trim(), "-1", "the kernel's quota is unlimited again");
        const startMs = Date.parse(done.stdout.split(" ")[0]);
        const endMs = Date.parse(done.stdout.split("\n").find((l) => l.includes("healed"))!.split(" ")[0]);
        const result = await lab.finish(s);
        assert.strictEqual(result.checksum, (await reference()).checksum, "same parameters as an undisturbed run");
        assert.strictEqual((await lab.inspect(s.names[0])).RestartCount, 0, "a straggler needs no restart");
        const metrics = await metricsOf(s.volume);
        assert.strictEqual(new Set(metrics.map((m: any) => m.attempt)).size, 1, "one attempt: training never stopped");
        const gaps = (from: number, to: number) => {
            const times = metrics.map((m) => m.time * 1000).filter((t) => t >= from && t <= to);
            return times.length < 2 ? NaN : (times[times.length - 1] - times[0]) / (times.length - 1) / 1000;
        };
        console.log(`      figure: a straggler at 0.05 CPUs: ${secs(gaps(startMs, endMs))} per step while slowed, ${secs(gaps(0, startMs))} before`);
    }

    async function lose(): Promise<void> {
        const s = await lab.up("f-lose");
        await waitForStep(s.volume, 8, 300_000);
        const made = await lab.cliOk(s.stack, ["fault", "lose", "--node", "1"]);
        const startMs = Date.parse(made.stdout.split(" ")[0]);
        await new Promise((r) => setTimeout(r, 15_000));
        const [master, lost] = await Promise.all(s.names.map((n) => lab.inspect(n)));
        assert.deepStrictEqual([lost.State.Status, lost.RestartCount], ["exited", 0], "stopped, and Docker does not restart it");
        assert.strictEqual(master.State.Running, true, "the other node waits for it");
        assert.ok(!(await volumeFiles(s.volume)).includes("result.json"));
        assert.match((await lab.cliOk(s.stack, ["status"])).stdout, /fault: ddp-node-1 \(rank 1\) lose since .*until ddpsim heal/);
        const healed = await lab.cliOk(s.stack, ["heal"]);
        assert.match(healed.stdout, /healed lose ddp-node-1 \(rank 1\): started again/);
        const endMs = Date.parse(healed.stdout.split(" ")[0]);
        const result = await lab.finish(s);
        assert.strictEqual(result.checksum, (await reference()).checksum, "same world size, same parameters");
        const m = await lab.measure(s, { kind: "lose", node: "ddp-node-1", rank: 1, startMs, endMs });
        console.log(`      figure: a lost worker (not elastic): detected after ${secs(m.detectSeconds)}, training again ${secs(m.recoverAfterHealSeconds)} after heal started it`);
    }

    async function degrade(): Promise<void> {
        const s = await lab.up("f-degrade", { "ddpsim:linkBandwidthMbit": 1000 });
        await waitForStep(s.volume, 8, 300_000);
        const tc = (name: string) => execOut(name, ["tc", "qdisc", "show", "dev", "eth0"]);
        const [before0, before1] = await Promise.all(s.names.map(tc));
        assert.match(before1, /tbf 1: root .*rate 1Gbit/);
        const made = await lab.cliOk(s.stack, ["fault", "degrade", "--node", "1", "--bandwidth", "50"]);
        assert.match(made.stdout, /degrade \(50 Mbit\/s\) ddp-node-1 \(rank 1\): link set to 50 Mbit\/s \(tc on eth0\)/);
        assert.match(await tc(s.names[1]), /tbf 1: root .*rate 50Mbit/);
        const latency = await lab.cli(s.stack, ["fault", "degrade", "--node", "0", "--latency", "5"]);
        if (latency.code === 0) {
            assert.match(await tc(s.names[0]), /netem/); // a kernel with netem
        } else {
            assert.strictEqual(latency.code, 2, latency.stderr);
            assert.match(latency.stderr, /degrade with --latency needs the netem qdisc, which this Docker host's kernel lacks .* the link profile is as it was/);
            assert.strictEqual(await tc(s.names[0]), before0, "nothing changed");
        }
        await new Promise((r) => setTimeout(r, 5_000));
        const healed = await lab.cliOk(s.stack, ["heal"]);
        assert.match(healed.stdout, /healed degrade ddp-node-1 \(rank 1\): link profile back as before \(tc qdisc show is identical\)/);
        assert.deepStrictEqual(await Promise.all(s.names.map(tc)), [before0, before1]);
        const result = await lab.finish(s);
        assert.strictEqual(result.checksum, (await reference()).checksum, "shaping changes no arithmetic");
        console.log(`      figure: degrade 1 Gbit/s -> 50 Mbit/s for ~5 s: no restart (${(await lab.inspect(s.names[1])).RestartCount} restarts)`);
    }

    for (const kind of ["crash", "hang", "partition", "slow", "lose", "degrade"]) {
        it(`${kind}: in effect from outside, the documented outcome, equal parameters afterwards`, async () => {
            const started = Date.now();
            await runs[kind];
            console.log(`      (${kind}: ${((Date.now() - started) / 1000).toFixed(0)} s waited here)`);
        });
    }
});
