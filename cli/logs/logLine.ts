/** One line of a node's log, with the time its source stamped on it (Docker: `timestamps: true`). */
export interface LogLine {
    /** The node's hostname (label ddpsim.node). */
    node: string;
    rank: number;
    stream: "stdout" | "stderr";
    /** The source's timestamp as written (RFC 3339 with nanoseconds), "" when the line had none. */
    timestamp: string;
    /** The timestamp as sortable parts: unix seconds and nanoseconds. */
    sec: number;
    nanos: number;
    /** The line without its timestamp and without the trailing newline. */
    text: string;
}

const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) (.*)$/s;

/** Splits `2024-05-01T12:00:00.123456789Z text` into its time and text; a line with no timestamp keeps time 0. */
export function splitTimestamp(raw: string): { timestamp: string; sec: number; nanos: number; text: string } {
    const m = STAMP.exec(raw);
    if (m === null) return { timestamp: "", sec: 0, nanos: 0, text: raw };
    const sec = Date.parse(`${m[1]}${m[3]}`) / 1000;
    const nanos = m[2] === undefined ? 0 : Number(m[2].padEnd(9, "0"));
    return { timestamp: raw.slice(0, raw.length - m[4].length - 1), sec, nanos, text: m[4] };
}

/** Negative when `a` was logged before `b`. */
export function compareTime(a: Pick<LogLine, "sec" | "nanos">, b: Pick<LogLine, "sec" | "nanos">): number {
    return a.sec !== b.sec ? a.sec - b.sec : a.nanos - b.nanos;
}

/** The time of a line in milliseconds since the epoch. */
export function timeMs(line: Pick<LogLine, "sec" | "nanos">): number {
    return line.sec * 1000 + line.nanos / 1e6;
}

/**
 * Every node's lines in one list, in time order; lines of equal time keep their node's order, and nodes their
 * order in `perNode`. Each list must already be in time order (as a source returns it).
 */
export function mergeByTime(perNode: LogLine[][]): LogLine[] {
    const all = perNode.flatMap((lines, source) => lines.map((line, index) => ({ line, source, index })));
    all.sort((a, b) => compareTime(a.line, b.line) || a.source - b.source || a.index - b.index);
    return all.map((e) => e.line);
}
