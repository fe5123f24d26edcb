/** A node's log from Docker (dockerode, `timestamps: true`), read once or followed, as LogLines. */
import Docker from "dockerode";
import { LogLine, splitTimestamp } from "../../logs/logLine";
import { LogRange } from "../source";
import { ContainerNodeState } from "./cluster";
import { demuxAll, LogDemuxer, StreamName } from "./demux";

type Source = Pick<ContainerNodeState, "id" | "node" | "rank" | "tty">;

/** Docker's `since` for "after this line": seconds.nanoseconds, exact. */
export function sinceValue(line: Pick<LogLine, "sec" | "nanos">): string {
    return `${line.sec}.${String(line.nanos).padStart(9, "0")}`;
}

function toLine(source: Source, stream: StreamName, raw: string): LogLine {
    return { node: source.node, rank: source.rank, stream, ...splitTimestamp(raw) };
}

/** dockerode types `since` as a number; Docker also takes `seconds.nanoseconds` text, which keeps full precision. */
function sinceOf(range: LogRange): { since?: number } {
    if (range.after !== undefined) return { since: sinceValue(range.after) as unknown as number };
    return range.since === undefined ? {} : { since: range.since };
}

function query(range: LogRange) {
    return {
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: range.tail === undefined ? ("all" as unknown as number) : range.tail,
        ...sinceOf(range),
    };
}

/** The node's log as it is now. */
export async function readLogs(docker: Docker, source: Source, range: LogRange = {}): Promise<LogLine[]> {
    const buffer = await docker.getContainer(source.id).logs({ ...query(range), follow: false });
    return demuxAll(buffer, !source.tty).map((l) => toLine(source, l.stream, l.line));
}

/**
 * Streams the node's log to `onLine` until Docker ends the stream (the container stopped) or `signal` aborts;
 * either way the HTTP stream is destroyed before this resolves.
 */
export async function followLogs(
    docker: Docker,
    source: Source,
    range: LogRange,
    onLine: (line: LogLine) => void,
    signal: AbortSignal,
): Promise<void> {
    if (signal.aborted) return;
    let stream: NodeJS.ReadableStream;
    try {
        stream = await docker.getContainer(source.id).logs({ ...query(range), follow: true, abortSignal: signal });
    } catch (err) {
        if (signal.aborted) return;
        throw err;
    }
    const readable = stream as NodeJS.ReadableStream & { destroy(): void };
    await new Promise<void>((resolve) => {
        const demuxer = new LogDemuxer(!source.tty, (s, raw) => onLine(toLine(source, s, raw)));
        let finished = false;
        const finish = () => {
            if (finished) return;
            finished = true;
            signal.removeEventListener("abort", finish);
            readable.destroy();
            if (!signal.aborted) demuxer.end();
            resolve();
        };
        readable.on("data", (chunk: Buffer) => demuxer.push(chunk));
        readable.on("end", finish);
        readable.on("close", finish);
        readable.on("error", finish);
        signal.addEventListener("abort", finish, { once: true });
        if (signal.aborted) finish();
    });
}
