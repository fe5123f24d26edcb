/** The flags every verb shares (--owner, --project, --stack, --cluster); sources/open.ts finds the cluster they select. */
import { Command } from "commander";
import * as fs from "fs";
import * as path from "path";
import { CliError } from "./errors";

export interface TargetOptions {
    owner?: string;
    project?: string;
    stack?: string;
    cluster?: string;
}

export const DEFAULT_CLUSTER = "ddp";
export const FALLBACK_PROJECT = "ddpsim";
/** Seconds with no new log line after which a running cluster counts as stalled (--stall-after). */
export const DEFAULT_STALL_AFTER = "300";

/** The `name:` of ./Pulumi.yaml (the project's), else "ddpsim". */
export function defaultProject(dir = process.cwd()): string {
    const file = path.join(dir, "Pulumi.yaml");
    if (!fs.existsSync(file)) return FALLBACK_PROJECT;
    const line = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .find((l) => /^name\s*:/.test(l));
    const value = line
        ?.replace(/^name\s*:\s*/, "")
        .replace(/\s+#.*$/, "")
        .trim()
        .replace(/^(["'])(.*)\1$/, "$2");
    return value === undefined || value === "" ? FALLBACK_PROJECT : value;
}

export function addTargetOptions(command: Command): Command {
    return command
        .option("--owner <name>", "whose cluster (label ddpsim.owner; default: your user name, as ddpsim:owner defaults to)")
        .option("--project <name>", "Pulumi project (default: name in ./Pulumi.yaml, else ddpsim)")
        .option("--stack <name>", "stack (default: the only stack of the project on this host)")
        .option("--cluster <name>", "DdpCluster resource name", DEFAULT_CLUSTER);
}

export function checkName(value: string | undefined, flag: string): void {
    if (value !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.\-/]*$/.test(value)) {
        throw new CliError(`${flag} must be a Pulumi name (letters, digits, - _ . /), got ${JSON.stringify(value)}`);
    }
}
