/** Runs the built `ddpsim` command (bin/cli/main.js) as a user would, building it first when cli/ is newer. */
import { ChildProcessWithoutNullStreams, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { REPO_ROOT } from "../../support/stackFiles";

const run = promisify(execFile);
export const CLI_MAIN = path.join(REPO_ROOT, "bin", "cli", "main.js");

function newestSource(dir: string): number {
    return Math.max(
        0,
        ...fs.readdirSync(dir, { withFileTypes: true }).map((e) => {
            const file = path.join(dir, e.name);
            return e.isDirectory() ? newestSource(file) : e.name.endsWith(".ts") ? fs.statSync(file).mtimeMs : 0;
        }),
    );
}

/** `npm run build`'s tsc, only when bin/cli is missing or older than cli/. */
export async function ensureCliBuilt(): Promise<void> {
    const built = fs.existsSync(CLI_MAIN) ? fs.statSync(CLI_MAIN).mtimeMs : 0;
    if (built >= newestSource(path.join(REPO_ROOT, "cli"))) return;
    const tsc = path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    await run(process.execPath, [tsc, "-p", path.join(REPO_ROOT, "tsconfig.json")], { cwd: REPO_ROOT, timeout: 300_000 });
}

export interface CliResult {
    code: number | null;
    stdout: string;
    stderr: string;
    seconds: number;
}

/** `ddpsim <args>` to completion, from the repository root (its Pulumi.yaml names the project). */
export function ddpsim(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: REPO_ROOT, env: options.env ?? process.env });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
        });
    });
}

/** `ddpsim <args>` left running, for --follow. */
export function startDdpsim(args: string[]): ChildProcessWithoutNullStreams {
    return spawn(process.execPath, [CLI_MAIN, ...args], { cwd: REPO_ROOT });
}

/** The pids of a process's children (every thread's), from /proc. */
export function childrenOf(pid: number): number[] {
    const tasks = path.join("/proc", String(pid), "task");
    return fs
        .readdirSync(tasks)
        .flatMap((t) => fs.readFileSync(path.join(tasks, t, "children"), "utf8").trim().split(/\s+/))
        .filter((p) => p !== "")
        .map(Number);
}

export function isAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code !== "ESRCH";
    }
}

/** `docker logs --timestamps --tail N` of a container, both streams, in time order, timestamps removed unless asked. */
export async function dockerTail(container: string, lines: number, options: { timestamps?: boolean } = {}): Promise<string[]> {
    const { stdout, stderr } = await run("docker", ["logs", "--timestamps", "--tail", String(lines), container], {
        maxBuffer: 16 * 1024 * 1024,
    });
    return (stdout + stderr)
        .split("\n")
        .filter((l) => l !== "")
        .sort()
        .map((l) => (options.timestamps === true ? l : l.slice(l.indexOf(" ") + 1)));
}
