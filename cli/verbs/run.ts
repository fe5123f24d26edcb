/**
 * `ddpsim run`, for CI: up, wait, verdict, teardown, exit with the verdict. The work is in ../stack/runStack.ts; the
 * stack driver in ../stack/stackDriver.ts (the Pulumi CLI).
 */
import { Command } from "commander";
import * as path from "path";
import { parseDuration } from "../durations";
import { CliError } from "../errors";
import { checkName, DEFAULT_STALL_AFTER } from "../options";
import { parseConfigPair, runStack } from "../stack/runStack";

interface RunOptions {
    stack?: string;
    projectDir: string;
    config: string[];
    purge?: boolean;
    deleteCheckpoints?: boolean;
    timeout?: string;
    stallAfter: string;
    quiet?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

async function run(options: RunOptions): Promise<number> {
    if (options.stack === undefined || options.stack === "") {
        throw new CliError("--stack is required: the stack to bring up (its config is Pulumi.<stack>.yaml; created when missing)");
    }
    checkName(options.stack, "--stack");
    const config = Object.fromEntries(options.config.map(parseConfigPair));
    return runStack({
        projectDir: path.resolve(options.projectDir),
        stack: options.stack,
        config,
        purge: options.purge === true || options.deleteCheckpoints === true,
        timeoutS: options.timeout === undefined ? undefined : parseDuration(options.timeout, "--timeout"),
        stallAfterS: parseDuration(options.stallAfter, "--stall-after"),
        quiet: options.quiet === true,
    });
}

export function runCommand(): Command {
    return new Command("run")
        .description(
            "for CI: pulumi up of a stack (the Pulumi CLI on PATH), wait for the run, print the verdict " +
                "(and each failed node's last lines), pulumi destroy, exit with the verdict",
        )
        .option("--stack <name>", "the stack (created when missing; config from Pulumi.<stack>.yaml)")
        .option("-C, --project-dir <dir>", "the Pulumi project folder", ".")
        .option("-c, --config <key=value>", "config for this run only, over the stack file (repeatable; value as JSON when it parses)", collect, [])
        .option("--purge", "also remove the checkpoint volume after the destroy")
        .option("--delete-checkpoints", "the same as --purge")
        .option("--timeout <duration>", "stop waiting after this long, tear down, exit 124 (90, 30m, 2h)")
        .option("--stall-after <duration>", "show the run as stalled after this long with no new log line", DEFAULT_STALL_AFTER)
        .option("-q, --quiet", "do not echo pulumi up/destroy output (stderr)")
        .addHelpText(
            "after",
            "\nState: PULUMI_BACKEND_URL, else the project's backend; secrets: PULUMI_CONFIG_PASSPHRASE (or _FILE).\n" +
                "The program runs through pulumi-language-nodejs when it is on PATH, else inline in this process (same program).\n" +
                "Ctrl-C (or SIGTERM) stops the run and tears the cluster down; a second one stops the teardown.\n" +
                "Exit codes: 0 every node exited 0; 1 the run failed (verdict and each failed node's last lines on stderr);\n" +
                "2 errors (bad flag, no Pulumi CLI, Docker not reachable, pulumi up or destroy failed); 124 --timeout ran out;\n" +
                "130/143 stopped by SIGINT/SIGTERM. The cluster is torn down in every case.",
        )
        .action((options: RunOptions) => run(options).then((code) => void (process.exitCode = code)));
}
