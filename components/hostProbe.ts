/**
 * Reads this machine for `gpuIds: ["auto"]`: `nvidia-smi -L`, and the Docker engine's info (its runtimes)
 * through the engine's socket. The only module of the package with side effects at plan time; the parsing is
 * pure and lives in plan/gpuPool.ts. Results are kept per Docker host for the life of the process, since the
 * stack program and the component both ask.
 */
import { execFileSync, spawnSync } from "child_process";
import { dockerSocketPath, isLocalDockerHost, localGpuPool, LocalGpuProbe } from "./plan/gpuPool";

/** The two readings, replaceable in tests. Each throws an Error whose message says what went wrong. */
export interface HostCommands {
    nvidiaSmiList(): string;
    dockerInfo(socketPath: string): unknown;
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
        // The engine's GET /info over its socket, in a child so that planning stays synchronous; no docker CLI needed.
        const script =
            'require("http").get({ socketPath: process.argv[1], path: "/info" }, (r) => { let b = ""; ' +
            'r.on("data", (d) => (b += d)); r.on("end", () => process.stdout.write(b)); })' +
            '.on("error", (e) => { process.stderr.write(e.message); process.exit(1); });';
        const child = spawnSync(process.execPath, ["-e", script, socketPath], { encoding: "utf8", timeout: TIMEOUT_MS });
        if (child.status !== 0) {
            throw new Error(`the Docker engine at ${socketPath} did not answer: ${firstLine(child.stderr) || child.error}`);
        }
        return JSON.parse(child.stdout);
    },
};

const cache = new Map<string, LocalGpuProbe>();

/** This machine's GPU pool for the Docker host given (config `docker:host` or DOCKER_HOST), or why there is none. */
export function probeLocalGpus(dockerHost: string | undefined, commands: HostCommands = hostCommands): LocalGpuProbe {
    const key = dockerHost ?? "";
    const cached = commands === hostCommands ? cache.get(key) : undefined;
    if (cached !== undefined) return cached;
    const result = readPool(dockerHost, commands);
    if (commands === hostCommands) cache.set(key, result);
    return result;
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
