/**
 * Reads this machine for `gpuIds: ["auto"]`: `nvidia-smi -L`, and the Docker engine's info (its runtimes)
 * through the engine's socket. The only module of the package with side effects at plan time; the parsing is
 * pure and lives in plan/gpuPool.ts. Results are kept per Docker host for the life of the process, since the
 * stack program and the component both ask.
 */
import { execFileSync, spawnSync } from "child_process";
import { dockerSocketPath, isLocalDockerHost, localGpuPool, LocalGpuProbe, nvidiaRuntimeProblem } from "./plan/gpuPool";
import { hasIdentity, LABELS } from "./plan/labels";
import { ClusterIdentity } from "./plan/types";

/** The readings, replaceable in tests. Each throws an Error whose message says what went wrong. */
export interface HostCommands {
    nvidiaSmiList(): string;
    dockerInfo(socketPath: string): unknown;
    /** The engine's running containers that carry ddpsim GPU labels (GET /containers/json). */
    runningGpuContainers(socketPath: string): { Labels?: Record<string, string> }[];
    /** GET /images/{name}/json: the image, or { message } when the engine has none of that name. */
    imageInspect(socketPath: string, name: string): { Id?: string };
}

const TIMEOUT_MS = 15_000;

function firstLine(text: unknown): string {
    return String(text ?? "").trim().split(/\r?\n/)[0] ?? "";
}

export const hostCommands: HostCommands = {
    nvidiaSmiList() {
        try {
            return execFileSync("nvidia-smi", ["-L"], { encoding: "utf8", timeout: TIMEOUT_MS, stdio: "pipe" });
        } catch (err: any) {
            if (err?.code === "ENOENT") {
                throw new Error("nvidia-smi is not installed on this machine (it comes with the NVIDIA driver)");
            }
            const said = firstLine(err?.stdout) || firstLine(err?.stderr) || String(err?.message ?? err);
            throw new Error(`"nvidia-smi -L" failed: ${said}`);
        }
    },
    dockerInfo(socketPath: string) {
        return dockerGetOnce(socketPath, "/info");
    },
    runningGpuContainers(socketPath: string) {
        const filters = encodeURIComponent(JSON.stringify({ label: [LABELS.gpus], status: ["running"] }));
        return dockerGet(socketPath, `/containers/json?filters=${filters}`) as { Labels?: Record<string, string> }[];
    },
    imageInspect(socketPath: string, name: string) {
        return dockerGetOnce(socketPath, `/images/${encodeURIComponent(name)}/json`) as { Id?: string };
    },
};

/** A GET on the engine's API over its socket, in a child so that planning stays synchronous; no docker CLI needed. */
function dockerGet(socketPath: string, apiPath: string): unknown {
    const script =
        'require("http").get({ socketPath: process.argv[1], path: process.argv[2] }, (r) => { let b = ""; ' +
        'r.on("data", (d) => (b += d)); r.on("end", () => process.stdout.write(b)); })' +
        '.on("error", (e) => { process.stderr.write(e.message); process.exit(1); });';
    const child = spawnSync(process.execPath, ["-e", script, socketPath, apiPath], { encoding: "utf8", timeout: TIMEOUT_MS });
    if (child.status !== 0) {
        throw new Error(`the Docker engine at ${socketPath} did not answer: ${firstLine(child.stderr) || child.error}`);
    }
    return JSON.parse(child.stdout);
}

/**
 * The engine's info and an image's id do not change while the program runs, and both the stack program and
 * DdpCluster check them: one child process per question. (Running containers are always read afresh.)
 */
const answers = new Map<string, unknown>();
function dockerGetOnce(socketPath: string, apiPath: string): unknown {
    const key = `${socketPath} ${apiPath}`;
    if (!answers.has(key)) answers.set(key, dockerGet(socketPath, apiPath));
    return answers.get(key);
}

/** Why the engine cannot run GPU containers, or undefined when it can, or cannot be asked (it is not running). */
export function gpuRuntimeProblem(dockerHost: string | undefined, commands: HostCommands = hostCommands): string | undefined {
    let info: unknown;
    try {
        info = commands.dockerInfo(dockerSocketPath(dockerHost));
    } catch {
        return undefined;
    }
    return nvidiaRuntimeProblem(info);
}

/** A local image's id, or why it cannot be used; undefined when the engine cannot be asked (it is not running). */
export function localImage(
    dockerHost: string | undefined,
    name: string,
    commands: HostCommands = hostCommands,
): { ok: true; id: string } | { ok: false; reason: string } | undefined {
    let found: { Id?: string } | undefined;
    try {
        found = commands.imageInspect(dockerSocketPath(dockerHost), name);
    } catch {
        return undefined;
    }
    if (found?.Id === undefined) {
        return {
            ok: false,
            reason:
                `names an image the Docker host does not have, and imageMode "local" never pulls: build it first ` +
                `(the CPU image: bash training/cpu-image/build.sh), or set imageMode to "registry" or "build"`,
        };
    }
    return { ok: true, id: found.Id };
}

/** GPU ids bound to running ddpsim containers of other clusters (its own do not make its GPUs busy), from their labels. */
export function busyGpuIds(containers: { Labels?: Record<string, string> }[], self: ClusterIdentity): string[] {
    const busy = new Set<string>();
    for (const { Labels: labels = {} } of containers) {
        if (hasIdentity(labels, self)) continue;
        for (const id of (labels[LABELS.gpus] ?? "").split(",")) if (id !== "") busy.add(id);
    }
    return [...busy].sort();
}

const cache = new Map<string, LocalGpuProbe>();

/**
 * This machine's GPU pool for the Docker host given (config `docker:host` or DOCKER_HOST), less the GPUs that
 * running ddpsim containers of other clusters hold, or why there is none.
 */
export function probeLocalGpus(
    dockerHost: string | undefined,
    self: ClusterIdentity,
    commands: HostCommands = hostCommands,
): LocalGpuProbe {
    const key = dockerHost ?? "";
    const cached = commands === hostCommands ? cache.get(key) : undefined;
    const pool = cached ?? readPool(dockerHost, commands);
    if (commands === hostCommands) cache.set(key, pool);
    if (!pool.ok) return pool;
    let busy: string[];
    try {
        busy = busyGpuIds(commands.runningGpuContainers(dockerSocketPath(dockerHost)), self);
    } catch (err) {
        return { ok: false, reason: (err as Error).message };
    }
    const free = pool.ids.filter((id) => !busy.includes(id));
    return busy.length === 0 ? pool : { ok: true, ids: free, busy: pool.ids.filter((id) => busy.includes(id)) };
}

function readPool(dockerHost: string | undefined, commands: HostCommands): LocalGpuProbe {
    if (!isLocalDockerHost(dockerHost)) {
        return {
            ok: false,
            reason: `the Docker host is ${dockerHost}, not this machine: list that host's GPU ids (or UUIDs) instead`,
        };
    }
    let list: string;
    try {
        list = commands.nvidiaSmiList();
    } catch (err) {
        return { ok: false, reason: (err as Error).message };
    }
    let info: unknown;
    try {
        info = commands.dockerInfo(dockerSocketPath(dockerHost));
    } catch (err) {
        return { ok: false, reason: (err as Error).message };
    }
    return localGpuPool(list, info);
}
