/**
 * Pure readers of single log lines: the DDPSIM_VERDICT and DDPSIM_RESULT markers, progress lines (ours and a
 * user script's), torchrun's own log lines, and the `[rank0]:` prefixes torchrun adds.
 */

/** What a node prints when it stopped for good (`DDPSIM_VERDICT {json}`). */
export interface NodeVerdict {
    /** Hostname of the node that printed it. */
    node: string;
    rank?: number;
    exitCode?: number;
    /** The first error line of the script. */
    error?: string;
    reason?: string;
    /** Unix seconds. */
    time?: number;
    /** Set when this node stopped because another node (this hostname) failed. */
    stoppedBy?: string;
}

/** The last progress a node reported. */
export interface Progress {
    /** The line as printed (rank prefix removed). */
    line: string;
    step?: number;
    total?: number;
    epoch?: number;
    epochs?: number;
    /** 0..100, as printed, or step/total when the line gives both. */
    percent?: number;
}

export const VERDICT_MARKER = "DDPSIM_VERDICT";
export const RESULT_MARKER = "DDPSIM_RESULT";

const RANK_PREFIX = /^\[(?:rank|default)\d+\]:\s?/;

/** `[rank0]: text` and `[default0]:text` (torchrun --tee, local_ranks_filter) become `text`. */
export function stripRankPrefix(text: string): string {
    return text.replace(RANK_PREFIX, "");
}

/** glog lines (`E1128 12:00:00.123000 45 torch/...`), c10d's `[E1128 ...]`/`[W socket.cpp...]`, elastic's. */
export function isTorchrunLine(text: string): boolean {
    return (
        /^[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+\s/.test(text) ||
        /^\[[IWEF](\d{4} | )/.test(text) ||
        text.includes("torch/distributed/elastic/")
    );
}

/** The JSON object after `MARKER ` at the start of a line (after a rank prefix), or undefined. */
export function parseMarker(text: string, marker: string): Record<string, unknown> | undefined {
    const line = stripRankPrefix(text).trimStart();
    if (!line.startsWith(`${marker} `)) return undefined;
    try {
        const value: unknown = JSON.parse(line.slice(marker.length + 1));
        return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    } catch {
        return undefined;
    }
}

const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const int = (v: unknown) => (typeof v === "number" && Number.isInteger(v) ? v : undefined);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** A `DDPSIM_VERDICT {json}` line; undefined for any other line or one without a `node`. */
export function parseVerdict(text: string): NodeVerdict | undefined {
    const json = parseMarker(text, VERDICT_MARKER);
    const node = str(json?.node);
    if (json === undefined || node === undefined) return undefined;
    const verdict: NodeVerdict = { node };
    const fields: [keyof NodeVerdict, unknown][] = [
        ["rank", int(json.rank)],
        ["exitCode", int(json.exitCode)],
        ["error", str(json.error)],
        ["reason", str(json.reason)],
        ["time", num(json.time)],
        ["stoppedBy", str(json.stoppedBy)],
    ];
    for (const [key, value] of fields) if (value !== undefined) (verdict as unknown as Record<string, unknown>)[key] = value;
    return verdict;
}

/** A `DDPSIM_RESULT {json}` line (our trainer's summary, rank 0), or undefined. */
export function parseResult(text: string): Record<string, unknown> | undefined {
    return parseMarker(text, RESULT_MARKER);
}

const COUNT = String.raw`(\d[\d,]*)(?:\s*(?:\/|of)\s*(\d[\d,]*))?`;
const STEP = new RegExp(String.raw`\b(?:global[_ ]step|step|iteration|iter)\b\s*[:=#]?\s*${COUNT}`, "i");
const EPOCH = new RegExp(String.raw`\bepoch\b\s*[:=#]?\s*${COUNT}`, "i");
const PERCENT = /(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*%/;
/** tqdm: ` 45%|████      | 45/100 [00:10<00:12, 4.5it/s]` */
const TQDM_COUNT = /\|\s*(\d+)\/(\d+)\s*\[/;

const whole = (text: string | undefined) => (text === undefined ? undefined : Number(text.replace(/,/g, "")));

/**
 * A progress line: one that mentions a step, iteration or epoch count, or a percentage. Ours:
 * `[ddpsim] step 20/40 ( 50.0%) loss 2.1234 ...`; a user's: `Epoch 3 | Step 64`, `epoch 2/10`, `step: 120`, `45%`.
 * Marker lines and torchrun's own lines are never progress.
 */
export function parseProgress(text: string): Progress | undefined {
    const line = stripRankPrefix(text).trim();
    if (line === "" || line.startsWith("DDPSIM_") || isTorchrunLine(line)) return undefined;
    const progress: Progress = { line };
    const step = STEP.exec(line);
    if (step !== null) {
        progress.step = whole(step[1]);
        progress.total = whole(step[2]);
    } else {
        const tqdm = TQDM_COUNT.exec(line);
        if (tqdm !== null) [progress.step, progress.total] = [whole(tqdm[1]), whole(tqdm[2])];
    }
    const epoch = EPOCH.exec(line);
    if (epoch !== null) {
        progress.epoch = whole(epoch[1]);
        progress.epochs = whole(epoch[2]);
    }
    const percent = PERCENT.exec(line);
    if (percent !== null && Number(percent[1]) <= 100) progress.percent = Number(percent[1]);
    else if (progress.step !== undefined && progress.total !== undefined && progress.total > 0) {
        progress.percent = Math.round((1000 * progress.step) / progress.total) / 10;
    }
    for (const key of ["total", "epochs"] as const) if (progress[key] === undefined) delete progress[key];
    const found = progress.step !== undefined || progress.epoch !== undefined || progress.percent !== undefined;
    return found ? progress : undefined;
}
