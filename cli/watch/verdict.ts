import { LogFacts } from "../logs/logFacts";
import { NodeVerdict, Progress } from "../logs/logParsers";
import { NodePhase } from "../sources/source";

/** One node as the verdict sees it: its source's state of it and what its log said. */
export interface NodeSnapshot {
    node: string;
    rank: number;
    state: NodePhase;
    /** The last exit code (kept while the node is restarting). */
    exitCode: number;
    startedAtMs?: number;
    finishedAtMs?: number;
    facts: LogFacts;
}

export type ClusterVerdict =
    | { status: "starting" }
    | { status: "running"; progress?: Progress; progressNode?: string }
    | { status: "stalled"; idleSeconds: number; progress?: Progress; progressNode?: string }
    | { status: "succeeded" }
    | {
          status: "failed";
          /** Hostname of the node that failed. */
          node: string;
          rank: number;
          exitCode?: number;
          reason: string;
          /** Its first error line. */
          error?: string;
          /** What decided it: a DDPSIM_VERDICT line, or the node's exit code. */
          source: "verdict" | "exit";
      };

export type ClusterStatus = ClusterVerdict["status"];

/** Its source will not start it again: it exited (or died) and is not restarting. */
export function exitedForGood(node: Pick<NodeSnapshot, "state">): boolean {
    return node.state === "exited" || node.state === "dead";
}

const byTimeThenRank =
    <T>(time: (x: T) => number | undefined, rank: (x: T) => number) =>
    (a: T, b: T) =>
        (time(a) ?? Infinity) - (time(b) ?? Infinity) || rank(a) - rank(b);

function failedByVerdict(nodes: NodeSnapshot[]): ClusterVerdict | undefined {
    const withVerdict = nodes.filter((n) => n.facts.verdict !== undefined);
    const time = (n: NodeSnapshot) => n.facts.verdict!.time;
    const own = withVerdict.filter((n) => n.facts.verdict!.stoppedBy === undefined).sort(byTimeThenRank(time, (n) => n.rank));
    if (own.length > 0) {
        const n = own[0];
        const v = n.facts.verdict as NodeVerdict;
        return {
            status: "failed",
            node: v.node,
            rank: v.rank ?? n.rank,
            exitCode: v.exitCode ?? (exitedForGood(n) ? n.exitCode : undefined),
            reason: v.reason ?? "failed",
            error: v.error ?? n.facts.firstError,
            source: "verdict",
        };
    }
    const stopped = withVerdict.sort(byTimeThenRank(time, (n) => n.rank));
    if (stopped.length === 0) return undefined;
    const reporter = stopped[0];
    const culpritName = reporter.facts.verdict!.stoppedBy as string;
    const culprit = nodes.find((n) => n.node === culpritName);
    return {
        status: "failed",
        node: culpritName,
        rank: culprit?.rank ?? -1,
        exitCode: culprit !== undefined && exitedForGood(culprit) ? culprit.exitCode : undefined,
        reason: `${reporter.node} stopped because of it`,
        // The stopped node's verdict repeats the failed node's: the agent's error line wins over the CLI's own reading.
        error: reporter.facts.verdict!.error ?? culprit?.facts.firstError,
        source: "verdict",
    };
}

function failedByExit(nodes: NodeSnapshot[]): ClusterVerdict | undefined {
    const failed = nodes
        .filter((n) => exitedForGood(n) && n.exitCode !== 0)
        .sort(byTimeThenRank((n) => n.finishedAtMs, (n) => n.rank));
    if (failed.length === 0) return undefined;
    const n = failed[0];
    return {
        status: "failed",
        node: n.node,
        rank: n.rank,
        exitCode: n.exitCode,
        reason: `exited with code ${n.exitCode}`,
        error: n.facts.firstError,
        source: "exit",
    };
}

/**
 * The cluster's verdict, in this order: failed (a node's DDPSIM_VERDICT, else the first node that exited
 * non-zero for good), succeeded (every node exited 0), stalled (a node is still up but no node logged
 * anything, nor started, for `stallAfterSeconds`), running (some progress line or a finished node), starting.
 * Pure: `nowMs` is the clock.
 */
export function clusterVerdict(nodes: NodeSnapshot[], nowMs: number, stallAfterSeconds: number): ClusterVerdict {
    const failed = failedByVerdict(nodes) ?? failedByExit(nodes);
    if (failed !== undefined) return failed;
    if (nodes.length > 0 && nodes.every(exitedForGood)) return { status: "succeeded" };

    const reporting = [...nodes].sort((a, b) => a.rank - b.rank).find((n) => n.facts.progress !== undefined);
    const progress = reporting === undefined ? {} : { progress: reporting.facts.progress, progressNode: reporting.node };
    const activity = nodes.flatMap((n) => [n.facts.lastLineAtMs, n.startedAtMs]).filter((t): t is number => t !== undefined);
    const up = nodes.some((n) => n.state === "running" || n.state === "paused");
    if (up && activity.length > 0) {
        const idleSeconds = (nowMs - Math.max(...activity)) / 1000;
        if (idleSeconds >= stallAfterSeconds) return { status: "stalled", idleSeconds: Math.floor(idleSeconds), ...progress };
    }
    if (reporting !== undefined || nodes.some(exitedForGood)) return { status: "running", ...progress };
    return { status: "starting" };
}
