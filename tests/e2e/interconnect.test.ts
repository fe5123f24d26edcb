/**
 * Interconnect profiles on the real Docker engine (CPU image, 2 nodes, gloo): the all-reduce bandwidth that
 * train_ddp.py --bench measures under a profile is the profile's, and a profile that needs netem fails fast on
 * this machine's kernel (which lacks it) instead of training unshaped.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import { promisify } from "util";
import { missingQdiscMessage, resolveInterconnect, SHAPING_FAILED_EXIT, tcCommands } from "../../components/plan";
import { benchProfile, ClusterDriver, cpuImage, interconnectLines, runCluster, TRAIN_ARGS } from "../../scripts/benchCluster";
import { cleanUp, upStack } from "../support/clusterRuns";

const run = promisify(execFile);

/** The bench's clusters through `pulumi up` (tests/support/realStack.ts); `npm run bench` drives the same engine as `ddpsim run`. */
const pulumiUp: ClusterDriver = {
    async up(stack, config, timeoutMs) {
        const up = await upStack(stack, config, timeoutMs);
        return { ok: up.ok, outputs: up.outputs, error: up.stderr };
    },
    remove: (stack) => cleanUp([stack]),
};

/** Whether the Docker host's kernel has netem: tc on a throw-away container's loopback. */
async function kernelHasNetem(image: string): Promise<boolean> {
    const probe = ["run", "--rm", "--network", "none", "--user", "0", "--cap-add", "NET_ADMIN", image, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"];
    return run("docker", probe).then(
        () => true,
        (err) => {
            if (/qdisc kind is unknown/.test(String(err.stderr))) return false;
            throw err;
        },
    );
}

/** Large messages only: bandwidth is read at 8 MiB, where tbf's ~8 ms burst adds about 1%. */
const SIZES = "64K,8M";

describe("interconnect profiles on a real Docker engine (CPU image)", function () {
    // Each run takes 5-20 s on an idle 2-core machine; the bounds leave room for a busy one.
    this.timeout(150_000);
    let image: string;
    let netem: boolean;

    before(async function () {
        this.timeout(900_000);
        image = await cpuImage();
        netem = await kernelHasNetem(image);
    });

    for (const [profile, mbit] of [
        ["100mbit", 100],
        ["1gbe", 1000],
    ] as const) {
        it(`${profile}: 2 nodes measure an all-reduce bus bandwidth within 20% of ${mbit} Mbit/s`, async () => {
            const result = await benchProfile(image, profile, {}, { driver: pulumiUp, sizes: SIZES, iters: 5, train: false, timeoutMs: 120_000 });
            assert.strictEqual(result.failure, undefined, result.failure);
            assert.deepStrictEqual(result.configured, { bandwidthMbit: mbit });
            const measured = result.busbwMbit!;
            assert.ok(
                Math.abs(measured - mbit) <= 0.2 * mbit,
                `measured ${measured.toFixed(1)} Mbit/s under ${profile}, configured ${mbit} Mbit/s`,
            );
        });
    }

    /** Without netem: fails fast with one line naming sch_netem and a verdict, and never trains. */
    async function latencyProfileFailsFast(): Promise<void> {
        const started = Date.now();
        const run = await runCluster({
            image,
            driver: pulumiUp,
            label: "netem",
            config: { interconnect: "ideal", linkBandwidthMbit: 100, linkLatencyMs: 5, restartRetries: 1 },
            scriptArgs: TRAIN_ARGS,
            timeoutMs: 90_000,
        });
        const seconds = (Date.now() - started) / 1000;
        const plan = resolveInterconnect("ideal", { bandwidthMbit: 100, latencyMs: 5 });
        const expected = missingQdiscMessage(plan, tcCommands(plan.link, "eth0")[0]);
        assert.match(expected, /needs the netem qdisc for linkLatencyMs=5, .*module sch_netem, CONFIG_NET_SCH_NETEM/);

        assert.ok(seconds < 60, `took ${seconds.toFixed(0)} s`);
        const verdicts = (log: string) =>
            log.split("\n").filter((l) => l.startsWith("DDPSIM_VERDICT ")).map((l) => JSON.parse(l.slice(15)));
        // The master: tc ran once, one line, one verdict; Docker's restart only repeated the verdict.
        assert.strictEqual(run.exitCodes[0], SHAPING_FAILED_EXIT);
        assert.deepStrictEqual(interconnectLines(run.logs[0]), [expected]);
        assert.deepStrictEqual(verdicts(run.logs[0]).map((v) => [v.exitCode, v.error]), [[SHAPING_FAILED_EXIT, expected]]);
        // The worker failed the same way, or, started after the master's verdict, stopped because of it.
        assert.ok([SHAPING_FAILED_EXIT, 143].includes(run.exitCodes[1]), `worker exit ${run.exitCodes[1]}`);
        assert.ok(verdicts(run.logs[1]).every((v) => v.error === expected) && verdicts(run.logs[1]).length >= 1, run.logs[1]);
        assert.ok(run.logs.every((log) => !/training mlp/.test(log)), "no node trained unshaped");
    }

    /** With netem: the latency shows in the small-message all-reduce time. */
    async function latencyProfileAddsLatency(): Promise<void> {
        const result = await benchProfile(image, "ideal", { latencyMs: 5 }, { driver: pulumiUp, sizes: "1K", iters: 10, train: false, timeoutMs: 120_000 });
        assert.strictEqual(result.failure, undefined, result.failure);
        // A 2-rank ring all-reduce sends twice, one way each time: at least 2 x 5 ms.
        assert.ok(result.smallLatencyUs! >= 10_000, `1 KiB all-reduce took ${result.smallLatencyUs} us`);
    }

    it("a latency profile adds its latency where the kernel has netem, and fails fast with one clear line where not", async () => {
        // This machine's kernel lacks netem (CI takes the failure branch); stock kernels take the other.
        if (netem) await latencyProfileAddsLatency();
        else await latencyProfileFailsFast();
    });
});
