/**
 * `ddpsim logs`: every node's log merged in time order (their source's timestamps), each line prefixed with its node.
 * With --follow: history first, then live lines until every node has exited for good or SIGINT/SIGTERM; the
 * streams are closed before it returns.
 */
import { Command } from "commander";
import { parseCount, parseSince } from "../durations";
import { EXIT } from "../errors";
import { nodePrefix, useColour } from "../format";
import { compareTime, LogLine, mergeByTime } from "../logs/logLine";
import { selectNodes } from "../sources/nodeSelect";
import { addTargetOptions, TargetOptions } from "../options";
import { sleep, untilSignal } from "../signals";
import { openTarget } from "../sources/open";
import { ClusterSource, LogRange, NodeState } from "../sources/source";
import { exitedForGood } from "../watch/verdict";

interface LogsOptions extends TargetOptions {
    follow?: boolean;
    node?: string[];
    tail?: string;
    since?: string;
    timestamps?: boolean;
}

/** How often followed lines of several nodes are sorted and written. */
const FLUSH_MS = 100;

export function formatLine(line: LogLine, options: { timestamps: boolean; colour: boolean }): string {
    const stamp = options.timestamps && line.timestamp !== "" ? `${line.timestamp} ` : "";
    return `${nodePrefix(line.node, line.rank, options.colour)}${stamp}${line.text}\n`;
}

/** Follows one node across container restarts until it has exited for good or `signal` aborts. */
async function followNode(
    source: ClusterSource,
    node: NodeState,
    start: { after?: LogLine; range: LogRange },
    emit: (line: LogLine) => void,
    signal: AbortSignal,
): Promise<void> {
    let last = start.after;
    const range = start.range;
    while (!signal.aborted) {
        await source.followLogs(node, last === undefined ? range : { after: last }, (line) => {
            if (last !== undefined && compareTime(line, last) <= 0) return;
            last = line;
            emit(line);
        }, signal);
        if (signal.aborted) return;
        const now = await source.state(node).catch(() => undefined);
        if (now === undefined || exitedForGood(now)) return;
        await sleep(250, signal);
    }
}

async function logs(options: LogsOptions): Promise<number> {
    const tail = options.tail === undefined ? undefined : parseCount(options.tail, "--tail");
    const since = options.since === undefined ? undefined : parseSince(options.since, Date.now());
    const { source, nodes: all } = await openTarget(options);
    const nodes = selectNodes(all, options.node);
    const format = { timestamps: options.timestamps === true, colour: useColour(process.stdout) };
    const write = (line: LogLine) => process.stdout.write(formatLine(line, format));

    const states = await Promise.all(nodes.map((n) => source.state(n)));
    const history = await Promise.all(states.map((n) => source.readLogs(n, { tail, since })));
    mergeByTime(history).forEach(write);
    if (options.follow !== true) return EXIT.ok;

    return untilSignal(async (signal) => {
        let buffer: LogLine[] = [];
        const flush = () => {
            const lines = buffer;
            buffer = [];
            mergeByTime([lines]).forEach(write);
        };
        const timer = setInterval(flush, FLUSH_MS);
        try {
            await Promise.all(
                states.map((node, i) => {
                    const seen = history[i];
                    // Nothing shown yet: everything from now on is new, except with --tail 0 (no history at all).
                    const range: LogRange = tail === 0 ? { tail: 0, since } : { since };
                    return followNode(source, node, { after: seen[seen.length - 1], range }, (l) => buffer.push(l), signal);
                }),
            );
        } finally {
            clearInterval(timer);
            flush();
        }
        return EXIT.ok;
    });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function logsCommand(): Command {
    const command = new Command("logs")
        .description("print every node's log merged in time order, each line prefixed with its node")
        .option("-f, --follow", "keep printing new lines until every node has exited for good (Ctrl-C stops)")
        .option("-n, --node <rank|hostname>", "only this node (repeatable)", collect)
        .option("--tail <lines>", "only the last N lines of each node")
        .option("--since <time>", "only lines since a time: 10m, 1h30m, 2024-05-01T12:00:00Z or unix seconds")
        .option("-t, --timestamps", "keep Docker's timestamp on each line")
        .addHelpText("after", "\nExamples:\n  ddpsim logs -f\n  ddpsim logs --node 1 --tail 50\n  ddpsim logs --since 10m --node ddp-node-0");
    return addTargetOptions(command).action((options: LogsOptions) => logs(options).then((code) => void (process.exitCode = code)));
}
