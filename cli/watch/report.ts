/**
 * The end of a run in words: the verdict on stdout when it succeeded; on failure, the verdict and the last lines
 * of each failed node on stderr. Returns the exit code (`wait`, and a later `run`).
 */
import { EXIT } from "../errors";
import { nodePrefix, resultText, useColour, verdictText } from "../format";
import { ClusterSource } from "../sources/source";
import { ClusterSnapshot, NodeReport } from "./snapshot";
import { ClusterVerdict, exitedForGood } from "./verdict";

export const FAILED_NODE_LINES = 20;

/** `2 running, 1 exited 0`: how many nodes are in each state. */
export function nodeCounts(nodes: Pick<NodeReport, "state" | "exitCode">[]): string {
    const counts = new Map<string, number>();
    for (const n of nodes) {
        const key = exitedForGood(n) ? `${n.state} ${n.exitCode}` : n.state;
        counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([state, count]) => `${count} ${state}`).join(", ");
}

/** The nodes to show the last lines of: the failed one and any other that exited non-zero on its own. */
function failedNodes(snap: ClusterSnapshot, v: Extract<ClusterVerdict, { status: "failed" }>): NodeReport[] {
    return snap.nodes.filter(
        (n) => n.node === v.node || (exitedForGood(n) && n.exitCode !== 0 && n.facts.verdict?.stoppedBy === undefined),
    );
}

/** Writes how the run ended (see the file comment); resolves to the exit code: 0 unless it failed, then 1. */
export async function report(source: ClusterSource, snap: ClusterSnapshot): Promise<number> {
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
        const lines = await source.readLogs(n, { tail: FAILED_NODE_LINES });
        const code = exitedForGood(n) || n.state === "restarting" ? `, exit code ${n.exitCode}` : "";
        out.push(`--- last ${lines.length} lines of ${n.node} (rank ${n.rank}, ${n.state}${code}) ---`);
        out.push(...lines.map((l) => `${nodePrefix(l.node, l.rank, colour)}${l.text}`));
    }
    process.stderr.write(`${out.join("\n")}\n`);
    return EXIT.runFailed;
}
