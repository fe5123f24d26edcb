/**
 * Docker's log stream, split into lines. A container without a TTY multiplexes stdout and stderr in frames
 * (8-byte header: stream type, 3 zero bytes, payload length as uint32 big-endian); with a TTY the stream is raw.
 * Frames and lines can be cut anywhere across chunks: the demuxer keeps what it has not finished.
 */
import { StringDecoder } from "string_decoder";

export type StreamName = "stdout" | "stderr";

export class LogDemuxer {
    /** Raw (TTY) streams can cut a UTF-8 character in two; frames never do. */
    private readonly decoder = new StringDecoder("utf8");
    private pending: Buffer = Buffer.alloc(0);
    private readonly partial: Record<StreamName, string> = { stdout: "", stderr: "" };

    constructor(
        private readonly multiplexed: boolean,
        private readonly onLine: (stream: StreamName, line: string) => void,
    ) {}

    push(chunk: Buffer): void {
        if (!this.multiplexed) {
            this.text("stdout", this.decoder.write(chunk));
            return;
        }
        this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
        while (this.pending.length >= 8) {
            const size = this.pending.readUInt32BE(4);
            if (this.pending.length < 8 + size) break;
            const stream: StreamName = this.pending[0] === 2 ? "stderr" : "stdout";
            this.text(stream, this.pending.subarray(8, 8 + size).toString("utf8"));
            this.pending = this.pending.subarray(8 + size);
        }
    }

    /** Emits what is left: a last line with no newline. */
    end(): void {
        if (!this.multiplexed) this.text("stdout", this.decoder.end());
        for (const stream of ["stdout", "stderr"] as const) {
            if (this.partial[stream] !== "") this.onLine(stream, this.partial[stream]);
            this.partial[stream] = "";
        }
    }

    private text(stream: StreamName, text: string): void {
        const parts = (this.partial[stream] + text).split("\n");
        this.partial[stream] = parts.pop() ?? "";
        for (const part of parts) this.onLine(stream, part.endsWith("\r") ? part.slice(0, -1) : part);
    }
}

/** All lines of a finished (not followed) log buffer. */
export function demuxAll(buffer: Buffer, multiplexed: boolean): { stream: StreamName; line: string }[] {
    const lines: { stream: StreamName; line: string }[] = [];
    const demuxer = new LogDemuxer(multiplexed, (stream, line) => lines.push({ stream, line }));
    demuxer.push(buffer);
    demuxer.end();
    return lines;
}

/** A whole log buffer as the text of each stream, its lines joined with newlines. */
export function demuxText(buffer: Buffer, multiplexed: boolean): Record<StreamName, string> {
    const lines = demuxAll(buffer, multiplexed);
    const text = (stream: StreamName) => lines.filter((l) => l.stream === stream).map((l) => l.line).join("\n");
    return { stdout: text("stdout"), stderr: text("stderr") };
}
