/**
 * Helpers for the training tests: run train_ddp.py under torchrun in CPU-image containers (docker CLI), read
 * what it printed and left in its checkpoint folder, and remove every container, network and folder a test
 * made. Every wait is bounded.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MetricsLine, readMetricsFile } from "../../cli/chaos/metrics";
import { waitFor } from "./wait";


export const TRAINING_DIR = path.resolve(__dirname, "..", "..", "training");

export interface Exec {
    code: number;
    stdout: string;
    stderr: string;
}

/** `docker ARGS`; resolves with the exit code (never rejects on a non-zero one); rejects past `timeoutMs`. */
export function dockerCli(args: string[], timeoutMs = 60_000): Promise<Exec> {
    return new Promise((resolve, reject) => {
        execFile("docker", args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err: any, stdout, stderr) => {
            if (err && (err.killed || typeof err.code !== "number")) {
                reject(new Error(`docker ${args.join(" ")}: ${err.killed ? `timed out after ${timeoutMs} ms` : err.message}`));
                return;
            }
            resolve({ code: err ? err.code : 0, stdout: String(stdout), stderr: String(stderr) });
        });
    });
}

async function dockerOk(args: string[], timeoutMs = 60_000): Promise<string> {
    const r = await dockerCli(args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${args.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout.trim();
}

export interface TorchrunOptions {
    nnodes?: number;
    nprocPerNode: number;
    /** host:port of the c10d rendezvous; localhost for one container */
    endpoint?: string;
    rdzvId?: string;
    maxRestarts?: number;
}

/** The cluster's command line: torchrun with c10d rendezvous, then train_ddp.py and its flags. */
export function torchrun(o: TorchrunOptions, scriptArgs: string[]): string[] {
    return [
        "torchrun",
        "--nnodes", String(o.nnodes ?? 1),
        "--nproc-per-node", String(o.nprocPerNode),
        "--rdzv-backend", "c10d",
        "--rdzv-endpoint", o.endpoint ?? "localhost:29400",
        "--rdzv-id", o.rdzvId ?? "ddpsim-test",
        "--max-restarts", String(o.maxRestarts ?? 0),
        "train_ddp.py",
        "--checkpoint-dir", "/checkpoints",
        ...scriptArgs,
    ];
}

export interface ContainerSpec {
    /** suffix of the container name (the scope adds its prefix) */
    name: string;
    command: string[];
    /** host folder mounted at /checkpoints */
    checkpoints?: string;
    /** host folder mounted read-only at /data */
    data?: string;
    network?: string;
    /** network alias (a node's host name) */
    alias?: string;
    env?: Record<string, string>;
}

/**
 * One test's Docker objects and folders, all named `ddpsim-test-<label>-<random>-...`; `cleanUp()` removes them
 * whatever happened (call it from afterEach). Containers run as this process's user, so it can read, damage
 * and delete what they write.
 */
export class TrainingScope {
    readonly prefix: string;
    private containers: string[] = [];
    private networks: string[] = [];
    private dirs: string[] = [];

    constructor(readonly image: string, label: string) {
        this.prefix = `ddpsim-test-${label}-${crypto.randomBytes(3).toString("hex")}`;
    }

    /** A fresh host folder for a checkpoint directory (or a dataset). */
    tempDir(what = "ckpt"): string {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${this.prefix}-${what}-`));
        fs.chmodSync(dir, 0o777);
        this.dirs.push(dir);
        return dir;
    }

    async network(): Promise<string> {
        const name = `${this.prefix}-net`;
        await dockerOk(["network", "create", "--driver", "bridge", name]);
        this.networks.push(name);
        return name;
    }

    /** Starts a container in the background (`docker run -d`); returns its full name. */
    async start(spec: ContainerSpec): Promise<string> {
        const name = `${this.prefix}-${spec.name}`;
        const uid = typeof process.getuid === "function" ? `${process.getuid()}:${process.getgid!()}` : "0:0";
        const args = ["run", "-d", "--name", name, "--user", uid, "--shm-size", "256m"];
        args.push("-v", `${TRAINING_DIR}:/workspace:ro`, "-w", "/workspace");
        if (spec.checkpoints) args.push("-v", `${spec.checkpoints}:/checkpoints`);
        if (spec.data) args.push("-v", `${spec.data}:/data:ro`);
        if (spec.network) args.push("--network", spec.network, "--hostname", spec.alias ?? spec.name);
        if (spec.alias) args.push("--network-alias", spec.alias);
        const env = { HOME: "/tmp", GLOO_SOCKET_IFNAME: "eth0", NCCL_SOCKET_IFNAME: "eth0", ...spec.env };
        for (const [k, v] of Object.entries(env)) args.push("-e", `${k}=${v}`);
        this.containers.push(name);
        await dockerOk([...args, this.image, ...spec.command]);
        return name;
    }

    /** Runs a container to its end; returns its exit code and logs. */
    async run(spec: ContainerSpec, timeoutMs = 120_000): Promise<Exec> {
        const name = await this.start(spec);
        const code = await waitExit(name, timeoutMs);
        return { code, ...(await logs(name)) };
    }

    async cleanUp(): Promise<void> {
        for (const c of this.containers) await dockerCli(["rm", "-f", c]).catch(() => undefined);
        for (const n of this.networks) await dockerCli(["network", "rm", n]).catch(() => undefined);
        for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
        this.containers = [];
        this.networks = [];
        this.dirs = [];
    }
}

/** Waits for a container to stop; returns its exit code. */
export async function waitExit(container: string, timeoutMs = 120_000): Promise<number> {
    return waitFor(`${container} to exit`, timeoutMs, async () => {
        const state = await dockerOk(["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", container]);
        const [status, code] = state.split(" ");
        return status === "exited" ? Number(code) : undefined;
    });
}

export async function logs(container: string): Promise<{ stdout: string; stderr: string }> {
    const r = await dockerCli(["logs", container]);
    return { stdout: r.stdout, stderr: r.stderr };
}

export interface TrainingResult {
    world_size: number;
    nodes: number;
    final_step: number;
    checksum: string;
    rank_checksums: string[];
    agree: boolean;
    restarts: number;
    resumed_from_step: number | null;
    first_loss: number;
    final_loss: number;
}

export interface BenchRow {
    bytes: number;
    busbw_gbps: number;
    algbw_gbps: number;
    latency_us: number;
    world_size: number;
    backend: string;
}

/** Every `PREFIX {json}` line of a log, parsed, in order. */
export function taggedLines<T>(text: string, prefix: string): T[] {
    return text
        .split("\n")
        .filter((l) => l.startsWith(`${prefix} `))
        .map((l) => JSON.parse(l.slice(prefix.length + 1)) as T);
}

/** The last DDPSIM_RESULT line of a log (a restarted container's log holds every attempt). */
export function lastResult(text: string): TrainingResult {
    const all = taggedLines<TrainingResult>(text, "DDPSIM_RESULT");
    if (all.length === 0) throw new Error(`no DDPSIM_RESULT line in:\n${text.slice(-3000)}`);
    return all[all.length - 1];
}

export function readJson<T>(file: string): T {
    return JSON.parse(fs.readFileSync(file, "utf8")) as T;
}

export function metricsSteps(checkpoints: string): number[] {
    return readMetricsFile(path.join(checkpoints, "metrics.jsonl")).map((m) => m.step);
}

/** Waits until rank 0 has logged `step` in metrics.jsonl. */
export async function waitForStep(checkpoints: string, step: number, timeoutMs = 90_000): Promise<void> {
    await waitFor(`step ${step} in ${checkpoints}/metrics.jsonl`, timeoutMs, async () =>
        metricsSteps(checkpoints).some((s) => s >= step) ? true : undefined,
    );
}

/** Checkpoint files in a folder, oldest first, as [step, file name]. */
export function checkpointFiles(checkpoints: string): [number, string][] {
    return fs
        .readdirSync(checkpoints)
        .map((n) => /^ckpt-step(\d{8})\.pt$/.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m): [number, string] => [Number(m[1]), m[0]])
        .sort((a, b) => a[0] - b[0]);
}

/** The flags every run that is compared with the reference shares: same seed, world size 2, 30 steps. */
export const REFERENCE_ARGS = [
    "--steps", "30", "--checkpoint-every", "5", "--keep-checkpoints", "3", "--log-every", "10",
    "--seed", "7", "--batch-size", "16",
];

export interface ReferenceRun {
    code: number;
    stdout: string;
    stderr: string;
    result: TrainingResult;
    resultFile: TrainingResult;
    metrics: Required<MetricsLine>[];
    checkpoints: [number, string][];
}

let reference: Promise<ReferenceRun> | undefined;

/**
 * The uninterrupted run (2 processes in one container, REFERENCE_ARGS) that interrupted runs must match bit for
 * bit; run once per mocha process and shared by the test files.
 */
export function referenceRun(image: string): Promise<ReferenceRun> {
    reference ??= (async () => {
        const scope = new TrainingScope(image, "reference");
        try {
            const checkpoints = scope.tempDir();
            const r = await scope.run({ name: "ref", checkpoints, command: torchrun({ nprocPerNode: 2 }, REFERENCE_ARGS) });
            if (r.code !== 0) throw new Error(`the reference run exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
            const metrics = readMetricsFile(path.join(checkpoints, "metrics.jsonl")) as Required<MetricsLine>[];
            return {
                ...r,
                result: lastResult(r.stdout),
                resultFile: readJson<TrainingResult>(path.join(checkpoints, "result.json")),
                metrics,
                checkpoints: checkpointFiles(checkpoints),
            };
        } finally {
            await scope.cleanUp();
        }
    })();
    return reference;
}
