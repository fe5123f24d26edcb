/** A node's log from Docker (dockerode, `timestamps: true`), read once or followed, as LogLines. */
import Docker from "dockerode";
import { NodeState } from "./cluster";
import { demuxAll, LogDemuxer, StreamName } from "./demux";
import { LogLine, splitTimestamp } from "../../logs/logLine";

type Source = Pick<NodeState, "id" | "node" | "rank" | "tty">;

export interface LogRange {
    /** Lines from the end of the log (Docker's `tail`). */
    tail?: number;
    /** Unix seconds (`seconds.nanoseconds` as text keeps full precision), Docker's `since`. */
    since?: number | string;
}

function toLine(source: Source, stream: StreamName, raw: string): LogLine {
    return { node: source.node, rank: source.rank, stream, ...splitTimestamp(raw) };
}

function query(range: LogRange) {
    return {
        stdout: true,
        stderr: true,
        timestamps: true,
        tail: range.tail === undefined ? ("all" as unknown as number) : range.tail,
        ...(range.since === undefined ? {} : { since: range.since as number }),
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
