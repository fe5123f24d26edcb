/**
 * Polls a cluster until it is done: every node exited for good (succeeded or failed), or failed earlier (a
 * DDPSIM_VERDICT line). `wait` shows it; a later `run` waits the same way between its up and its teardown.
 */
import { sleep } from "../signals";
import { ClusterSnapshot, ClusterTracker } from "./snapshot";

export type WatchEnd =
    | { end: "done"; snap: ClusterSnapshot }
    | { end: "timeout"; snap: ClusterSnapshot }
    | { end: "aborted"; snap: ClusterSnapshot };

export interface WatchOptions {
    /** Give up after this many seconds. */
    timeoutS?: number;
    pollMs?: number;
    signal: AbortSignal;
    /** Called with every snapshot, the last one included, and the seconds since the watch began. */
    onSnapshot?: (snap: ClusterSnapshot, elapsedS: number) => void;
}

export function isDone(snap: ClusterSnapshot): boolean {
    return snap.verdict.status === "failed" || snap.verdict.status === "succeeded";
}

export async function watchCluster(tracker: ClusterTracker, options: WatchOptions): Promise<WatchEnd> {
    const pollMs = options.pollMs ?? 1000;
    const started = Date.now();
    for (;;) {
        const snap = await tracker.snapshot();
        const elapsedMs = Date.now() - started;
        options.onSnapshot?.(snap, elapsedMs / 1000);
        if (isDone(snap)) return { end: "done", snap };
        if (options.timeoutS !== undefined && elapsedMs >= options.timeoutS * 1000) return { end: "timeout", snap };
        const left = options.timeoutS === undefined ? pollMs : Math.min(pollMs, options.timeoutS * 1000 - elapsedMs);
        await sleep(Math.max(0, left), options.signal);
        if (options.signal.aborted) return { end: "aborted", snap };
    }
}
