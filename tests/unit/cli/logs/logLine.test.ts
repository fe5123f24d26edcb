import * as assert from "assert";
import { compareTime, demuxAll, LogDemuxer, LogLine, mergeByTime, sinceValue, splitTimestamp, StreamName, timeMs } from "../../../../cli";

function frame(stream: 1 | 2, text: string): Buffer {
    const payload = Buffer.from(text, "utf8");
    const header = Buffer.alloc(8);
    header[0] = stream;
    header.writeUInt32BE(payload.length, 4);
    return Buffer.concat([header, payload]);
}

function line(node: string, rank: number, stamp: string, text: string): LogLine {
    return { node, rank, stream: "stdout", ...splitTimestamp(`${stamp} ${text}`) };
}

describe("cli log lines", () => {
    it("splits Docker's timestamp from the text, to the nanosecond", () => {
        assert.deepStrictEqual(splitTimestamp("2026-11-28T07:27:47.389603997Z usage: train_ddp.py [-h]"), {
            timestamp: "2026-11-28T07:27:47.389603997Z",
            sec: Date.parse("2026-11-28T07:27:47Z") / 1000,
            nanos: 389603997,
            text: "usage: train_ddp.py [-h]",
        });
        assert.deepStrictEqual(splitTimestamp("2026-11-28T07:27:47.5Z  indented"), {
            timestamp: "2026-11-28T07:27:47.5Z",
            sec: Date.parse("2026-11-28T07:27:47Z") / 1000,
            nanos: 500000000,
            text: " indented",
        });
        assert.deepStrictEqual(splitTimestamp("2026-11-28T07:27:47Z "), {
            timestamp: "2026-11-28T07:27:47Z",
            sec: Date.parse("2026-11-28T07:27:47Z") / 1000,
            nanos: 0,
            text: "",
        });
        assert.deepStrictEqual(splitTimestamp("no stamp here"), { timestamp: "", sec: 0, nanos: 0, text: "no stamp here" });
    });

    it("orders by seconds, then nanoseconds, and gives Docker's since value for 'after this line'", () => {
        const a = splitTimestamp("2026-11-28T07:27:47.000000009Z a");
        const b = splitTimestamp("2026-11-28T07:27:47.000000010Z b");
        const c = splitTimestamp("2026-11-28T07:27:48.500000001Z c");
        assert.ok(compareTime(a, b) < 0 && compareTime(b, c) < 0 && compareTime(c, a) > 0 && compareTime(a, a) === 0);
        assert.strictEqual(sinceValue(a), `${Date.parse("2026-11-28T07:27:47Z") / 1000}.000000009`);
        assert.strictEqual(Math.round(timeMs(c)), Date.parse("2026-11-28T07:27:48.500Z"));
    });

    it("merges nodes in time order, keeping node order for equal times", () => {
        const n0 = [line("n0", 0, "2026-01-01T00:00:01.000000000Z", "a"), line("n0", 0, "2026-01-01T00:00:03.000000000Z", "c")];
        const n1 = [line("n1", 1, "2026-01-01T00:00:02.000000000Z", "b"), line("n1", 1, "2026-01-01T00:00:03.000000000Z", "d")];
        assert.deepStrictEqual(
            mergeByTime([n0, n1]).map((l) => `${l.node}:${l.text}`),
            ["n0:a", "n1:b", "n0:c", "n1:d"],
        );
        assert.deepStrictEqual(mergeByTime([[], []]), []);
    });

    it("demultiplexes stdout and stderr frames cut anywhere across chunks", () => {
        const bytes = Buffer.concat([frame(1, "out one\nout "), frame(2, "err one\n"), frame(1, "two\n"), frame(2, "last without newline")]);
        for (const cut of [1, 3, 7, 8, 9, 15, 20, bytes.length - 1]) {
            const seen: [StreamName, string][] = [];
            const demuxer = new LogDemuxer(true, (s, l) => seen.push([s, l]));
            demuxer.push(bytes.subarray(0, cut));
            demuxer.push(bytes.subarray(cut));
            demuxer.end();
            assert.deepStrictEqual(
                seen,
                [
                    ["stdout", "out one"],
                    ["stderr", "err one"],
                    ["stdout", "out two"],
                    ["stderr", "last without newline"],
                ],
                `cut at ${cut}`,
            );
        }
    });

    it("reads a TTY's raw stream as stdout, a UTF-8 character cut in two included, CRLF trimmed", () => {
        const bytes = Buffer.from("h\u00e9llo\r\nw\u00f6rld\n", "utf8");
        const seen: string[] = [];
        const demuxer = new LogDemuxer(false, (s, l) => seen.push(`${s}:${l}`));
        demuxer.push(bytes.subarray(0, 2));
        demuxer.push(bytes.subarray(2));
        demuxer.end();
        assert.deepStrictEqual(seen, ["stdout:h\u00e9llo", "stdout:w\u00f6rld"]);
        assert.deepStrictEqual(demuxAll(Buffer.from("a\nb"), false), [
            { stream: "stdout", line: "a" },
            { stream: "stdout", line: "b" },
        ]);
    });
});
