import { CliError } from "./errors";

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A duration in seconds from `90`, `90s`, `1m30s`, `10m`, `2h`, `500ms`, `1.5h` (a bare number is seconds).
 * Throws a CliError naming `flag` when the text is not a duration.
 */
export function parseDuration(text: string, flag: string): number {
    const trimmed = text.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
    const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
    let total = 0;
    let end = 0;
    for (let m = re.exec(trimmed); m !== null; m = re.exec(trimmed)) {
        total += Number(m[1]) * UNIT_SECONDS[m[2]];
        end = re.lastIndex;
    }
    if (trimmed === "" || end !== trimmed.length) {
        throw new CliError(`${flag} must be a duration such as 90, 90s, 1m30s, 10m or 2h, got ${JSON.stringify(text)}`);
    }
    return total;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Docker's `--since` forms, as unix seconds: a duration back from `nowMs` (`10m`, `1h30m`), an RFC 3339 date
 * (`2024-05-01T12:00:00Z`, `2024-05-01`), or unix seconds (`1714564800`, `1714564800.5`).
 */
export function parseSince(text: string, nowMs: number): number {
    const trimmed = text.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
    if (RFC3339.test(trimmed)) {
        const ms = Date.parse(trimmed);
        if (!Number.isNaN(ms)) return ms / 1000;
    }
    try {
        return nowMs / 1000 - parseDuration(trimmed, "--since");
    } catch {
        throw new CliError(
            `--since must be a duration (10m, 1h30m), an RFC 3339 time (2024-05-01T12:00:00Z) or unix seconds, ` +
                `got ${JSON.stringify(text)}`,
        );
    }
}

/** A whole number >= `min` from a flag's text, or a CliError naming the flag. */
export function parseCount(text: string, flag: string, min = 0): number {
    if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
        throw new CliError(`${flag} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`);
    }
    return Number(text);
}

/** `42s`, `3m05s`, `2h07m`, `3d04h`: two units at most, for tables. */
export function formatDuration(seconds: number): string {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
    return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, "0")}h`;
}
