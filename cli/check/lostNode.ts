/**
 * The lost-node run, read (pure): a node was killed at a known step; did training come back, from where, how many
 * steps were trained again, how long it took, and did the ranks still agree at the end. Also the points of its
 * timeline (rank 0's steps over wall-clock time, each attempt placed at the step it resumed from).
 */
import { DETECT } from "../chaos/analysis";
import { timeMs } from "../logs/logLine";
import { Agreement, compareRanks } from "./agreement";
import { diagnoseRun, RunVerdict, SourceReader } from "./diagnose";
import { nodeLogFacts } from "./nodeLog";
import { CheckEvent, RunRecord } from "./types";

export interface LostNodeAnalysis {
    verdict: RunVerdict;
    agreement: Agreement;
    /** Steps a whole undisturbed run takes at this world size (rank 0, from the plain run). */
    baselineSteps: number;
    /** Steps completed before the kill (the node held before its holdStep-th). */
    stepsBefore?: number;
    /** Steps the final attempt ran. */
    finalSteps?: number;
    /** The step the final attempt started from (baselineSteps - finalSteps), when it resumed. */
    resumedAt?: number;
    /** Steps trained twice. */
    redone?: number;
    /** The final attempt trained as many steps as a whole run: the script kept nothing. */
    fromScratch?: boolean;
    /** Seconds from the kill to the first line that noticed it, and to the first step of the next attempt. */
    detectSeconds?: number;
    recoverSeconds?: number;
    /** Worker processes that started after the kill, on all nodes. */
    restartedWorkers: number;
}

/** Rank 0's launcher lines in time order: one per attempt that ended (killed processes print none). */
function rankZeroEvents(run: RunRecord): (CheckEvent & { atMs: number })[] {
    const events = run.nodeRecords.flatMap((n) => nodeLogFacts(n.lines).events);
    return events.filter((e) => e.rank === 0 && e.event !== "hold").sort((a, b) => a.started - b.started);
}

export function analyseLostNode(run: RunRecord, baselineSteps: number, sourceOf?: SourceReader): LostNodeAnalysis {
    const verdict = diagnoseRun(run, sourceOf);
    const agreement = verdict.status === "ok" ? compareRanks(verdict.ranks) : { agree: undefined, lines: [], differences: [] };
    const crash = run.crash;
    const analysis: LostNodeAnalysis = { verdict, agreement, baselineSteps, restartedWorkers: 0 };
    if (crash === undefined || !crash.made || crash.atMs === undefined) return analysis;
    const killedAt = crash.atMs;
    analysis.stepsBefore = crash.holdStep - 1;
    const all = run.nodeRecords.flatMap((n) => nodeLogFacts(n.lines).events);
    analysis.restartedWorkers = new Set(all.filter((e) => e.started * 1000 > killedAt).map((e) => `${e.node}/${e.pid}/${e.started}`)).size;
    const lines = run.nodeRecords.flatMap((n) => n.lines).filter((l) => timeMs(l) >= killedAt).sort((a, b) => timeMs(a) - timeMs(b));
    const detected = lines.find((l) => DETECT.test(l.text));
    if (detected !== undefined) analysis.detectSeconds = round((timeMs(detected) - killedAt) / 1000);
    const final = rankZeroEvents(run).filter((e) => e.started * 1000 > killedAt).pop();
    if (final === undefined || final.event !== "exit") return analysis;
    analysis.finalSteps = final.steps;
    analysis.fromScratch = final.steps >= baselineSteps;
    if (!analysis.fromScratch) analysis.resumedAt = baselineSteps - final.steps;
    analysis.redone = Math.max(0, analysis.stepsBefore - (analysis.resumedAt ?? 0));
    const firstStep = final.firstStep ?? final.stepTimes?.[0];
    if (firstStep !== undefined && firstStep !== null) analysis.recoverSeconds = round(final.started + firstStep - killedAt / 1000);
    return analysis;
}

const round = (s: number) => Math.round(s * 10) / 10;

/** Rank 0's steps over time: [unix seconds, step], the final attempt placed at the step it resumed from. */
export function stepPoints(run: RunRecord, analysis: LostNodeAnalysis): [number, number][] {
    const points: [number, number][] = [];
    const events = rankZeroEvents(run);
    events.forEach((e, i) => {
        const every = e.stepEvery ?? 1;
        const offset = i === events.length - 1 && analysis.resumedAt !== undefined ? analysis.resumedAt : 0;
        (e.stepTimes ?? []).forEach((t, j) => points.push([e.started + t, offset + (j + 1) * every]));
    });
    return points;
}

/** What training/plot_chaos.py draws for the lost-node run: rank 0's steps, the kill, when it was noticed and recovered. */
export function timelineInput(run: RunRecord, analysis: LostNodeAnalysis, title: string): object | undefined {
    const points = stepPoints(run, analysis);
    const crash = run.crash;
    if (points.length === 0 || crash?.atMs === undefined) return undefined;
    const at = crash.atMs / 1000;
    const worldSize = run.nodes;
    return {
        title,
        xlabel: "seconds since the lost-node run's first step (wall clock)",
        start: Math.min(points[0][0], at),
        metrics: points.map(([t, step]) => [t, step, worldSize]),
        progress: [],
        faults: [
            {
                kind: "crash",
                label: `kill ${crash.node} after step ${crash.holdStep - 1}`,
                start: at,
                end: at,
                detected: analysis.detectSeconds === undefined ? null : at + analysis.detectSeconds,
                recovered: analysis.recoverSeconds === undefined ? null : at + analysis.recoverSeconds,
            },
        ],
    };
}
