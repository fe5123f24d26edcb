/**
 * `ddpsim wait`: blocks until every node has exited for good or the verdict is failed (a node exited non-zero
 * for good, or printed DDPSIM_VERDICT); exit 0 only when every node exited 0.
 */
import { Command } from "commander";
import { formatDuration, parseDuration } from "../durations";
import { EXIT } from "../errors";
import { verdictText } from "../format";
import { watchWithLiveLine } from "../watch/liveWatch";
import { addTargetOptions, DEFAULT_STALL_AFTER, TargetOptions } from "../options";
import { report } from "../watch/report";
import { untilSignal } from "../signals";
import { openTarget } from "../sources/open";
import { ClusterTracker } from "../watch/snapshot";

interface WaitOptions extends TargetOptions {
    timeout?: string;
    stallAfter: string;
}

async function wait(options: WaitOptions): Promise<number> {
    const timeoutS = options.timeout === undefined ? undefined : parseDuration(options.timeout, "--timeout");
    const stallAfter = parseDuration(options.stallAfter, "--stall-after");
    const target = await openTarget(options);
    const tracker = new ClusterTracker(target.source, target.nodes, stallAfter);
    return untilSignal(async (signal) => {
        const result = await watchWithLiveLine(tracker, timeoutS, signal);
        switch (result.end) {
            case "done":
                return report(target.source, result.snap);
            case "timeout":
                process.stderr.write(
                    `ddpsim: timed out after ${formatDuration(timeoutS ?? 0)} waiting for stack ${target.ref.stack}; ` +
                        `verdict now: ${verdictText(result.snap.verdict)}\n`,
                );
                return EXIT.timeout;
            case "aborted":
                return EXIT.sigint;
            default: {
                const never: never = result;
                throw new Error(`unknown end ${JSON.stringify(never)}`);
            }
        }
    });
}

export function waitCommand(): Command {
    const command = new Command("wait")
        .description("block until every node has exited for good or the run failed; exit 0 only when every node exited 0")
        .option("--timeout <duration>", "give up after this long, exit 124 (90, 30m, 2h)")
        .option("--stall-after <duration>", "show the run as stalled after this long with no new log line", DEFAULT_STALL_AFTER)
        .addHelpText(
            "after",
            "\nExit codes: 0 every node exited 0; 1 the run failed (the verdict and each failed node's last 20 lines\n" +
                "go to stderr); 124 --timeout ran out; 130/143 stopped by SIGINT/SIGTERM; 2 errors.",
        );
    return addTargetOptions(command).action((options: WaitOptions) => wait(options).then((code) => void (process.exitCode = code)));
}
