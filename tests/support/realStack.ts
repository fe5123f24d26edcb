/**
 * Stacks through the real Pulumi engine, as a user runs them: the CLI (`pulumi stack init`, `pulumi up`,
 * `pulumi preview`, `pulumi destroy`), the Node.js language host running the program on disk, the docker provider;
 * state in a temporary file backend, the empty passphrase, plugins only from PATH (an empty PULUMI_HOME).
 *
 * The project is a checkout of this repository in a temporary folder (sources copied, node_modules linked), made
 * once per test process, so that the stack files the CLI writes never land in the work tree.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { findOnPath, PulumiRun, runPulumi } from "../../cli/stack/pulumiCli";
import { checkoutAt, REPO_ROOT } from "./stackFiles";

export const PROJECT = "ddpsim";

const PULUMI_TOOLS = [
    "pulumi",
    "pulumi-language-nodejs",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-language-yaml",
    "pulumi-gen-python",
    "pulumi-resource-docker",
    "pulumi-resource-random",
];

let toolchainPath: string | undefined;

/**
 * PATH with the Pulumi CLI, the Node.js language host and the providers: the caller's when it has them all, else
 * with scripts/pulumi-toolchain.sh's folder first (it builds the toolchain when missing, reuses it when cached).
 */
export function pulumiPath(): string {
    if (toolchainPath !== undefined) return toolchainPath;
    const current = process.env.PATH ?? "";
    if (PULUMI_TOOLS.every((b) => findOnPath(b, current) !== undefined)) return (toolchainPath = current);
    const printed = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "pulumi-toolchain.sh")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 60 * 60_000,
    });
    const bin = printed.trim().split("\n").pop()!;
    return (toolchainPath = `${bin}${path.delimiter}${current}`);
}

/** A project folder, its state backend and Pulumi home: one per test process. */
export interface Workspace {
    projectDir: string;
    env: NodeJS.ProcessEnv;
}

let shared: Workspace | undefined;

/** A fresh checkout of this repository in a temporary folder, with its own file backend and Pulumi home. */
export function newWorkspace(label = "e2e"): Workspace {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `ddpsim-${label}-`));
    const projectDir = checkoutAt(path.join(root, "ddpsim"));
    for (const dir of ["state", "home"]) fs.mkdirSync(path.join(root, dir));
    return {
        projectDir,
        env: {
            ...process.env,
            PATH: pulumiPath(),
            PULUMI_BACKEND_URL: `file://${path.join(root, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_HOME: path.join(root, "home"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        },
    };
}

/** A second checkout of this repository at `relativePath` beside the workspace's, sharing its backend and Pulumi home. */
export function siblingCheckout(ws: Workspace, relativePath: string): Workspace {
    const dir = path.join(path.dirname(ws.projectDir), "checkouts", relativePath);
    return { projectDir: checkoutAt(dir), env: ws.env };
}

/** The workspace every test of this process shares (stack names keep them apart). */
export function workspace(): Workspace {
    return (shared ??= newWorkspace());
}

export type CliResult = PulumiRun;

/**
 * Runs `pulumi <args>` in the workspace's project (or `cwd`, another project sharing its backend), the way `ddpsim run`
 * runs it (cli/stack/pulumiCli.ts); never rejects. Killed (code null) after `timeoutMs`.
 */
export function pulumi(
    args: string[],
    options: { ws?: Workspace; cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
    const ws = options.ws ?? workspace();
    return runPulumi([...args, "--color", "never"], {
        cwd: options.cwd ?? ws.projectDir,
        env: { ...ws.env, ...(options.env ?? {}) },
        timeoutMs: options.timeoutMs ?? 600_000,
    });
}

/** A config value as a user writes it in Pulumi.<stack>.yaml: JSON text of an array or object becomes YAML. */
function yamlValue(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const trimmed = value.trim();
    if (!trimmed.startsWith("[") && !trimmed.startsWith("{")) return value;
    try {
        return JSON.parse(trimmed);
    } catch {
        return value;
    }
}

/** Writes Pulumi.<stack>.yaml (keys with their namespace, as the stack files have them), keeping its salt. */
export function writeStackFile(stack: string, config: Record<string, unknown>, ws: Workspace = workspace()): void {
    const file = path.join(ws.projectDir, `Pulumi.${stack}.yaml`);
    const salt = fs.existsSync(file) ? /^encryptionsalt: .*$/m.exec(fs.readFileSync(file, "utf8"))?.[0] : undefined;
    const values = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, yamlValue(v)]));
    fs.writeFileSync(file, `${salt !== undefined ? `${salt}\n` : ""}${stringify({ config: values })}`);
}

/** Creates the stack (passphrase secrets) when it does not exist yet; `cwd`: another project than the workspace's. */
export async function ensureStack(stack: string, ws: Workspace = workspace(), cwd?: string): Promise<void> {
    const selected = await pulumi(["stack", "select", stack], { ws, cwd });
    if (selected.code === 0) return;
    const init = await pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"], { ws, cwd });
    if (init.code !== 0) throw new Error(`pulumi stack init ${stack} failed:\n${init.stdout}${init.stderr}`);
}

/** `pulumi stack output --json --show-secrets`: the stack's outputs ({} when it has none). */
export async function stackOutputs(stack: string, ws: Workspace = workspace()): Promise<Record<string, any>> {
    const out = await pulumi(["stack", "output", "--json", "--show-secrets", "--stack", stack], { ws });
    if (out.code !== 0) return {};
    return JSON.parse(out.stdout || "{}");
}

export interface UpResult {
    ok: boolean;
    outputs: Record<string, any>;
    /** What the CLI printed (stdout, then stderr): the program's errors appear here as `pulumi up` prints them. */
    stderr: string;
    /** When `up` returned, in ms since the epoch: every container exists then. */
    finishedAt: number;
    seconds: number;
}

/**
 * `pulumi up --yes --skip-preview` of the repository's program with `config` as the stack's settings (keys as in
 * Pulumi.<stack>.yaml, values as YAML or JSON text), creating the stack on first use. Bounded by `timeoutMs`.
 */
export async function upStack(stack: string, config: Record<string, unknown>, timeoutMs = 300_000, ws: Workspace = workspace()): Promise<UpResult> {
    writeStackFile(stack, config, ws);
    await ensureStack(stack, ws);
    const up = await pulumi(["up", "--yes", "--skip-preview", "--stack", stack], { ws, timeoutMs });
    const finishedAt = Date.now();
    const ok = up.code === 0;
    return { ok, outputs: ok ? await stackOutputs(stack, ws) : {}, stderr: up.output, finishedAt, seconds: up.seconds };
}

/** `pulumi preview --diff` of the stack with its current settings; resolves with what the CLI printed. */
export async function previewStack(stack: string, extraArgs: string[] = [], ws: Workspace = workspace()): Promise<CliResult> {
    return pulumi(["preview", "--diff", "--stack", stack, ...extraArgs], { ws });
}

/** `pulumi destroy --yes --skip-preview`; rejects with the CLI's output when it fails. */
export async function destroyStack(stack: string, ws: Workspace = workspace(), timeoutMs = 600_000): Promise<CliResult> {
    const done = await pulumi(["destroy", "--yes", "--skip-preview", "--stack", stack], { ws, timeoutMs });
    if (done.code !== 0) throw new Error(`pulumi destroy of ${stack} failed:\n${done.stdout}${done.stderr}`);
    return done;
}

/** `pulumi stack rm --force --yes` (resources left in the state are forgotten) and its stack file. */
export async function removeStack(stack: string, ws: Workspace = workspace()): Promise<void> {
    await pulumi(["stack", "rm", stack, "--force", "--yes"], { ws });
    fs.rmSync(path.join(ws.projectDir, `Pulumi.${stack}.yaml`), { force: true });
}
