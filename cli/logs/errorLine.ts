import { isTorchrunLine, stripRankPrefix } from "./logParsers";

/** argparse's `prog: error: ...` (prog may be `python3 -m pkg.mod`). */
const ARGPARSE = /^\S+(?: -m \S+)?: error: /;
/** `python3: can't open file '/workspace/x.py': [Errno 2] ...`, `/usr/bin/python3: No module named pkg`. */
const PYTHON = /^\S*python[\d.]*: (can't open file|No module named|Error while finding module)/;
/** The first frame of torchrun's own tracebacks. */
const TORCHRUN_FRAME = /^\s*File ".*(\/torchrun|torch\/distributed\/(run|launch)\.py)", line \d+/;

type Mode = "scan" | "traceback" | "summary";

/**
 * Finds the first error line of a log, fed line by line: the exception line ending the first Python traceback
 * (also a SyntaxError's, which has no `Traceback` header), an argparse `prog: error: ...` line, or Python's
 * `can't open file` / `No module named`, whichever comes first. torchrun's own lines, tracebacks and its
 * ChildFailedError summary block are skipped; `[rank0]:` prefixes are removed.
 */
export class ErrorLineFinder {
    private found: string | undefined;
    private mode: Mode = "scan";
    private firstFrame = true;
    private torchrunTrace = false;
    private rules = 0;

    get line(): string | undefined {
        return this.found;
    }

    push(raw: string): void {
        if (this.found !== undefined) return;
        const text = stripRankPrefix(raw);
        switch (this.mode) {
            case "summary":
                // torchrun's ChildFailedError block sits between two rules of '='.
                if (/^=+$/.test(text.trim()) && ++this.rules >= 2) this.mode = "scan";
                return;
            case "traceback":
                if (text.trim() === "") return;
                if (/^\s/.test(text)) {
                    if (this.firstFrame && TORCHRUN_FRAME.test(text)) this.torchrunTrace = true;
                    if (/^\s*File "/.test(text)) this.firstFrame = false;
                    return;
                }
                this.mode = "scan";
                if (text.includes("ChildFailedError")) return this.startSummary();
                if (this.torchrunTrace || text.startsWith("torch.distributed.elastic.")) return;
                this.found = text.trim();
                return;
            case "scan":
                if (isTorchrunLine(text)) return;
                if (text.startsWith("Traceback (most recent call last):")) return this.startTraceback(false);
                if (/^\s+File ".*", line \d+/.test(text)) {
                    this.startTraceback(TORCHRUN_FRAME.test(text));
                    this.firstFrame = false;
                    return;
                }
                if (text.includes("ChildFailedError")) return this.startSummary();
                if (ARGPARSE.test(text) || PYTHON.test(text)) this.found = text.trim();
                return;
            default: {
                const never: never = this.mode;
                throw new Error(`unknown mode ${never}`);
            }
        }
    }

    private startTraceback(torchrun: boolean): void {
        this.mode = "traceback";
        this.firstFrame = true;
        this.torchrunTrace = torchrun;
    }

    private startSummary(): void {
        this.mode = "summary";
        this.rules = 0;
    }
}

/** The first error line of `lines` (see ErrorLineFinder), or undefined. */
export function firstErrorLine(lines: Iterable<string>): string | undefined {
    const finder = new ErrorLineFinder();
    for (const line of lines) {
        finder.push(line);
        if (finder.line !== undefined) break;
    }
    return finder.line;
}
