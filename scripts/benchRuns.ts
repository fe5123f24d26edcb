/**
 * One cluster run for the benches: a 2-node CPU stack brought up through a driver (`ddpsim run`'s for
 * `npm run bench` and `npm run bench:startup`, the tests' `pulumi up` for tests/e2e/interconnect.test.ts), waited
 * for, its logs and metrics read with dockerode, and removed.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { MetricsLine, readMetricsFile } from "../cli/chaos/metrics";
import { readLogs } from "../cli/sources/docker/logs";
import { LABELS } from "../components/plan/labels";

const run = promisify(execFile);
const docker = new Docker();
const REPO_ROOT = path.resolve(__dirname, "..");

/** What `up` gave: the stack outputs, or why it failed. */
export interface DriverUp {
    ok: boolean;
    outputs: Record<string, any>;
    /** What the failure printed (empty when ok). */
    error: string;
}

/**
 * How a bench brings a cluster up and removes it: `npm run bench` uses `ddpsim run`'s driver (engineDriver.ts); the
 * end-to-end test passes its own `pulumi up` (tests/support/realStack.ts). Both run the real CLI.
 */
export interface ClusterDriver {
    /** `pulumi up` of a new stack with this config (keys with their namespace, values as a stack file holds them). */
    up(stack: string, config: Record<string, unknown>, timeoutMs: number): Promise<DriverUp>;
    /** Removes every Docker object of the stack, the checkpoint volume included, and the stack itself. */
    remove(stack: string): Promise<void>;
}

/** What one cluster run left: every node's exit code and log, or why `up` failed. */
export interface ClusterRun {
    upOk: boolean;
    upError: string;
    exitCodes: number[];
    logs: string[];
    seconds: number;
    /** Where every node's full log was saved (os.tmpdir()/ddpsim-bench-logs/<stack>). */
    logDir: string;
    /** metrics.jsonl from the checkpoint volume (one JSON line per training step), when the run trained. */
    metrics: MetricsLine[];
}

export interface RunOptions {
    image: string;
    nodes?: number;
    /** Stack config overrides, keys without the namespace (`interconnect`, `linkBandwidthMbit`, ...). */
    config: Record<string, unknown>;
    scriptArgs: string[];
    /** Bound on the whole run (up, training, exit). */
    timeoutMs: number;
    label: string;
    driver: ClusterDriver;
}

/** Builds the CPU training image when its recipe changed (training/cpu-image/build.sh) and returns its tag. */
export async function cpuImage(): Promise<string> {
    const script = path.join(REPO_ROOT, "training", "cpu-image", "build.sh");
    const { stdout } = await run("bash", [script], { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
    const lines = stdout.trim().split("\n");
    return lines[lines.length - 1];
}

/** A stack name no earlier or parallel run uses. */
export function benchStack(label: string): string {
    return `bench-${label}-${crypto.randomBytes(3).toString("hex")}`;
}

/** A 2-node CPU stack's config (namespaced keys) with the image, the script's arguments and `config` over it. */
export function cpuStackConfig(image: string, scriptArgs: string[], config: Record<string, unknown> = {}, nodes = 2): Record<string, unknown> {
    const full: Record<string, unknown> = {
        "ddpsim:nodes": nodes,
        "ddpsim:gpusPerNode": 0,
        "ddpsim:imageMode": "local",
        "ddpsim:image": image,
        "ddpsim:codeDir": "training",
        "ddpsim:scriptArgs": scriptArgs,
        "ddpsim:stopGraceSeconds": 5,
    };
    for (const [key, value] of Object.entries(config)) full[`ddpsim:${key}`] = value;
    return full;
}

/** A container's log, both streams in Docker's order, as text. */
export async function logsOf(name: string): Promise<string> {
    const lines = await readLogs(docker, { id: name, node: name, rank: 0, tty: false });
    return lines.map((l) => l.text).join("\n");
}

async function exitCodes(names: string[]): Promise<number[]> {
    return Promise.all(names.map(async (n) => (await docker.getContainer(n).inspect()).State.ExitCode));
}

/** Waits until every container has stopped for good (not running, not restarting); returns exit codes. */
export async function waitForExit(names: string[], timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const states = await Promise.all(names.map((n) => docker.getContainer(n).inspect()));
        if (states.every((s) => !s.State.Running && !s.State.Restarting && s.State.Status === "exited")) {
            return states.map((s) => s.State.ExitCode);
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${names.join(", ")} to exit`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

/** metrics.jsonl of a run volume (the Docker engine runs on this machine: read from the volume's folder). */
export async function metricsOf(volume: string): Promise<MetricsLine[]> {
    return readMetricsFile(path.join((await docker.getVolume(volume).inspect()).Mountpoint, "metrics.jsonl"));
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Brings a cluster up, waits until every node exited, collects the logs and removes everything. */
export async function runCluster(options: RunOptions): Promise<ClusterRun> {
    const stack = benchStack(options.label);
    const started = Date.now();
    const config = cpuStackConfig(options.image, options.scriptArgs, options.config, options.nodes ?? 2);
    try {
        const up = await options.driver.up(stack, config, options.timeoutMs);
        const names: string[] = up.outputs.containerNames ?? (await stackContainers(stack));
        if (!up.ok) {
            // A node that failed may still be in its restart policy's back-off: let it settle (bounded).
            await waitForExit(names, 30_000).catch(() => undefined);
            const logs = await Promise.all(names.map((n) => logsOf(n).catch(() => "")));
            const codes = await exitCodes(names);
            const logDir = saveLogs(stack, names, logs);
            return {
                upOk: false, upError: up.error.trim(), exitCodes: codes, logs, seconds: (Date.now() - started) / 1000, logDir, metrics: [],
            };
        }
        const remaining = Math.max(options.timeoutMs - (Date.now() - started), 1000);
        let codes: number[] = [];
        let waitError = "";
        try {
            codes = await waitForExit(names, remaining);
        } catch (err) {
            waitError = (err as Error).message;
        }
        const logs = await Promise.all(names.map(logsOf));
        const logDir = saveLogs(stack, names, logs);
        const metrics = await metricsOf(up.outputs.checkpointVolumeName).catch(() => []);
        return { upOk: true, upError: waitError, exitCodes: codes, logs, seconds: (Date.now() - started) / 1000, logDir, metrics };
    } finally {
        await options.driver.remove(stack);
    }
}

function saveLogs(stack: string, names: string[], logs: string[]): string {
    const dir = path.join(os.tmpdir(), "ddpsim-bench-logs", stack);
    fs.mkdirSync(dir, { recursive: true });
    names.forEach((name, rank) => fs.writeFileSync(path.join(dir, `node-${rank}.log`), logs[rank] ?? ""));
    return dir;
}

/** The stack's containers in rank order, found by label (when `up` failed before printing its outputs). */
async function stackContainers(stack: string): Promise<string[]> {
    const containers = await docker.listContainers({ all: true, filters: { label: [`${LABELS.stack}=${stack}`] } });
    return containers
        .sort((a, b) => Number(a.Labels[LABELS.rank]) - Number(b.Labels[LABELS.rank]))
        .map((c) => c.Names[0].replace(/^\//, ""));
}
