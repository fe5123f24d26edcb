import { isTorchrunLine, stripRankPrefix } from "./logParsers";

/*
 * The first error line of a log: the same rule as the node agent's (training/node_agent.py, ErrorLineFinder), whose
 * verdict names the error the CLI shows; both are tested on the logs of tests/fixtures/logs
 * (tests/unit/firstErrorLine.test.ts). Change the two together.
 */

/** argparse's `prog: error: ...` (prog may be `python3 -m pkg.mod`). */
const ARGPARSE = /^\S+(?: -m \S+)?: error: /;
/** `python3: can't open file '/workspace/x.py': [Errno 2] ...`, `/usr/bin/python3: No module named pkg`. */
const PYTHON = /^\S*python[\d.]*: (can't open file|No module named|Error while finding module)/;
/** `error: ...`, `[rank 1/2 node 1] error: ...`, `FATAL: ...` at the start of a line (not `val error: 0.12`). */
const ERROR_PREFIX = /^(\[[^\]]*\]\s*)?(error|fatal)\b\s*:/i;
/** An exception line standing alone: `RuntimeError: ...`, `KeyboardInterrupt`, `pkg.mod.SomeException: ...`. */
const EXCEPTION_LINE = /^([A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)|KeyError|StopIteration)(: |$)/;
/** The first frame of torchrun's own tracebacks. */
const TORCHRUN_FRAME = /^\s*File ".*(\/torchrun|torch\/distributed\/(run|launch)\.py)", line \d+/;

type Mode = "scan" | "traceback" | "summary";

/**
 * Finds the first error line of a log, fed line by line: an argparse `prog: error: ...` line, Python's own
 * `can't open file` / `No module named`, a line that starts with `error:` or `fatal:` (after one `[tag]`), the
 * exception line that ends the first Python traceback (also a SyntaxError's, which has no `Traceback` header), or an
 * exception line standing alone, whichever comes first. torchrun's own lines, tracebacks and ChildFailedError summary,
 * and ddpsim's `[ddpsim ...]` lines are skipped; `[rank0]:` prefixes are removed.
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
                if (text.startsWith("[ddpsim") || isTorchrunLine(text)) return;
                if (text.startsWith("Traceback (most recent call last):")) return this.startTraceback(false);
                if (/^\s+File ".*", line \d+/.test(text)) {
                    this.startTraceback(TORCHRUN_FRAME.test(text));
                    this.firstFrame = false;
                    return;
                }
                if (text.includes("ChildFailedError")) return this.startSummary();
                if (ARGPARSE.test(text) || PYTHON.test(text) || ERROR_PREFIX.test(text)) this.found = text.trim();
                else if (EXCEPTION_LINE.test(text) && !text.startsWith("torch.distributed.elastic.")) this.found = text.trim();
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
