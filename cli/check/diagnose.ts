/**
 * How one run of the check ended, and why (pure): every rank exited 0, a rank raised an error of its own (a crash),
 * the ranks' collectives did not complete (a hang: who waited, who did not arrive, where each was), or something
 * else, from the nodes' final state and what their logs say.
 */
import { frameText, nodeLogFacts, NodeLogFacts, DISTRIBUTED_ERROR, signalName } from "./nodeLog";
import { CheckEvent, NodeRecord, RunRecord } from "./types";

export type SourceReader = (file: string, line: number) => string | undefined;

export interface RankState {
    rank: number;
    node: string;
    /** DistributedDataParallel steps the rank had run (forward passes), when it said. */
    steps?: number;
    status: "exited" | "raised" | "killed" | "running" | "ended";
    /** What happened to it, in words. */
    text: string;
    /** Where in the script, when it failed there. */
    where?: string;
    /** The last line it printed before anything went wrong. */
    lastLine?: string;
    /** Its error is one of the distributed layer (a peer gone, out of step, late). */
    distributed: boolean;
    /** The launcher's last exit or error line of this rank. */
    final?: CheckEvent & { lastLineBefore?: string };
    atMs?: number;
}

export type RunVerdict =
    | { status: "ok"; ranks: RankState[] }
    | { status: "crashed"; culprit: RankState; ranks: RankState[] }
    | { status: "hung"; reason: string; waiting: RankState[]; missing: RankState[]; ranks: RankState[] }
    | { status: "failed"; reason: string; ranks: RankState[] }
    | { status: "no cluster"; reason: string; ranks: RankState[] };

/** The launcher's last exit or error line of a node (the final attempt's). */
export function finalEvent(facts: NodeLogFacts): NodeLogFacts["events"][number] | undefined {
    return [...facts.events].reverse().find((e) => e.event === "exit" || e.event === "error");
}

function describeError(error: string, facts: NodeLogFacts): string {
    // SystemExit(2) of argparse says less than its own `prog: error: ...` line.
    return /^SystemExit/.test(error) && facts.firstError !== undefined ? facts.firstError : error;
}

export function rankState(record: NodeRecord, facts: NodeLogFacts, sourceOf?: SourceReader): RankState {
    const final = finalEvent(facts);
    // A rank that ended well (after a restart, say) shows its last line before it ended; one that failed, the last
    // before trouble.
    const lastLine = final?.event === "exit" ? final.lastLineBefore : facts.lastLine;
    const base = {
        rank: final?.rank ?? record.rank,
        node: record.node,
        ...(final !== undefined ? { steps: final.steps, final, atMs: final.atMs } : {}),
        ...(lastLine !== undefined ? { lastLine } : {}),
    };
    const where = frameText(facts.frame, sourceOf);
    const at = where !== undefined ? { where } : {};
    const steps = final !== undefined ? ` after ${final.steps} step(s)` : "";
    if (final?.event === "exit" && (record.state !== "exited" || record.exitCode === 0)) {
        return { ...base, status: "exited", text: `exited 0${steps}`, distributed: false };
    }
    if (final?.event === "error") {
        const error = describeError(final.error ?? "an error", facts);
        return { ...base, ...at, status: "raised", text: `raised ${error}${steps}`, distributed: DISTRIBUTED_ERROR.test(error) };
    }
    if (facts.signal !== undefined && facts.signal.number > 0) {
        const what = facts.signal.what ?? facts.signal.fatal;
        const text = `was killed by ${signalName(facts.signal.number)}${what !== undefined ? ` (${what})` : ""}`;
        return { ...base, ...at, status: "killed", text, distributed: what !== undefined && DISTRIBUTED_ERROR.test(what) };
    }
    if (record.state === "running" || record.state === "restarting" || record.state === "paused" || record.state === "created") {
        return { ...base, status: "running", text: "was still running", distributed: false };
    }
    if (record.exitCode === 0) return { ...base, status: "ended", text: "exited 0 without the launcher's report", distributed: false };
    const error = facts.firstError;
    return {
        ...base,
        ...at,
        status: "ended",
        text: `exited with code ${record.exitCode}${error !== undefined ? `: ${error}` : ""}`,
        distributed: error !== undefined && DISTRIBUTED_ERROR.test(error),
    };
}

/** Every rank of a run, in rank order. */
export function rankStates(run: RunRecord, sourceOf?: SourceReader): RankState[] {
    return run.nodeRecords.map((n) => rankState(n, nodeLogFacts(n.lines), sourceOf)).sort((a, b) => a.rank - b.rank);
}

/** The ranks that waited in a collective (a distributed error at the most steps) and those that did not arrive. */
export function whoWaited(ranks: RankState[]): { waiting: RankState[]; missing: RankState[] } {
    const erred = ranks.filter((r) => r.distributed && r.status !== "killed");
    const most = Math.max(...erred.map((r) => r.steps ?? -1));
    const waiting = erred.filter((r) => (r.steps ?? -1) === most);
    return { waiting, missing: ranks.filter((r) => !waiting.includes(r)) };
}

/** How the run ended (see the file comment). */
export function diagnoseRun(run: RunRecord, sourceOf?: SourceReader): RunVerdict {
    if (run.end === "up-failed") {
        return { status: "no cluster", reason: `pulumi up failed: ${(run.upError ?? []).join(" ")}`, ranks: [] };
    }
    const ranks = rankStates(run, sourceOf);
    const allExited = run.nodeRecords.every((n) => n.state === "exited" && n.exitCode === 0);
    if (run.end === "done" && allExited && ranks.length === run.nodes && ranks.every((r) => r.status === "exited")) {
        return { status: "ok", ranks };
    }
    const own = ranks.filter((r) => (r.status === "raised" || (r.status === "ended" && r.text.includes(":"))) && !r.distributed);
    if (own.length > 0) {
        const culprit = [...own].sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity) || a.rank - b.rank)[0];
        return { status: "crashed", culprit, ranks };
    }
    const timedOut = run.end === "timeout";
    const troubled = ranks.some((r) => r.distributed || r.status === "killed") || timedOut;
    if (troubled) {
        const { waiting, missing } = whoWaited(ranks);
        const reason = timedOut
            ? `the run did not end within ${run.timeoutSeconds} s`
            : "a collective did not complete: the ranks were out of step";
        return { status: "hung", reason, waiting, missing, ranks };
    }
    if (run.end === "aborted") return { status: "failed", reason: "the check was interrupted", ranks };
    const bad = ranks.find((r) => r.status !== "exited");
    return { status: "failed", reason: bad === undefined ? "not every node exited 0" : `rank ${bad.rank} ${bad.text}`, ranks };
}

/** `rank 1 (ddp-node-1): raised ...; last line: "..."` for the evidence. */
export function rankLine(r: RankState): string {
    const parts = [`rank ${r.rank} (${r.node}) ${r.text}`];
    if (r.where !== undefined) parts.push(`at ${r.where}`);
    const last = r.lastLine === undefined ? "printed nothing of its own" : `last line: "${r.lastLine.slice(0, 200)}"`;
    return `${parts.join(" ")}; ${last}`;
}
