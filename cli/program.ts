/** The `ddpsim` command: verbs, shared flags, help, and how errors become one line on stderr and an exit code. */
import { Command, CommanderError } from "commander";
import * as fs from "fs";
import * as path from "path";
import { CliError, EXIT } from "./errors";
import { chaosCommand } from "./verbs/chaos";
import { checkCommand } from "./verbs/check";
import { faultCommand } from "./verbs/fault";
import { healCommand } from "./verbs/heal";
import { logsCommand } from "./verbs/logs";
import { runCommand } from "./verbs/run";
import { statusCommand } from "./verbs/status";
import { waitCommand } from "./verbs/wait";

/** This package's version (package.json above this file, from cli/ or bin/cli/). */
function version(): string {
    for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) return (JSON.parse(fs.readFileSync(file, "utf8")) as { version?: string }).version ?? "0.0.0";
    }
    return "0.0.0";
}

export function buildProgram(): Command {
    const program = new Command("ddpsim")
        .description(
            "Operate a ddpsim cluster (a simulated multi-node PyTorch DDP run) on this Docker host, without the Pulumi CLI.\n" +
                "Containers are found by their labels; Docker is reached through DOCKER_HOST or the local socket.",
        )
        .version(version())
        .exitOverride()
        .showHelpAfterError("(add --help for usage)");
    for (const verb of [statusCommand(), logsCommand(), waitCommand(), faultCommand(), healCommand(), chaosCommand()]) {
        program.addCommand(verb.exitOverride().showHelpAfterError("(add --help for usage)"));
    }
    for (const verb of [runCommand(), checkCommand()]) program.addCommand(verb.exitOverride().showHelpAfterError("(add --help for usage)"));
    program.addHelpText("after", "\nSee docs/cli.md for the labels, verdicts and exit codes.");
    return program;
}

/** Runs the command line; resolves to the exit code (errors are written to stderr here). */
export async function runCli(argv: string[]): Promise<number> {
    process.exitCode = undefined;
    try {
        await buildProgram().parseAsync(argv, { from: "user" });
        return Number(process.exitCode ?? EXIT.ok);
    } catch (err) {
        if (err instanceof CommanderError) {
            // commander has printed help, the version, or its usage error already.
            return err.exitCode === 0 ? EXIT.ok : EXIT.error;
        }
        if (err instanceof CliError) {
            process.stderr.write(`ddpsim: ${err.message}\n`);
            return err.exitCode;
        }
        process.stderr.write(`ddpsim: ${err instanceof Error ? err.message : String(err)}\n`);
        return EXIT.error;
    }
}
