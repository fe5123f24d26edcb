/**
 * What a chaos run did to training, from what the nodes left behind (pure): per fault the time to detect (the first
 * error or timeout line in any log after it began), the time to recover (the first training step of a new attempt
 * after it began, or, when training never stopped, the first step after it ended), the steps redone and the worker
 * failures per node; then restarts per node and whether the final parameters equal an undisturbed run's.
 */
import { FaultKind } from "../faults/records";
import { LogLine, timeMs } from "../logs/logLine";
import { parseProgress, stripRankPrefix } from "../logs/logParsers";
import { MetricsLine } from "./metrics";

/** One fault as the chaos run made it. */
export interface FaultEvent {
    index: number;
    kind: FaultKind;
    node: string;
    rank: number;
    /** How it was scheduled: `at 20s` or `step 30`. */
    trigger: string;
    /** Set once injected; a fault that could not be made has `error` instead. */
    startMs?: number;
    /** When it was healed (crash: when it was made). */
    endMs?: number;
    what?: string;
    healed?: string;
    error?: string;
}

export interface NodeRestarts {
    node: string;
    rank: number;
    /** Container restarts by Docker's restart policy during the chaos run: after - before. */
    before: number;
    after: number;
}

/** The reference an undisturbed run gives: its parameter checksum, and its parameter norm when known. */
export interface Reference {
    checksum: string;
    paramNorm?: number;
    worldSize?: number;
    source: string;
}

export interface AnalysisInput {
    startMs: number;
    endMs: number;
    faults: FaultEvent[];
    /** metrics.jsonl lines of this run (empty for a script without one). */
    metrics: MetricsLine[];
    /** Every node's log lines, merged in time order. */
    logs: LogLine[];
    restarts: NodeRestarts[];
    verdict: { status: string; text: string };
    result?: Record<string, unknown>;
    reference?: Reference;
}

export interface FaultOutcome extends FaultEvent {
    /** Seconds from the fault's start to the first error or timeout line; undefined: none seen. */
    detectSeconds?: number;
    detectLine?: string;
    /** Seconds from the fault's start to the first training step after it (see the file comment). */
    recoverSeconds?: number;
    /** Seconds from the fault's end (heal) to that step, for faults with a duration. */
    recoverAfterHealSeconds?: number;
    recoveredAtStep?: number;
    /** How training came back: a new attempt (restart, from a checkpoint), or it never stopped. */
    recovery?: "restart" | "continued";
    /** Steps trained again after the restart; undefined when unknown (no metrics.jsonl). */
    stepsRedone?: number;
    /** World size of the first step after recovery. */
    worldSizeAfter?: number;
    /** Worker failures (torchrun's `failed (exitcode ...)`) per node between the fault's start and its recovery. */
    workerFailures: Record<string, number>;
}

export interface ParameterCheck {
    /** equal: bit for bit; close: another world size summed in another order, norms agree; different; unknown. */
    outcome: "equal" | "close" | "different" | "unknown";
    text: string;
}

export interface ChaosAnalysis {
    faults: FaultOutcome[];
    nodes: { node: string; rank: number; containerRestarts: number; workerFailures: number }[];
    verdict: { status: string; text: string };
    result?: Record<string, unknown>;
    parameters: ParameterCheck;
}

/** A line that says something went wrong: a timeout, a broken connection, a failed worker, an error. */
export const DETECT =
    /[Tt]imed out|Timeout|Connection (reset|closed|refused|aborted)|Broken pipe|No route to host|Network is unreachable|Unable to find address|failed \(exitcode|RendezvousClosedError|\berror: |Error: |Traceback \(most recent call last\)/;
const WORKER_FAILED = /failed \(exitcode: -?\d+\) local_rank: \d+/;

const seconds = (fromMs: number, toMs: number) => Math.round((toMs - fromMs) / 100) / 10;

function lastBefore(metrics: MetricsLine[], ms: number): MetricsLine | undefined {
    let found: MetricsLine | undefined;
    for (const m of metrics) if (m.time * 1000 < ms) found = m;
    return found;
}

function maxStepBefore(metrics: MetricsLine[], ms: number): number {
    return metrics.filter((m) => m.time * 1000 < ms).reduce((max, m) => Math.max(max, m.step), 0);
}

/** Recovery from metrics.jsonl: a step of a new attempt after the start, else the first step after the end. */
function recoveryFromMetrics(metrics: MetricsLine[], startMs: number, endMs: number) {
    const before = lastBefore(metrics, startMs);
    const after = metrics.filter((m) => m.time * 1000 >= startMs);
    const fresh = after.find((m) => m.attempt !== undefined && before?.attempt !== undefined && m.attempt !== before.attempt);
    if (fresh !== undefined) {
        const redone = Math.max(0, maxStepBefore(metrics, fresh.time * 1000) - (fresh.step - 1));
        return { atMs: fresh.time * 1000, step: fresh.step, recovery: "restart" as const, redone, world: fresh.world_size };
    }
    const next = after.find((m) => m.time * 1000 > endMs);
    if (next === undefined) return undefined;
    return { atMs: next.time * 1000, step: next.step, recovery: "continued" as const, redone: 0, world: next.world_size };
}

/** Recovery from the logs' progress lines (a script without metrics.jsonl): the first one after the end and the detection. */
function recoveryFromLogs(logs: LogLine[], afterMs: number) {
    for (const line of logs) {
        if (timeMs(line) <= afterMs) continue;
        const progress = parseProgress(stripRankPrefix(line.text));
        if (progress?.step !== undefined) return { atMs: timeMs(line), step: progress.step, recovery: undefined, redone: undefined, world: undefined };
    }
    return undefined;
}

export function analyseFault(event: FaultEvent, input: AnalysisInput, nextStartMs: number): FaultOutcome {
    const outcome: FaultOutcome = { ...event, workerFailures: {} };
    if (event.startMs === undefined) return outcome;
    const start = event.startMs;
    const end = event.endMs ?? start;
    const recovered =
        input.metrics.length > 0 ? recoveryFromMetrics(input.metrics, start, end) : undefined;
    const detectUntil = Math.min(nextStartMs, recovered?.atMs ?? Infinity);
    const detected = input.logs.find((l) => timeMs(l) >= start && timeMs(l) < detectUntil && DETECT.test(l.text));
    const fromLogs = input.metrics.length === 0 ? recoveryFromLogs(input.logs, Math.max(end, detected === undefined ? start : timeMs(detected))) : undefined;
    const recovery = recovered ?? fromLogs;
    if (detected !== undefined) {
        outcome.detectSeconds = seconds(start, timeMs(detected));
        outcome.detectLine = `[${detected.node}] ${detected.text}`.slice(0, 240);
    }
    if (recovery !== undefined) {
        outcome.recoverSeconds = seconds(start, recovery.atMs);
        if (event.endMs !== undefined && event.endMs > start) outcome.recoverAfterHealSeconds = seconds(event.endMs, recovery.atMs);
        outcome.recoveredAtStep = recovery.step;
        if (recovery.recovery !== undefined) outcome.recovery = recovery.recovery;
        if (recovery.redone !== undefined) outcome.stepsRedone = recovery.redone;
        if (recovery.world !== undefined) outcome.worldSizeAfter = recovery.world;
    }
    const until = recovery?.atMs ?? input.endMs;
    for (const line of input.logs) {
        const t = timeMs(line);
        if (t >= start && t <= until && WORKER_FAILED.test(line.text)) outcome.workerFailures[line.node] = (outcome.workerFailures[line.node] ?? 0) + 1;
    }
    return outcome;
}

/** Compares the run's final parameters with an undisturbed run's. */
export function checkParameters(result: Record<string, unknown> | undefined, reference: Reference | undefined): ParameterCheck {
    if (result === undefined || typeof result.checksum !== "string") {
        return { outcome: "unknown", text: "no DDPSIM_RESULT with a parameter checksum (not our trainer, or the run did not finish)" };
    }
    if (reference === undefined) return { outcome: "unknown", text: `checksum ${result.checksum}; no reference given (--reference)` };
    if (result.checksum === reference.checksum) {
        return { outcome: "equal", text: `equal to the undisturbed run, bit for bit (checksum ${result.checksum}, ${reference.source})` };
    }
    const sizes = Array.isArray(result.world_sizes) ? (result.world_sizes as number[]) : [result.world_size as number];
    const changed = sizes.length > 1 || (reference.worldSize !== undefined && sizes[0] !== reference.worldSize);
    const norm = typeof result.param_norm === "number" ? result.param_norm : undefined;
    if (changed && norm !== undefined && reference.paramNorm !== undefined) {
        const rel = Math.abs(norm - reference.paramNorm) / Math.max(Math.abs(reference.paramNorm), 1e-12);
        const close = rel < 1e-4;
        return {
            outcome: close ? "close" : "different",
            text:
                `checksum ${result.checksum} differs from ${reference.checksum}: the run trained at world sizes ${sizes.join(", ")}, ` +
                `so the same samples' gradients were summed in another order; parameter norms ${close ? "agree" : "DIFFER"} ` +
                `(relative difference ${rel.toExponential(1)}, ${close ? "below" : "above"} 1e-4)`,
        };
    }
    return { outcome: "different", text: `DIFFERENT from the undisturbed run: checksum ${result.checksum}, reference ${reference.checksum} (${reference.source})` };
}

export function analyse(input: AnalysisInput): ChaosAnalysis {
    const started = input.faults.filter((f) => f.startMs !== undefined).map((f) => f.startMs!);
    const faults = input.faults.map((f) => {
        const next = started.filter((s) => f.startMs !== undefined && s > f.startMs).sort((a, b) => a - b)[0] ?? Infinity;
        return analyseFault(f, input, next);
    });
    const nodes = input.restarts.map((r) => ({
        node: r.node,
        rank: r.rank,
        containerRestarts: Math.max(0, r.after - r.before),
        workerFailures: input.logs.filter((l) => l.node === r.node && timeMs(l) >= input.startMs && WORKER_FAILED.test(l.text)).length,
    }));
    return {
        faults,
        nodes,
        verdict: input.verdict,
        ...(input.result !== undefined ? { result: input.result } : {}),
        parameters: checkParameters(input.result, input.reference),
    };
}
