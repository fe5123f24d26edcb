/** Text for people: tables, progress, verdicts, colours (on a terminal only). */
import { formatDuration } from "./durations";
import { Progress } from "./logs/logParsers";
import { ClusterVerdict } from "./watch/verdict";

/** Colours only on a TTY, and never with NO_COLOR set. */
export function useColour(stream: NodeJS.WriteStream): boolean {
    return stream.isTTY === true && (process.env.NO_COLOR ?? "") === "";
}

const PALETTE = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92, 94];

/** `[ddp-node-1] ` in the node's colour when `colour`. */
export function nodePrefix(node: string, rank: number, colour: boolean): string {
    const prefix = `[${node}]`;
    if (!colour) return `${prefix} `;
    const code = PALETTE[(rank >= 0 && Number.isFinite(rank) ? rank : 0) % PALETTE.length];
    return `\x1b[${code}m${prefix}\x1b[0m `;
}

/** `epoch 3/10 step 20/40 50.0%`: what a progress line says, short. */
export function progressText(p: Progress | undefined): string {
    if (p === undefined) return "";
    const parts: string[] = [];
    const count = (name: string, n?: number, of?: number) => n !== undefined && parts.push(`${name} ${n}${of !== undefined ? `/${of}` : ""}`);
    count("epoch", p.epoch, p.epochs);
    count("step", p.step, p.total);
    if (p.percent !== undefined) parts.push(`${p.percent.toFixed(1)}%`);
    return parts.join(" ");
}

/** The cluster verdict in one line, e.g. `failed: ddp-node-1 (rank 1) exited with code 1: train_ddp.py: error: ...`. */
export function verdictText(v: ClusterVerdict): string {
    switch (v.status) {
        case "starting":
            return "starting: containers up, no progress line yet";
        case "running":
            return v.progress === undefined ? "running" : `running: ${v.progressNode} ${progressText(v.progress)}`;
        case "stalled": {
            const last = v.progress === undefined ? "" : ` (last progress: ${v.progressNode} ${progressText(v.progress)})`;
            return `stalled: no node logged a line for ${formatDuration(v.idleSeconds)}${last}`;
        }
        case "succeeded":
            return "succeeded: every node exited 0";
        case "failed": {
            const rank = v.rank >= 0 ? ` (rank ${v.rank})` : "";
            const error = v.error === undefined ? "" : `: ${v.error}`;
            if (v.source === "exit") return `failed: ${v.node}${rank} ${v.reason}${error}`;
            const code = v.exitCode === undefined ? "" : ` with exit code ${v.exitCode}`;
            return `failed: ${v.node}${rank} stopped for good${code} (${v.reason})${error}`;
        }
        default: {
            const never: never = v;
            return String(never);
        }
    }
}

/** Columns aligned with two spaces; the last column is not padded. */
export function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
    return rows
        .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd())
        .join("\n");
}

/** Our trainer's DDPSIM_RESULT in one line; any other JSON as it is. */
export function resultText(result: Record<string, unknown>): string {
    const r = result as Record<string, number | string | boolean | null | undefined>;
    if (r.final_step === undefined || r.world_size === undefined) return JSON.stringify(result);
    const parts = [`step ${r.final_step}${r.steps !== undefined ? `/${r.steps}` : ""}`, `world size ${r.world_size}`];
    if (typeof r.agree === "boolean") parts.push(r.agree ? "ranks agree" : "RANKS DISAGREE");
    if (typeof r.first_loss === "number" && typeof r.final_loss === "number") {
        parts.push(`loss ${r.first_loss.toFixed(4)} -> ${r.final_loss.toFixed(4)}`);
    }
    if (typeof r.elapsed_s === "number") parts.push(`${r.elapsed_s.toFixed(1)} s`);
    return parts.join(", ");
}
