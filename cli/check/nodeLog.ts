/**
 * What one node's log says to the check (pure): the launcher's DDPSIM_CHECK lines, the last line the script printed
 * before anything went wrong, the script's first error with the line of the script it came from, and how a worker
 * died when it died of a signal (torchrun's report, faulthandler's dump).
 */
import { CONTAINER_PATHS } from "../../components/plan/defaults";
import { ErrorLineFinder } from "../logs/errorLine";
import { LogLine, timeMs } from "../logs/logLine";
import { isTorchrunLine, parseMarker, stripRankPrefix } from "../logs/logParsers";
import { CheckEvent } from "./types";

export const CHECK_MARKER = "DDPSIM_CHECK";

/**
 * Errors of the distributed layer or the network: what a rank sees when a peer is gone, out of step or late. The
 * node agent's list (training/node_agent.py, TRANSIENT), less the signals.
 */
export const DISTRIBUTED_ERROR =
    /DistBackendError|DistNetworkError|DistStoreError|DistError|ProcessGroup|[Gg]loo|NCCL|[Rr]endezvous|Connection (reset|closed|refused|aborted)|Broken pipe|[Tt]imed? ?out|TimeoutError|[Ss]ocket|ECONNRESET|EPIPE|No route to host|Network is unreachable/;

const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 7: "SIGBUS", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };

export function signalName(signal: number): string {
    return SIGNALS[signal] ?? `signal ${signal}`;
}

/** A frame of the script's own code: `/code/train.py:44 in main`, with its source line when the traceback had it. */
export interface ScriptFrame {
    file: string;
    line: number;
    func: string;
    source?: string;
}

export interface NodeLogFacts {
    /** The launcher's lines, each with when it was logged and the script's last line before it. */
    events: (CheckEvent & { atMs: number; lastLineBefore?: string })[];
    /** The last line the script printed before its first error (or at all). */
    lastLine?: string;
    /** The last line the script printed, errors or not (what a run that recovered ended with). */
    lastLineOverall?: string;
    /** The script's first error line (an exception, argparse), torchrun's own lines skipped. */
    firstError?: string;
    /** The innermost frame of the script's code in the traceback or fatal-signal dump of that error. */
    frame?: ScriptFrame;
    /** A worker that died of a signal: torchrun's `failed (exitcode: -6)`, with faulthandler's and C++'s lines. */
    signal?: { number: number; fatal?: string; what?: string };
}

const TRACEBACK_FRAME = /^\s*File "([^"]+)", line (\d+),? in (\S+)/;
const WORKER_FAILED = /failed \(exitcode: (-?\d+)\) local_rank: \d+/;

function isCodeFile(file: string): boolean {
    return file.startsWith(`${CONTAINER_PATHS.code}/`);
}

/** A line that starts trouble: a traceback, a fatal signal, a C++ terminate, or an error line. */
function startsTrouble(text: string): boolean {
    return /^Traceback \(most recent call last\)|^Fatal Python error|^terminate called|^\S+: error: |^(\w+\.)*\w*(Error|Exception): /.test(text);
}

/** A line the script itself printed (not torchrun's, the agent's, a marker, or a traceback's inner lines). */
function isScriptLine(text: string): boolean {
    const t = text.trimEnd();
    if (t.trim() === "" || /^\s/.test(t) || isTorchrunLine(t) || t.startsWith("[ddpsim") || t.startsWith("DDPSIM_")) return false;
    // Python's carets under a traceback line; C++ backtraces torch prints (`Exception raised from ...`, `frame #3: ...`).
    return !/^[~^ ]+$/.test(t) && !/^(frame #\d+: |Exception raised from )/.test(t);
}

/** Reads one node's log. */
export function nodeLogFacts(lines: LogLine[]): NodeLogFacts {
    const facts: NodeLogFacts = { events: [] };
    const errors = new ErrorLineFinder();
    let troubled = false;
    let frameSearch: "none" | "traceback" | "fatal" = "none";
    let lastFrameInBlock: ScriptFrame | undefined;
    for (let i = 0; i < lines.length; i++) {
        const text = stripRankPrefix(lines[i].text);
        const marker = parseMarker(text, CHECK_MARKER);
        if (marker !== undefined) {
            const before = facts.lastLineOverall !== undefined ? { lastLineBefore: facts.lastLineOverall } : {};
            facts.events.push({ ...(marker as unknown as CheckEvent), atMs: timeMs(lines[i]), ...before });
            continue;
        }
        errors.push(lines[i].text);
        const failed = WORKER_FAILED.exec(text);
        if (failed !== null && Number(failed[1]) < 0 && facts.signal === undefined) facts.signal = { number: -Number(failed[1]) };
        if (/^Fatal Python error: /.test(text) || /^\s*what\(\):/.test(text)) {
            facts.signal ??= { number: 0 };
            if (text.startsWith("Fatal")) facts.signal.fatal ??= text.trim();
            else facts.signal.what ??= text.replace(/^\s*what\(\):\s*/, "").trim();
        }
        if (!troubled && startsTrouble(text)) troubled = true;
        if (isScriptLine(text) && !startsTrouble(text)) {
            facts.lastLineOverall = text.trim();
            if (!troubled) facts.lastLine = text.trim();
        }

        if (facts.frame !== undefined) continue;
        if (text.startsWith("Traceback (most recent call last)")) frameSearch = "traceback";
        else if (text.startsWith("Fatal Python error")) frameSearch = "fatal";
        const frame = TRACEBACK_FRAME.exec(text);
        if (frame === null || frameSearch === "none" || !isCodeFile(frame[1])) {
            // A traceback ends at its exception line: its innermost frame of the script's code is the one to show.
            if (frameSearch === "traceback" && lastFrameInBlock !== undefined && !/^\s/.test(text)) facts.frame = lastFrameInBlock;
            continue;
        }
        const found: ScriptFrame = { file: frame[1], line: Number(frame[2]), func: frame[3] };
        if (frameSearch === "fatal") {
            facts.frame = found; // faulthandler prints the most recent call first
        } else {
            const next = lines[i + 1] === undefined ? "" : stripRankPrefix(lines[i + 1].text);
            if (/^\s{4,}\S/.test(next) && !TRACEBACK_FRAME.test(next)) found.source = next.trim();
            lastFrameInBlock = found;
        }
    }
    if (facts.frame === undefined && lastFrameInBlock !== undefined) facts.frame = lastFrameInBlock;
    if (errors.line !== undefined) facts.firstError = errors.line;
    if (facts.signal?.number === 0 && /Aborted/.test(facts.signal.fatal ?? "")) facts.signal.number = 6;
    return facts;
}

/** `train.py:44 in main (dist.all_reduce(val))`: where in the script, relative to the code folder. */
export function frameText(frame: ScriptFrame | undefined, sourceOf?: (file: string, line: number) => string | undefined): string | undefined {
    if (frame === undefined) return undefined;
    const file = frame.file.slice(CONTAINER_PATHS.code.length + 1);
    const source = frame.source ?? sourceOf?.(file, frame.line);
    return `${file}:${frame.line} in ${frame.func}${source !== undefined && source !== "" ? ` (\`${source}\`)` : ""}`;
}
