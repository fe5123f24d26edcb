/**
 * A Pulumi stack driven through Pulumi's Automation API and the real Pulumi CLI: what `ddpsim run` and the benches
 * (scripts/) use to bring a cluster up and tear it down, the same engine, state and providers as `pulumi up`.
 *
 * The program is the project's own (`main` of Pulumi.yaml, else index.ts), run in one of two ways:
 * - local program: when `pulumi-language-nodejs` is on PATH, the CLI starts the Node.js language host, which runs
 *   the program as `pulumi up` would;
 * - inline program: otherwise (it cannot be built on every machine), the CLI talks to the Automation API's language
 *   runtime inside this process, which requires the project's entry file with the project folder as the working
 *   directory (TypeScript through the project's ts-node, else the one @pulumi/pulumi vendors).
 * Both run the same program file against the same engine; only the process that runs it differs.
 *
 * Config for one driver's operations only (`ddpsim run --config`, a bench's stack) goes into a temporary copy of
 * Pulumi.<stack>.yaml with the values added, passed as `--config-file`: the stack file itself is never written.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import type * as automation from "@pulumi/pulumi/automation";
import { CliError } from "../errors";
import { inlineProgram, ProgramTimes, programEntry, resolveFrom } from "./inlineProgram";

export type ProgramMode = "inline" | "local";

export const LANGUAGE_HOST = "pulumi-language-nodejs";

export const PULUMI_MISSING =
    "the Pulumi CLI (`pulumi`) is not on PATH: install it (https://www.pulumi.com/docs/install/), or in a checkout " +
    'of ddpsim build it with `export PATH="$(bash scripts/pulumi-toolchain.sh):$PATH"`';

/** The first `binary` in the folders of `envPath`, or undefined. */
export function findOnPath(binary: string, envPath: string | undefined = process.env.PATH): string | undefined {
    for (const dir of (envPath ?? "").split(path.delimiter)) {
        if (dir === "") continue;
        const candidate = path.join(dir, binary);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}

/** Local program when the Node.js language host is on PATH, else inline (see the file comment). */
export function chooseProgramMode(envPath: string | undefined = process.env.PATH): ProgramMode {
    return findOnPath(LANGUAGE_HOST, envPath) !== undefined ? "local" : "inline";
}

/** `org/proj/stack` keeps its settings in Pulumi.stack.yaml, as the CLI does. */
export function stackFileName(stack: string): string {
    return `Pulumi.${stack.split("/").pop()}.yaml`;
}

/** Stack config keys in the project's namespace unless they name one (`docker:host`). */
export function namespacedKey(key: string, project: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/**
 * The text of a config file: `stackFile` (the stack's settings as YAML, or undefined) with `values` set in its
 * `config:`. Everything else of the stack file (secrets, their encryption salt, ESC environments) is kept.
 */
export function configFileText(stackFile: string | undefined, project: string, values: Record<string, unknown>): string {
    const settings = (stackFile === undefined ? undefined : parse(stackFile)) ?? {};
    const config: Record<string, unknown> = { ...(settings.config ?? {}) };
    for (const [key, value] of Object.entries(values)) config[namespacedKey(key, project)] = value;
    return stringify({ ...settings, config });
}

/**
 * The lines worth repeating of what a failed CLI command printed: each `error:` line with the lines that continue
 * it (not a JavaScript stack); an inline program's `Unhandled exception:` copy is dropped when the plain one follows.
 */
export function errorLines(output: string): string[] {
    const lines = output.split("\n");
    const blocks: string[][] = [];
    for (let i = 0; i < lines.length; i++) {
        const match = /^(\s*)error: (.*)$/.exec(lines[i]);
        if (match === null) continue;
        const indent = match[1].length;
        const block = [`error: ${match[2].trim()}`];
        for (let j = i + 1; j < lines.length; j++) {
            const line = lines[j];
            const own = line.length - line.trimStart().length;
            if (line.trim() === "" || own <= indent || /^\s*at /.test(line) || /^\s*error: /.test(line)) break;
            block.push(line.trim());
        }
        blocks.push(block);
    }
    const plain = blocks.filter((b) => !b[0].startsWith("error: Unhandled exception: "));
    const chosen = plain.length > 0 ? plain : blocks;
    const seen = new Set<string>();
    return chosen.filter((b) => !seen.has(b.join("\n")) && seen.add(b.join("\n"))).flat();
}

/** The Automation API of the @pulumi/pulumi the program itself will load (one SDK in the process). */
function loadAutomation(projectDir: string): typeof automation {
    const resolved = resolveFrom(projectDir, "@pulumi/pulumi/automation");
    if (resolved === undefined) throw new CliError(`@pulumi/pulumi is not installed for ${projectDir}: run npm ci there`);
    return require(resolved) as typeof automation;
}

export interface StackDriverOptions {
    /** The Pulumi project folder (Pulumi.yaml). */
    projectDir: string;
    stack: string;
    /** Config values for this driver's operations only, over Pulumi.<stack>.yaml (keys with or without namespace). */
    config?: Record<string, unknown>;
    /** Added to the CLI's environment (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, ...). */
    env?: Record<string, string>;
    /** Default: chooseProgramMode(). */
    mode?: ProgramMode;
    /** What the CLI prints (stdout and stderr), as it comes. */
    onOutput?: (text: string) => void;
    /** Colour in the CLI's output (default: never). */
    color?: boolean;
}

export type Operation = { ok: true; seconds: number; output: string } | { ok: false; seconds: number; output: string; error: string[] };
export type UpOutcome = Operation & { outputs: Record<string, unknown> };

export class StackDriver {
    /** The last run of the inline program (undefined for a local program, run by the language host). */
    lastProgram: ProgramTimes | undefined;

    private constructor(
        readonly projectDir: string,
        readonly project: string,
        readonly stackName: string,
        readonly mode: ProgramMode,
        /** Pulumi.<stack>.yaml did not exist before this driver created the stack. */
        readonly createdStackFile: boolean,
        private readonly stack: automation.Stack,
        private readonly configFile: string | undefined,
        private readonly values: Record<string, unknown>,
        private readonly options: StackDriverOptions,
    ) {}

    /** Checks for the CLI, selects the stack (creating it when missing) and prepares its config. */
    static async open(options: StackDriverOptions): Promise<StackDriver> {
        const projectDir = path.resolve(options.projectDir);
        const projectFile = path.join(projectDir, "Pulumi.yaml");
        if (!fs.existsSync(projectFile)) {
            throw new CliError(`no Pulumi.yaml in ${projectDir}: run in a Pulumi project folder or give --project-dir`);
        }
        const envPath = options.env?.PATH ?? process.env.PATH;
        if (findOnPath("pulumi", envPath) === undefined) throw new CliError(PULUMI_MISSING);
        const settings = (parse(fs.readFileSync(projectFile, "utf8")) ?? {}) as { name?: string; main?: string };
        const project = String(settings.name ?? "");
        const mode = options.mode ?? chooseProgramMode(envPath);
        const auto = loadAutomation(projectDir);
        const envVars = {
            PULUMI_SKIP_UPDATE_CHECK: "true",
            // The language host type-checks unless told not to; the inline program does not: both the same way.
            ...(process.env.PULUMI_NODEJS_TRANSPILE_ONLY === undefined ? { PULUMI_NODEJS_TRANSPILE_ONLY: "true" } : {}),
            ...(options.env ?? {}),
        };
        const stackFile = path.join(projectDir, stackFileName(options.stack));
        const existed = fs.existsSync(stackFile);
        let driver: StackDriver | undefined;
        const onLoaded = (times: ProgramTimes) => {
            if (driver !== undefined) driver.lastProgram = times;
        };
        let stack: automation.Stack;
        try {
            stack =
                mode === "inline"
                    ? await auto.LocalWorkspace.createOrSelectStack(
                          { stackName: options.stack, projectName: project, program: inlineProgram(projectDir, programEntry(projectDir, settings.main), onLoaded) },
                          { workDir: projectDir, envVars },
                      )
                    : await auto.LocalWorkspace.createOrSelectStack({ stackName: options.stack, workDir: projectDir }, { envVars });
        } catch (err) {
            throw new CliError(`cannot select or create stack ${options.stack}: ${describeFailure(err)}`);
        }
        const values = options.config ?? {};
        let configFile: string | undefined;
        if (Object.keys(values).length > 0) {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-config-"));
            configFile = path.join(dir, stackFileName(options.stack));
            const text = fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : undefined;
            fs.writeFileSync(configFile, configFileText(text, project, values));
        }
        driver = new StackDriver(projectDir, project, options.stack, mode, !existed && fs.existsSync(stackFile), stack, configFile, values, options);
        return driver;
    }

    /** A plain config value as this driver's operations see it: the override, else the stack file's. */
    configValue(key: string): unknown {
        const full = namespacedKey(key, this.project);
        for (const [k, v] of Object.entries(this.values)) if (namespacedKey(k, this.project) === full) return v;
        const file = path.join(this.projectDir, stackFileName(this.stackName));
        if (!fs.existsSync(file)) return undefined;
        const value = ((parse(fs.readFileSync(file, "utf8")) ?? {}).config ?? {})[full];
        return value !== null && typeof value === "object" && "secure" in value ? undefined : value;
    }

    private common(onText: (text: string) => void) {
        return {
            onOutput: onText,
            onError: onText,
            color: this.options.color === true ? ("always" as const) : ("never" as const),
            ...(this.configFile !== undefined ? { configFile: this.configFile } : {}),
        };
    }

    /** Runs a CLI operation, collecting and forwarding its output; an inline program runs in the project folder. */
    private async operation<T>(run: (onText: (text: string) => void) => Promise<T>): Promise<{ ok: true; value: T; seconds: number; output: string } | { ok: false; seconds: number; output: string; error: string[] }> {
        const started = Date.now();
        let output = "";
        const onText = (text: string) => {
            output += text;
            this.options.onOutput?.(text);
        };
        const before = process.cwd();
        if (this.mode === "inline") process.chdir(this.projectDir);
        try {
            const value = await run(onText);
            return { ok: true, value, seconds: (Date.now() - started) / 1000, output };
        } catch (err) {
            const error = errorLines(output);
            return { ok: false, seconds: (Date.now() - started) / 1000, output, error: error.length > 0 ? error : [describeFailure(err)] };
        } finally {
            if (this.mode === "inline") process.chdir(before);
        }
    }

    /** `pulumi up`; resolves (never rejects) with the stack outputs or the CLI's error lines. */
    async up(signal?: AbortSignal): Promise<UpOutcome> {
        const done = await this.operation((onText) => this.stack.up({ ...this.common(onText), signal }));
        if (!done.ok) return { ...done, outputs: {} };
        const outputs = Object.fromEntries(Object.entries(done.value.outputs).map(([k, v]) => [k, v.value]));
        return { ok: true, seconds: done.seconds, output: done.output, outputs };
    }

    /** `pulumi destroy`; resolves (never rejects). */
    async destroy(signal?: AbortSignal): Promise<Operation> {
        const done = await this.operation((onText) => this.stack.destroy({ ...this.common(onText), signal }));
        return done.ok ? { ok: true, seconds: done.seconds, output: done.output } : done;
    }

    /** The stack's outputs in the backend now (after a failed up: what it had recorded). */
    async outputs(): Promise<Record<string, unknown>> {
        const outputs = await this.stack.outputs().catch(() => ({}) as automation.OutputMap);
        return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.value]));
    }

    /**
     * `pulumi stack rm` (after a destroy; `force` even with resources left in its state). The stack file goes too
     * when this driver created it, and is kept otherwise.
     */
    async removeStack(force = false): Promise<void> {
        await this.stack.workspace.removeStack(this.stackName, { force, preserveConfig: !this.createdStackFile });
        if (this.createdStackFile) fs.rmSync(path.join(this.projectDir, stackFileName(this.stackName)), { force: true });
    }

    /** Removes the temporary config file. */
    dispose(): void {
        if (this.configFile !== undefined) fs.rmSync(path.dirname(this.configFile), { recursive: true, force: true });
    }
}

/** One line for an error of the Automation API (a CommandError carries the whole CLI output), with a hint when known. */
export function describeFailure(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    const stderr = /stderr: ([\s\S]*?)(?:\n\s*err\?:|$)/.exec(message)?.[1]?.trim();
    const line = errorLines(message)[0] ?? (stderr !== undefined && stderr !== "" ? stderr : message).split("\n")[0];
    return `${line}${hintFor(message)}`;
}

function hintFor(message: string): string {
    if (message.includes("PULUMI_ACCESS_TOKEN")) {
        return " (no state backend: set PULUMI_BACKEND_URL, e.g. file://$PWD/.pulumi for state in the project folder, or `pulumi login`)";
    }
    if (/passphrase must be set|incorrect passphrase/i.test(message)) {
        return " (set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE: the stack's secrets are encrypted with it)";
    }
    return "";
}
