/**
 * Helpers for end-to-end tests: bring a stack up through the real Pulumi CLI (realStack.ts), wait for its nodes,
 * read what the training program left in the checkpoint volume, crash a node as a real failure would.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { MetricsLine } from "../../cli/chaos/metrics";
import { metricsOf as metricsOfVolume, waitForExit as waitForExitOf } from "../../scripts/benchRuns";
import { docker, purgeStack } from "./dockerObjects";
import { PROJECT, removeStack } from "./realStack";
import { waitFor } from "./wait";

export { stackConfig } from "./stackFiles";
export { destroyStack, upStack } from "./realStack";
export type { UpResult } from "./realStack";

const run = promisify(execFile);

/** A stack name no earlier or parallel run uses. */
export function uniqueStack(label: string): string {
    return `e2e-${label}-${crypto.randomBytes(3).toString("hex")}`;
}

/** Waits until every container has stopped for good (not running, not restarting); returns exit codes. */
export function waitForExit(containerNames: string[], timeoutMs = 240_000): Promise<number[]> {
    return waitForExitOf(containerNames, timeoutMs);
}

export async function logsOf(containerName: string): Promise<string> {
    const { stdout, stderr } = await run("docker", ["logs", containerName], { maxBuffer: 64 * 1024 * 1024 });
    return stdout + stderr;
}

/** A container's log with Docker's timestamps, stdout and stderr merged in time order. */
export async function timestampedLogsOf(containerName: string): Promise<string> {
    const { stdout, stderr } = await run("docker", ["logs", "--timestamps", containerName], { maxBuffer: 64 * 1024 * 1024 });
    return (stdout + stderr).split("\n").filter((l) => l !== "").sort().join("\n");
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

/** metrics.jsonl of a run volume (a line still being written is skipped). */
export async function metricsOf(volume: string): Promise<MetricsLine[]> {
    return metricsOfVolume(volume);
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

/** Removes the stacks' Docker objects (retained volumes included) and the stacks themselves; never throws. */
export async function cleanUp(stacks: string[]): Promise<void> {
    for (const stack of stacks) {
        await purgeStack(PROJECT, stack).catch(() => undefined);
        await removeStack(stack).catch(() => undefined);
    }
}
