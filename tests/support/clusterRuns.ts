/**
 * Helpers for end-to-end tests: bring a stack up in a process of its own (stackCli.ts), wait for its nodes,
 * read what the training program left in the checkpoint volume, crash a node as a real failure would.
 */
import { execFile, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { metricsOf as metricsOfVolume, waitForExit as waitForExitOf } from "../../scripts/benchRuns";
import { docker, purgeStack } from "./dockerHarness";
import { PROJECT, REPO_ROOT, statePath } from "./stackRunner";
import { waitFor } from "./wait";

export { stackConfig } from "./stackFiles";

const run = promisify(execFile);

/** A stack name no earlier or parallel run uses. */
export function uniqueStack(label: string): string {
    return `e2e-${label}-${crypto.randomBytes(3).toString("hex")}`;
}

export interface UpResult {
    ok: boolean;
    outputs: Record<string, any>;
    stderr: string;
    /** When `up` returned, in ms since the epoch: every container exists then. */
    finishedAt: number;
}

/**
 * `pulumi up` in a child process (the mock runtime is global to a process). Bounded by `timeoutMs`. `program`: a
 * stack program other than the repository's index.ts.
 */
export function upStack(stack: string, config: Record<string, string>, timeoutMs = 180_000, program?: string): Promise<UpResult> {
    const cli = path.join(REPO_ROOT, "tests", "support", "stackCli.ts");
    return new Promise((resolve, reject) => {
        const child = spawn(
            process.execPath,
            ["-r", "ts-node/register/transpile-only", cli, "up", stack, JSON.stringify(config), ...(program !== undefined ? [program] : [])],
            { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        child.on("error", reject);
        child.on("close", (code) => {
            clearTimeout(timer);
            const line = stdout.split("\n").find((l) => l.startsWith("DDPSIM_OUTPUTS "));
            resolve({
                ok: code === 0 && line !== undefined,
                outputs: line === undefined ? {} : JSON.parse(line.slice("DDPSIM_OUTPUTS ".length)),
                stderr,
                finishedAt: Date.now(),
            });
        });
    });
}

/** Waits until every container has stopped for good (not running, not restarting); returns exit codes. */
export function waitForExit(containerNames: string[], timeoutMs = 240_000): Promise<number[]> {
    return waitForExitOf(containerNames, timeoutMs);
}

export async function logsOf(containerName: string): Promise<string> {
    const { stdout, stderr } = await run("docker", ["logs", containerName], { maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
}

/** The host folder behind a named volume (the Docker engine runs on this machine). */
export async function volumeDir(volume: string): Promise<string> {
    return (await docker.getVolume(volume).inspect()).Mountpoint;
}

export async function volumeFiles(volume: string): Promise<string[]> {
    return fs.readdirSync(await volumeDir(volume)).sort();
}

export interface TrainingResult {
    world_size: number;
    nodes: number;
    final_step: number;
    checksum: string;
    agree: boolean;
    restarts: number;
    resumed_from_step: number | null;
    first_loss: number;
    final_loss: number;
}

export async function resultOf(volume: string): Promise<TrainingResult> {
    return JSON.parse(fs.readFileSync(path.join(await volumeDir(volume), "result.json"), "utf8"));
}

export interface MetricsLine {
    step: number;
    loss: number;
    time: number;
    world_size: number;
    samples_per_s: number;
    step_time_s: number;
}

/** metrics.jsonl of a run volume (a line still being written is skipped). */
export async function metricsOf(volume: string): Promise<MetricsLine[]> {
    return (await metricsOfVolume(volume)) as MetricsLine[];
}

/** Waits until the run has logged `step` (metrics.jsonl). */
export async function waitForStep(volume: string, step: number, timeoutMs = 120_000): Promise<void> {
    await waitFor(`step ${step} in ${volume}`, timeoutMs, async () => {
        const lines = await metricsOf(volume);
        return lines.some((l) => l.step >= step) ? true : undefined;
    });
}

/**
 * A crash, as Docker sees one: SIGKILL to the container's main process from the host. (`docker kill` is a
 * manual stop, which restart policies ignore.)
 */
export async function crashContainer(containerName: string): Promise<void> {
    const pid = (await docker.getContainer(containerName).inspect()).State.Pid;
    if (!pid) throw new Error(`${containerName} has no running main process`);
    process.kill(pid, "SIGKILL");
}

/** Removes the stacks' Docker objects, retained volumes included; never throws. */
export async function cleanUp(stacks: string[]): Promise<void> {
    for (const stack of stacks) {
        await purgeStack(PROJECT, stack).catch(() => undefined);
        fs.rmSync(statePath(stack), { force: true });
    }
}
