/** `ddpsim status`: every node's state and last progress, then one cluster verdict. Reports; never judges by exit code. */
import { Command } from "commander";
import { formatDuration, parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { progressText, resultText, table, verdictText } from "../format";
import { addTargetOptions, DEFAULT_STALL_AFTER, TargetOptions } from "../options";
import { openTarget } from "../sources/open";
import { ClusterSnapshot, ClusterTracker, NodeReport } from "../watch/snapshot";
import { FaultRecord, FaultStore } from "../faults/records";

interface StatusOptions extends TargetOptions {
    output: string;
    stallAfter: string;
}

function uptime(n: NodeReport, nowMs: number): string {
    if (n.state === "running" || n.state === "paused") {
        return n.startedAtMs === undefined ? "-" : `up ${formatDuration((nowMs - n.startedAtMs) / 1000)}`;
    }
    if (n.finishedAtMs !== undefined) return `exited ${formatDuration((nowMs - n.finishedAtMs) / 1000)} ago`;
    return "-";
}

/** `hang since 08:43:40Z (until 08:44:00Z): paused ...`, one line per active fault. */
export function faultLines(faults: FaultRecord[]): string[] {
    return faults.map((f) => {
        const until = f.until === undefined ? "until ddpsim heal" : `until ${f.until}`;
        return `fault: ${f.node} (rank ${f.rank}) ${f.kind} since ${f.startedAt}, ${until}: ${f.what}`;
    });
}

/** Elastic clusters (label ddpsim.minNodes): the rank shown is the deployment's, torchrun's may differ after a change. */
export function elasticNote(snap: ClusterSnapshot): string | undefined {
    const min = snap.nodes.map((n) => n.minNodes).find((m) => m !== undefined);
    if (min === undefined) return undefined;
    return (
        `elastic: minNodes ${min} of ${snap.nodes.length}; RANK is the node's deployment rank (label ddpsim.rank): while a node is ` +
        "away, torchrun numbers the nodes present in host-name order, so the GROUP_RANK of the nodes after it is lower"
    );
}

export function statusTable(snap: ClusterSnapshot, faults: FaultRecord[] = []): string {
    const header = ["NODE", "RANK", "STATE", "EXIT", "RESTARTS", "UPTIME", "GPUS", "PROGRESS"];
    const rows = snap.nodes.map((n) => [
        n.node,
        String(n.rank),
        n.state,
        n.state === "running" || n.state === "created" || n.state === "paused" ? "-" : String(n.exitCode),
        String(n.restarts),
        uptime(n, snap.atMs),
        n.gpus.length === 0 ? "-" : n.gpus.join(","),
        progressText(n.facts.progress) || (n.facts.progress?.line ?? "-"),
    ]);
    const { project, stack, cluster } = snap.ref;
    const lines = [`stack ${stack} (project ${project}, cluster ${cluster}): ${snap.nodes.length} node(s)`, table([header, ...rows])];
    const result = snap.nodes.map((n) => n.facts.result).find((r) => r !== undefined);
    if (result !== undefined) lines.push(`result: ${resultText(result)}`);
    const note = elasticNote(snap);
    if (note !== undefined) lines.push(note);
    lines.push(...faultLines(faults));
    lines.push(`verdict: ${verdictText(snap.verdict)}`);
    return lines.join("\n");
}

/** The same content as JSON, for machines. */
export function statusJson(snap: ClusterSnapshot, faults: FaultRecord[] = []): object {
    const min = snap.nodes.map((n) => n.minNodes).find((m) => m !== undefined);
    return {
        ...snap.ref,
        minNodes: min ?? null,
        faults: faults.map((f) => ({ id: f.id, kind: f.kind, node: f.node, rank: f.rank, startedAt: f.startedAt, until: f.until ?? null, what: f.what })),
        nodes: snap.nodes.map((n) => ({
            node: n.node,
            rank: n.rank,
            role: n.role,
            container: n.name,
            state: n.state,
            exitCode: n.state === "running" || n.state === "created" ? null : n.exitCode,
            restarts: n.restarts,
            startedAt: n.startedAtMs === undefined ? null : new Date(n.startedAtMs).toISOString(),
            finishedAt: n.finishedAtMs === undefined ? null : new Date(n.finishedAtMs).toISOString(),
            uptimeSeconds: n.state === "running" && n.startedAtMs !== undefined ? Math.floor((snap.atMs - n.startedAtMs) / 1000) : null,
            gpus: n.gpus,
            progress: n.facts.progress ?? null,
            lastLineAt: n.facts.lastLineAtMs === undefined ? null : new Date(n.facts.lastLineAtMs).toISOString(),
            firstError: n.facts.firstError ?? null,
            verdict: n.facts.verdict ?? null,
        })),
        result: snap.nodes.map((n) => n.facts.result).find((r) => r !== undefined) ?? null,
        verdict: { ...snap.verdict, text: verdictText(snap.verdict) },
    };
}

async function status(options: StatusOptions): Promise<number> {
    if (options.output !== "table" && options.output !== "json") {
        throw new CliError(`-o/--output must be table or json, got ${JSON.stringify(options.output)}`);
    }
    const stallAfter = parseDuration(options.stallAfter, "--stall-after");
    const { source, ref, nodes } = await openTarget(options);
    const snap = await new ClusterTracker(source, nodes, stallAfter).snapshot();
    const ids = new Set(nodes.map((n) => n.id));
    const faults = FaultStore.of(ref).list().filter((f) => ids.has(f.containerId));
    const text = options.output === "json" ? JSON.stringify(statusJson(snap, faults), null, 2) : statusTable(snap, faults);
    process.stdout.write(`${text}\n`);
    return EXIT.ok;
}

export function statusCommand(): Command {
    const command = new Command("status")
        .description("show every node's state, restarts, uptime, GPUs and last progress line, then the cluster verdict")
        .option("-o, --output <format>", "table or json", "table")
        .option("--stall-after <duration>", "call the run stalled after this long with no new log line (90, 5m, 1h)", DEFAULT_STALL_AFTER)
        .addHelpText(
            "after",
            "\nVerdicts: starting, running, succeeded, failed (node, exit code, first error line), stalled.\n" +
                "Exit code: 0 whenever it could report (it does not judge the run); 2 on errors.",
        );
    return addTargetOptions(command).action((options: StatusOptions) => status(options).then((code) => void (process.exitCode = code)));
}
