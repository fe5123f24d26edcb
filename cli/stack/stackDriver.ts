/**
 * A Pulumi stack driven through the Pulumi CLI, as a user types it: what `ddpsim run`, `ddpsim check` and the benches
 * (scripts/) use to bring a cluster up and tear it down. `pulumi up --stack <name>` of the project's own program (the
 * CLI starts its Node.js language host, which runs `main` of Pulumi.yaml), `pulumi destroy`, `pulumi stack output`:
 * the same engine, state, language host and providers as `pulumi up` in a terminal, one CLI process per operation.
 *
 * Config for one driver's operations only (`ddpsim run --config`, a bench's stack) goes into a temporary copy of
 * Pulumi.<stack>.yaml with the values added, passed as `--config-file`: the stack file itself is never written.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { CliError } from "../errors";
import { findOnPath, PULUMI_MISSING, PulumiRun, runPulumi } from "./pulumiCli";

export { findOnPath, PULUMI_MISSING };

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
 * it (not a JavaScript stack); an `Unhandled exception:` copy is dropped when the plain one follows.
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

export interface StackDriverOptions {
    /** The Pulumi project folder (Pulumi.yaml). */
    projectDir: string;
    stack: string;
    /** Config values for this driver's operations only, over Pulumi.<stack>.yaml (keys with or without namespace). */
    config?: Record<string, unknown>;
    /** Added to the CLI's environment (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE, ...). */
    env?: Record<string, string>;
    /** What the CLI prints (stdout and stderr), as it comes. */
    onOutput?: (text: string) => void;
    /** Colour in the CLI's output (default: never). */
    color?: boolean;
}

export type Operation = { ok: true; seconds: number; output: string } | { ok: false; seconds: number; output: string; error: string[] };
export type UpOutcome = Operation & { outputs: Record<string, unknown> };

/** `pulumi up` names a stack that does not exist yet (the CLI's words, file and cloud backends alike). */
const NO_SUCH_STACK = /no stack named '[^']*' found|stack '[^']*' not found/i;

export class StackDriver {
    /** Set when this driver created the stack (and Pulumi.<stack>.yaml did not exist before). */
    createdStackFile = false;

    private constructor(
        readonly projectDir: string,
        readonly project: string,
        readonly stackName: string,
        private readonly env: NodeJS.ProcessEnv,
        private readonly configFile: string | undefined,
        private readonly values: Record<string, unknown>,
        private readonly options: StackDriverOptions,
    ) {}

    /** Checks for the project and the CLI and prepares the stack's config; runs no CLI command yet. */
    static async open(options: StackDriverOptions): Promise<StackDriver> {
        const projectDir = path.resolve(options.projectDir);
        const projectFile = path.join(projectDir, "Pulumi.yaml");
        if (!fs.existsSync(projectFile)) {
            throw new CliError(`no Pulumi.yaml in ${projectDir}: run in a Pulumi project folder or give --project-dir`);
        }
        const env: NodeJS.ProcessEnv = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", ...(options.env ?? {}) };
        if (findOnPath("pulumi", env.PATH) === undefined) throw new CliError(PULUMI_MISSING);
        const settings = (parse(fs.readFileSync(projectFile, "utf8")) ?? {}) as { name?: string };
        const project = String(settings.name ?? "");
        const values = options.config ?? {};
        let configFile: string | undefined;
        if (Object.keys(values).length > 0) {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-config-"));
            configFile = path.join(dir, stackFileName(options.stack));
            const stackFile = path.join(projectDir, stackFileName(options.stack));
            const text = fs.existsSync(stackFile) ? fs.readFileSync(stackFile, "utf8") : undefined;
            fs.writeFileSync(configFile, configFileText(text, project, values));
        }
        return new StackDriver(projectDir, project, options.stack, env, configFile, values, options);
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

    private cli(args: string[], signal?: AbortSignal, quiet = false): Promise<PulumiRun> {
        const color = this.options.color === true ? "always" : "never";
        return runPulumi([...args, "--color", color], {
            cwd: this.projectDir,
            env: this.env,
            signal,
            onOutput: quiet ? undefined : this.options.onOutput,
        });
    }

    private operationArgs(): string[] {
        return ["--yes", "--skip-preview", "--stack", this.stackName, ...(this.configFile !== undefined ? ["--config-file", this.configFile] : [])];
    }

    /** Creates the stack (the backend's default secrets provider, as `pulumi stack init` does). */
    private async createStack(): Promise<PulumiRun> {
        const existed = fs.existsSync(path.join(this.projectDir, stackFileName(this.stackName)));
        const init = await this.cli(["stack", "init", this.stackName]);
        if (init.code === 0 && !existed) this.createdStackFile = true;
        return init;
    }

    /** Creates the stack when the backend does not have it yet (`pulumi up` does this too, on its first use). */
    async ensureStack(): Promise<void> {
        const selected = await this.cli(["stack", "select", this.stackName], undefined, true);
        if (selected.code === 0) return;
        const init = await this.createStack();
        if (init.code !== 0) throw new CliError(`cannot create stack ${this.stackName}: ${describeFailure(init.output)}`);
    }

    /** `pulumi up`, creating the stack on first use; resolves (never rejects) with the outputs or the CLI's error lines. */
    async up(signal?: AbortSignal): Promise<UpOutcome> {
        let run = await this.cli(["up", ...this.operationArgs()], signal);
        let seconds = run.seconds;
        if (run.code !== 0 && NO_SUCH_STACK.test(run.output) && !signal?.aborted) {
            const init = await this.createStack();
            if (init.code !== 0) return failed(init, seconds + init.seconds, {});
            run = await this.cli(["up", ...this.operationArgs()], signal);
            seconds += init.seconds + run.seconds;
        }
        if (run.code !== 0) return failed(run, seconds, {});
        return { ok: true, seconds, output: run.output, outputs: await this.outputs() };
    }

    /** `pulumi destroy`; resolves (never rejects). */
    async destroy(signal?: AbortSignal): Promise<Operation> {
        const run = await this.cli(["destroy", ...this.operationArgs()], signal);
        return run.code === 0 ? { ok: true, seconds: run.seconds, output: run.output } : failed(run, run.seconds, undefined);
    }

    /** The stack's outputs in the backend now (after a failed up: what it had recorded); {} when it has none. */
    async outputs(): Promise<Record<string, unknown>> {
        const run = await this.cli(["stack", "output", "--json", "--show-secrets", "--stack", this.stackName], undefined, true);
        if (run.code !== 0) return {};
        try {
            return JSON.parse(run.stdout || "{}") as Record<string, unknown>;
        } catch {
            return {};
        }
    }

    /**
     * `pulumi stack rm` (after a destroy; `force` even with resources left in its state). The stack file goes too
     * when this driver created it, and is kept otherwise.
     */
    async removeStack(force = false): Promise<void> {
        const args = ["stack", "rm", this.stackName, "--yes", ...(force ? ["--force"] : []), ...(this.createdStackFile ? [] : ["--preserve-config"])];
        await this.cli(args, undefined, true);
        if (this.createdStackFile) fs.rmSync(path.join(this.projectDir, stackFileName(this.stackName)), { force: true });
    }

    /** Removes the temporary config file. */
    dispose(): void {
        if (this.configFile !== undefined) fs.rmSync(path.dirname(this.configFile), { recursive: true, force: true });
    }
}

function failed<T extends Record<string, unknown> | undefined>(
    run: PulumiRun,
    seconds: number,
    outputs: T,
): T extends undefined ? Operation : UpOutcome {
    const error = errorLines(run.output);
    const lines = error.length > 0 ? [`${error[0]}${hintFor(run.output)}`, ...error.slice(1)] : [describeFailure(run.output)];
    return { ok: false, seconds, output: run.output, error: lines, ...(outputs !== undefined ? { outputs } : {}) } as never;
}

/** One line for what a failed CLI command printed (its first error line, else its first line), with a hint when known. */
export function describeFailure(output: unknown): string {
    const message = output instanceof Error ? output.message : String(output);
    const line = errorLines(message)[0] ?? message.split("\n").find((l) => l.trim() !== "")?.trim() ?? "the Pulumi CLI failed and printed nothing";
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
