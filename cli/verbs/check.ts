/**
 * `ddpsim check`, for CI: does this training script really work on N nodes? The work is in ../check/ (docs/check.md).
 */
import { Command } from "commander";
import * as path from "path";
import { runCheck } from "../check/check";
import { parseDuration } from "../durations";
import { CliError } from "../errors";
import { parseConfigPair } from "../stack/runStack";
import { untilSignal } from "../signals";

interface CheckFlags {
    code: string;
    script?: string;
    module?: string;
    nodes: string;
    image: string;
    timeout: string;
    collectiveTimeout: string;
    lostNode: boolean;
    requireResume?: boolean;
    out: string;
    keepVolumes?: boolean;
    config: string[];
    verbose?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `2,3` as world sizes. */
export function parseWorldSizes(text: string): number[] {
    const sizes = text.split(",").map((s) => s.trim());
    if (sizes.length === 0 || sizes.some((s) => !/^\d+$/.test(s) || Number(s) < 2 || Number(s) > 16)) {
        throw new CliError(`--nodes takes world sizes from 2 to 16, comma-separated (2,3), got ${JSON.stringify(text)}`);
    }
    return sizes.map(Number);
}

async function check(flags: CheckFlags, args: string[]): Promise<number> {
    if ((flags.script === undefined) === (flags.module === undefined)) {
        throw new CliError("give exactly one of --script FILE (relative to --code) and --module NAME (python -m NAME)");
    }
    const extraConfig = Object.fromEntries(flags.config.map(parseConfigPair));
    const collectiveTimeoutSeconds = parseDuration(flags.collectiveTimeout, "--collective-timeout");
    return untilSignal(async (signal) => {
        const result = await runCheck(
            {
                codeDir: path.resolve(flags.code),
                ...(flags.script !== undefined ? { script: flags.script } : {}),
                ...(flags.module !== undefined ? { module: flags.module } : {}),
                args,
                worldSizes: parseWorldSizes(flags.nodes),
                image: flags.image,
                timeoutSeconds: parseDuration(flags.timeout, "--timeout"),
                collectiveTimeoutSeconds,
                lostNode: flags.lostNode,
                requireResume: flags.requireResume === true,
                out: path.resolve(flags.out),
                keepVolumes: flags.keepVolumes === true,
                extraConfig,
                quiet: flags.verbose !== true,
                say: (line) => process.stderr.write(`ddpsim check: ${line}\n`),
            },
            signal,
        );
        return result.exitCode;
    });
}

export function checkCommand(): Command {
    return new Command("check")
        .description("for CI: run a DDP training script unchanged on simulated CPU nodes (pulumi up of temporary stacks) and check that it works: two world sizes, no hang, ranks agree, survives a lost node")
        .argument("[args...]", "the script's arguments (after --)")
        .option("--code <dir>", "the folder of your code, mounted read-only at /code", ".")
        .option("--script <file>", "the training script, relative to --code")
        .option("--module <name>", "a module to run as python -m NAME (instead of --script)")
        .option("--nodes <sizes>", "world sizes of the plain runs, comma-separated; the lost-node run uses the first", "2,3")
        .option("--image <ref>", "the node image (torch and torchrun; the CPU image by default)", "ddpsim-cpu:latest")
        .option("--timeout <duration>", "limit of each run, from pulumi up to the last node's end (the lost-node run gets twice as long)", "5m")
        .option("--collective-timeout <duration>", "how long a rank waits in a collective before it counts as a hang (init_process_group's timeout when the script sets none)", "30")
        .option("--no-lost-node", "skip the run that kills a node mid-training")
        .option("--require-resume", "fail the lost-node finding when the script restarts from scratch instead of resuming")
        .option("--out <dir>", "where report.md, junit.xml, check.json, timeline.png and the logs go", "ddpsim-check")
        .option("--keep-volumes", "keep each run's working volume (/workspace) instead of removing it with the run")
        .option("-c, --config <key=value>", "more stack config for every run, e.g. torchrunArgs='[\"--tee\",\"3\"]' (repeatable)", collect, [])
        .option("-v, --verbose", "echo pulumi up/destroy output (stderr)")
        .addHelpText(
            "after",
            "\nExample: npx ddpsim check --code . --script train.py -- --epochs 2\n" +
                "Needs Docker, the Pulumi CLI and pulumi-language-nodejs on PATH, and the image (bash training/cpu-image/build.sh).\n" +
                "State and stacks are temporary; $GITHUB_STEP_SUMMARY gets the Markdown report when set.\n" +
                "Exit codes: 0 no finding failed; 1 a finding failed; 2 bad input or the engine failed; 130/143 interrupted. See docs/check.md.",
        )
        .action((args: string[], flags: CheckFlags) => check(flags, args).then((code) => void (process.exitCode = code)));
}
