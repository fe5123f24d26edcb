import { ErrorLineFinder } from "./errorLine";
import { LogLine, timeMs } from "./logLine";
import { NodeVerdict, parseProgress, parseResult, parseVerdict, Progress } from "./logParsers";

/** What one node's log says, as far as the CLI cares. */
export interface LogFacts {
    /** The last progress line (see parseProgress). */
    progress?: Progress;
    /** The node's DDPSIM_VERDICT (the last one it printed). */
    verdict?: NodeVerdict;
    /** The DDPSIM_RESULT summary (our trainer, rank 0). */
    result?: Record<string, unknown>;
    /** The first error line of the log (see ErrorLineFinder). */
    firstError?: string;
    /** When the node last logged anything, in ms since the epoch (its source's timestamps). */
    lastLineAtMs?: number;
    /** Lines read so far. */
    lines: number;
}

/**
 * A run's totals do not change: a progress line that gives a step (or epoch) but no total, such as our trainer's
 * `done: ... step 20`, keeps the total of the line before it (and the percent that follows from it).
 */
export function withTotals(next: Progress, previous: Progress | undefined): Progress {
    if (previous === undefined) return next;
    const merged = { ...next };
    if (merged.step !== undefined && merged.total === undefined && previous.total !== undefined && merged.step <= previous.total) {
        merged.total = previous.total;
        merged.percent ??= Math.round((1000 * merged.step) / merged.total) / 10;
    }
    if (merged.epoch !== undefined && merged.epochs === undefined && previous.epochs !== undefined && merged.epoch <= previous.epochs) {
        merged.epochs = previous.epochs;
    }
    return merged;
}

/** Builds a node's LogFacts from its lines, in order, as they come (a follow or repeated reads). */
export class FactsBuilder {
    private readonly errors = new ErrorLineFinder();
    private readonly current: LogFacts = { lines: 0 };

    add(line: Pick<LogLine, "text" | "sec" | "nanos">): void {
        const facts = this.current;
        facts.lines += 1;
        if (line.sec > 0) facts.lastLineAtMs = timeMs(line);
        this.errors.push(line.text);
        const verdict = parseVerdict(line.text);
        if (verdict !== undefined) {
            facts.verdict = verdict;
            return;
        }
        const result = parseResult(line.text);
        if (result !== undefined) {
            facts.result = result;
            return;
        }
        const progress = parseProgress(line.text);
        if (progress !== undefined) facts.progress = withTotals(progress, facts.progress);
    }

    get facts(): LogFacts {
        const firstError = this.errors.line;
        return firstError === undefined ? { ...this.current } : { ...this.current, firstError };
    }
}

/** The facts of a whole log at once. */
export function factsOf(lines: Pick<LogLine, "text" | "sec" | "nanos">[]): LogFacts {
    const builder = new FactsBuilder();
    for (const line of lines) builder.add(line);
    return builder.facts;
}
