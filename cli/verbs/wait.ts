/**
 * `ddpsim wait`: blocks until every node has exited for good or the verdict is failed (a node exited non-zero
 * for good, or printed DDPSIM_VERDICT); exit 0 only when every node exited 0.
 */
import { Command } from "commander";
import { formatDuration, parseDuration } from "../durations";
import { EXIT } from "../errors";
import { nodePrefix, progressText, resultText, useColour, verdictText } from "../format";
import { LiveLine } from "../liveLine";
import { readLogs } from "../logSource";
import { addTargetOptions, openTarget, Target, TargetOptions } from "../options";
import { sleep, untilSignal } from "../signals";
import { ClusterSnapshot, ClusterTracker, NodeReport } from "../snapshot";
import { ClusterVerdict, exitedForGood } from "../verdict";
import { DEFAULT_STALL_AFTER } from "./status";

interface WaitOptions extends TargetOptions {
    timeout?: string;
    stallAfter: string;
}

const POLL_MS = 1000;
const FAILED_NODE_LINES = 20;

/** `2 running, 1 exited 0`: how many nodes are in each state. */
export function nodeCounts(nodes: Pick<NodeReport, "state" | "exitCode">[]): string {
    const counts = new Map<string, number>();
    for (const n of nodes) {
        const key = exitedForGood(n) ? `${n.state} ${n.exitCode}` : n.state;
        counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([state, count]) => `${count} ${state}`).join(", ");
}

function progressLine(snap: ClusterSnapshot, elapsedS: number): { text: string; key: string } {
    const v = snap.verdict;
    const counts = nodeCounts(snap.nodes);
    const progress = v.status === "running" || v.status === "stalled" ? progressText(v.progress) : "";
    return { text: `[${formatDuration(elapsedS)}] ${verdictText(v)} | nodes: ${counts}`, key: `${v.status}|${progress}|${counts}` };
}

/** The nodes to show the last lines of: the failed one and any other that exited non-zero on its own. */
function failedNodes(snap: ClusterSnapshot, v: Extract<ClusterVerdict, { status: "failed" }>): NodeReport[] {
    return snap.nodes.filter(
        (n) => n.node === v.node || (exitedForGood(n) && n.exitCode !== 0 && n.facts.verdict?.stoppedBy === undefined),
    );
}

async function report(target: Target, snap: ClusterSnapshot): Promise<number> {
    const v = snap.verdict;
    const result = snap.nodes.map((n) => n.facts.result).find((r) => r !== undefined);
    if (v.status !== "failed") {
        if (result !== undefined) process.stdout.write(`result: ${resultText(result)}\n`);
        process.stdout.write(`verdict: ${verdictText(v)}\n`);
        return EXIT.ok;
    }
    const colour = useColour(process.stderr);
    const out = [`verdict: ${verdictText(v)}`];
    for (const n of failedNodes(snap, v)) {
        const lines = await readLogs(target.docker, n, { tail: FAILED_NODE_LINES });
        out.push(`--- last ${lines.length} lines of ${n.node} (rank ${n.rank}, ${n.state}, exit code ${n.exitCode}) ---`);
        out.push(...lines.map((l) => `${nodePrefix(l.node, l.rank, colour)}${l.text}`));
    }
    process.stderr.write(`${out.join("\n")}\n`);
    return EXIT.runFailed;
}

async function wait(options: WaitOptions): Promise<number> {
    const timeoutS = options.timeout === undefined ? undefined : parseDuration(options.timeout, "--timeout");
    const stallAfter = parseDuration(options.stallAfter, "--stall-after");
    const target = await openTarget(options);
    const tracker = new ClusterTracker(target.docker, target.ref, target.nodes, stallAfter);
    const line = new LiveLine(process.stdout);
    const started = Date.now();
    return untilSignal(async (signal) => {
        try {
            for (;;) {
                const snap = await tracker.snapshot();
                const elapsedS = (Date.now() - started) / 1000;
                const { text, key } = progressLine(snap, elapsedS);
                line.show(text, key);
                if (snap.verdict.status === "failed" || snap.verdict.status === "succeeded") {
                    line.end();
                    return await report(target, snap);
                }
                if (timeoutS !== undefined && elapsedS >= timeoutS) {
                    line.end();
                    process.stderr.write(
                        `ddpsim: timed out after ${formatDuration(timeoutS)} waiting for stack ${target.ref.stack}; ` +
                            `verdict now: ${verdictText(snap.verdict)}\n`,
                    );
                    return EXIT.timeout;
                }
                const left = timeoutS === undefined ? POLL_MS : Math.min(POLL_MS, timeoutS * 1000 - (Date.now() - started));
                await sleep(Math.max(0, left), signal);
                if (signal.aborted) return EXIT.sigint;
            }
        } finally {
            line.end();
        }
    });
}

export function waitCommand(): Command {
    const command = new Command("wait")
        .description("block until every node has exited for good or the run failed; exit 0 only when every node exited 0")
        .option("--timeout <duration>", "give up after this long, exit 124 (90, 30m, 2h)")
        .option("--stall-after <duration>", "show the run as stalled after this long with no new log line", DEFAULT_STALL_AFTER)
        .addHelpText(
            "after",
            "\nExit codes: 0 every node exited 0; 1 the run failed (the verdict and each failed node's last 20 lines\n" +
                "go to stderr); 124 --timeout ran out; 130/143 stopped by SIGINT/SIGTERM; 2 errors.",
        );
    return addTargetOptions(command).action((options: WaitOptions) => wait(options).then((code) => void (process.exitCode = code)));
}
