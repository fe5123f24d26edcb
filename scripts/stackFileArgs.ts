/**
 * The command line of the exports (`npm run compose`, `npm run manifests`): which stack file to read and where to
 * write. Paths are the caller's: `npm run` starts scripts in the package folder, and INIT_CWD is where it was typed.
 */
import * as path from "path";

export interface StackFileOptions {
    stack: string;
    out: string;
    name: string;
    projectDir: string;
    configFile?: string;
}

export type ParsedArgs = { help: string } | { options: StackFileOptions };

const FLAGS: [string, string][] = [
    ["--stack NAME", "the stack whose Pulumi.<stack>.yaml is read (default dev)"],
    ["--out PATH", "where to write"],
    ["--name NAME", "the cluster's resource name in the stack program (default ddp)"],
    ["--project-dir DIR", "the folder of Pulumi.yaml (default this package's)"],
    ["--config-file FILE", "a stack config file instead of Pulumi.<stack>.yaml"],
];

function usage(command: string, what: string, defaultOut: string): string {
    const width = Math.max(...FLAGS.map(([f]) => f.length));
    return [
        `usage: npm run ${command} -- [--stack NAME] [--out PATH] [--name NAME] [--project-dir DIR] [--config-file FILE]`,
        `  ${what}`,
        ...FLAGS.map(([flag, text]) => `  ${flag.padEnd(width)}  ${flag.startsWith("--out") ? `${text} (default ${defaultOut})` : text}`),
    ].join("\n");
}

/** The options, or the usage text for --help; throws the usage text on a bad command line. */
export function parseStackFileArgs(argv: string[], command: string, what: string, defaultOut: string): ParsedArgs {
    const callerDir = process.env.INIT_CWD ?? process.cwd();
    const options: StackFileOptions = { stack: "dev", out: path.resolve(callerDir, defaultOut), name: "ddp", projectDir: process.cwd() };
    const set: Record<string, (v: string) => void> = {
        "--stack": (v) => (options.stack = v),
        "--out": (v) => (options.out = path.resolve(callerDir, v)),
        "--name": (v) => (options.name = v),
        "--project-dir": (v) => (options.projectDir = path.resolve(callerDir, v)),
        "--config-file": (v) => (options.configFile = path.resolve(callerDir, v)),
    };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === "--help" || argv[i] === "-h") return { help: usage(command, what, defaultOut) };
        const eq = argv[i].indexOf("=");
        const flag = eq > 0 ? argv[i].slice(0, eq) : argv[i];
        const value = eq > 0 ? argv[i].slice(eq + 1) : argv[++i];
        if (set[flag] === undefined || value === undefined) throw new Error(usage(command, what, defaultOut));
        set[flag](value);
    }
    return { options };
}

/**
 * An export's command line: parses it (usage and exit 2 on a bad one, usage and exit 0 for --help), then runs
 * `write` with the options; returns the exit code.
 */
export function runExport(
    argv: string[],
    command: { name: string; what: string; defaultOut: string },
    log: (line: string) => void,
    warn: (line: string) => void,
    write: (options: StackFileOptions) => number,
): number {
    let parsed: ParsedArgs;
    try {
        parsed = parseStackFileArgs(argv, command.name, command.what, command.defaultOut);
    } catch (err) {
        warn((err as Error).message);
        return 2;
    }
    if ("help" in parsed) {
        log(parsed.help);
        return 0;
    }
    return write(parsed.options);
}
