/**
 * Elastic training that shrinks in seconds (real engine, CPU image): 3 nodes, minNodes 2, node 2 lost at a step; the
 * time from the loss to the first step at world size 2 with ddpsim's rendezvous settings (a 1 s keep-alive, 3 misses,
 * a 1 s last call after the first rendezvous), printed next to the same run with torch's own (5 s x 3, 30 s) set back
 * through torchrunArgs, which also shows that torchrunArgs overrides them. One run after the other; the times are
 * figures, never asserted. Then the lost node returns: both runs must grow back to world size 3, and with ddpsim's
 * settings the run ends there with every rank agreeing.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { cleanUp, metricsOf, timestampedLogsOf, waitForStep } from "../support/clusterRuns";
import { ensureCpuImage } from "../support/cpuImage";
import { waitFor } from "../support/wait";
import { ensureCliBuilt } from "../e2e/cli/cliProcess";
import { FaultLab } from "../e2e/faults/faultLab";

const TORCH_DEFAULTS = ["--rdzv-conf", "keep_alive_interval=5,keep_alive_max_attempt=3,later_last_call_timeout=30"];

interface Shrink {
    lostToTwo: number;
    stepAtTwo: number;
    healedToThree: number;
    worldSizes: number[];
}

/** Every node's log, with Docker's timestamps, in one file (the suite destroys the stack); returns its path. */
async function keepLogs(stack: string, names: string[]): Promise<string> {
    const file = path.join(process.env.DDPSIM_TEST_LOGS ?? os.tmpdir(), `${stack}-nodes.log`);
    const logs = await Promise.all(names.map(async (n) => `===== ${n}\n${await timestampedLogsOf(n).catch((e) => String(e))}`));
    fs.writeFileSync(file, logs.join("\n"));
    return file;
}

describe("elastic training shrinks within seconds of a lost node (minNodes, real engine)", function () {
    this.timeout(1_800_000);
    let lab: FaultLab;
    const runs: Record<string, Promise<Shrink>> = {};

    /**
     * Loses node 2 at step 8, heals it once the run trains at world size 2, then waits for world size 3 (120 s at
     * most; on a miss the nodes' logs are kept in a file the error names). With `toTheEnd`, the run must end at
     * world size 3 with the ranks agreeing; without, the stack is destroyed by after().
     */
    async function loseAndReturn(label: string, torchrunArgs: string[], toTheEnd: boolean): Promise<Shrink> {
        const s = await lab.up(label, {
            "ddpsim:nodes": 3,
            "ddpsim:minNodes": 2,
            "ddpsim:torchrunArgs": torchrunArgs,
            "ddpsim:scriptArgs": ["--steps", "150", "--checkpoint-every", "5", "--log-every", "5", "--step-sleep", "0.3"],
        });
        await waitForStep(s.volume, 8, 300_000);
        assert.ok((await metricsOf(s.volume)).every((m) => m.world_size === 3), "every step so far at world size 3");
        const lost = await lab.cliOk(s.stack, ["fault", "lose", "--node", "2"]);
        const lostMs = Date.parse(lost.stdout.split(" ")[0]);
        const atTwo = await waitFor("a step at world size 2", 300_000, async () => (await metricsOf(s.volume)).find((m) => m.time * 1000 > lostMs && m.world_size === 2), 500);
        const healed = await lab.cliOk(s.stack, ["heal"]);
        const healMs = Date.parse(healed.stdout.split(" ")[0]);
        const atThree = await waitFor("a step at world size 3 again", 120_000, async () => (await metricsOf(s.volume)).find((m) => m.time * 1000 > healMs && m.world_size === 3), 500).catch(async (e) => {
            throw new Error(`${(e as Error).message}; the nodes' logs: ${await keepLogs(s.stack, s.names)}`);
        });
        const shrink = { lostToTwo: (atTwo.time * 1000 - lostMs) / 1000, stepAtTwo: atTwo.step, healedToThree: (atThree.time * 1000 - healMs) / 1000 };
        if (!toTheEnd) {
            return { ...shrink, worldSizes: [...new Set((await metricsOf(s.volume)).filter((m) => m.time * 1000 > lostMs).map((m) => m.world_size ?? 0))].sort() };
        }
        const result = await lab.finish(s, 3, 600_000);
        assert.strictEqual(result.final_step, 150);
        return { ...shrink, worldSizes: result.world_sizes as number[] };
    }

    before(async function () {
        this.timeout(900_000);
        const [image] = await Promise.all([ensureCpuImage(), ensureCliBuilt()]);
        lab = new FaultLab(image);
        // One after the other: the figure is the time a run takes, not two runs sharing the CPUs.
        runs.ddpsim = loseAndReturn("c-elastic", [], true);
        runs.torch = runs.ddpsim.catch(() => undefined).then(() => loseAndReturn("c-elastic-torch", TORCH_DEFAULTS, false));
        for (const r of Object.values(runs)) r.catch(() => undefined);
    });

    after(async () => {
        await Promise.all(Object.values(runs).map((r) => r.catch(() => undefined)));
        await cleanUp(lab?.stacks ?? []);
    });

    it("goes on at world size 2 after a loss, back to 3 after the heal, and ends with the ranks agreeing (ddpsim's settings)", async () => {
        const d = await runs.ddpsim;
        assert.deepStrictEqual(d.worldSizes, [2, 3]);
        console.log(
            `      figure: loss -> first step at world size 2: ${d.lostToTwo.toFixed(1)} s with ddpsim's rendezvous settings (from step ${d.stepAtTwo}); ` +
                `heal -> world size 3: ${d.healedToThree.toFixed(1)} s`,
        );
    });

    it("keeps torch's own settings when torchrunArgs sets them back: the same run shrinks far later, and grows back", async () => {
        const t = await runs.torch;
        assert.deepStrictEqual(t.worldSizes, [2, 3], `world sizes after the loss: ${t.worldSizes}`);
        const d = await runs.ddpsim.catch(() => ({ lostToTwo: NaN, healedToThree: NaN }));
        console.log(
            `      figure: loss -> first step at world size 2 with torch's rendezvous settings (5 s x 3 keep-alive, 30 s last call): ` +
                `${t.lostToTwo.toFixed(1)} s (ddpsim's: ${d.lostToTwo.toFixed(1)} s); heal -> world size 3: ${t.healedToThree.toFixed(1)} s (ddpsim's: ${d.healedToThree.toFixed(1)} s)`,
        );
    });
});
