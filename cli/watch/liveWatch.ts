/** Watching a run with a live progress line on stdout: what `wait` and `run` show while the run goes on. */
import { formatDuration } from "../durations";
import { progressText, verdictText } from "../format";
import { LiveLine } from "./liveLine";
import { nodeCounts } from "./report";
import { ClusterSnapshot, ClusterTracker } from "./snapshot";
import { WatchEnd, watchCluster } from "./watch";

/** The live line: time, verdict, node states; `key` changes when what it says does. */
export function progressLine(snap: ClusterSnapshot, elapsedS: number): { text: string; key: string } {
    const v = snap.verdict;
    const counts = nodeCounts(snap.nodes);
    const progress = v.status === "running" || v.status === "stalled" ? progressText(v.progress) : "";
    return { text: `[${formatDuration(elapsedS)}] ${verdictText(v)} | nodes: ${counts}`, key: `${v.status}|${progress}|${counts}` };
}

/** Watches until the run is done, the timeout runs out or `signal` aborts, showing the live line meanwhile. */
export async function watchWithLiveLine(tracker: ClusterTracker, timeoutS: number | undefined, signal: AbortSignal): Promise<WatchEnd> {
    const line = new LiveLine(process.stdout);
    try {
        return await watchCluster(tracker, {
            timeoutS,
            signal,
            onSnapshot: (snap, elapsedS) => {
                const { text, key } = progressLine(snap, elapsedS);
                line.show(text, key);
            },
        });
    } finally {
        line.end();
    }
}
