/**
 * The `gpuIds: ["auto"]` pool: this machine's GPUs, read from `nvidia-smi -L`, and the checks that the Docker
 * engine can hand them to containers. Pure parsers; the probing itself is in components/hostProbe.ts.
 */

/** A MIG instance of a GPU (MIG mode on): containers get the instance, not the whole GPU. */
export interface MigDevice {
    profile: string;
    index: number;
    uuid: string;
}

/** One GPU as `nvidia-smi -L` lists it. */
export interface LocalGpu {
    index: number;
    name: string;
    uuid: string;
    mig: MigDevice[];
}

/** The value of gpuIds that asks for this machine's GPUs (a list, so that it fits the config type). */
export const AUTO_GPU_POOL = "auto";

/** What reading this machine's GPUs gave: the pool, or why there is none. */
export type LocalGpuProbe = { ok: true; ids: string[]; busy?: string[] } | { ok: false; reason: string };

const GPU_LINE = /^GPU (\d+): (.*?) \(UUID: (GPU-[0-9A-Fa-f-]+)\)\s*$/;
// "  MIG 3g.40gb     Device  0: (UUID: MIG-<uuid>)"; drivers before R470: "MIG-GPU-<uuid>/<gi>/<ci>".
const MIG_LINE = /^\s+MIG (\S+)\s+Device\s+(\d+): \(UUID: (MIG-[0-9A-Za-z/-]+)\)\s*$/;

/** Parses `nvidia-smi -L`. Lines that are neither a GPU nor a MIG device are ignored. */
export function parseNvidiaSmiList(text: string): LocalGpu[] {
    const gpus: LocalGpu[] = [];
    for (const line of text.split(/\r?\n/)) {
        const gpu = GPU_LINE.exec(line);
        if (gpu !== null) {
            gpus.push({ index: Number(gpu[1]), name: gpu[2], uuid: gpu[3], mig: [] });
            continue;
        }
        const mig = MIG_LINE.exec(line);
        if (mig !== null && gpus.length > 0) {
            gpus[gpus.length - 1].mig.push({ profile: mig[1], index: Number(mig[2]), uuid: mig[3] });
        }
    }
    return gpus;
}

/**
 * The device ids Docker gets for these GPUs: a whole GPU by its index, a GPU in MIG mode by the UUIDs of its
 * instances (a GPU in MIG mode cannot be used whole).
 */
export function autoPoolIds(gpus: LocalGpu[]): string[] {
    return gpus.flatMap((gpu) => (gpu.mig.length > 0 ? gpu.mig.map((m) => m.uuid) : [String(gpu.index)]));
}

/** Whether the Docker engine runs on this machine: no host given, or a local socket. */
export function isLocalDockerHost(host: string | undefined): boolean {
    return host === undefined || host === "" || host.startsWith("unix://") || host.startsWith("npipe://");
}

/** The engine's socket path for a local host (`unix:///x.sock` or none). */
export function dockerSocketPath(host: string | undefined): string {
    return host !== undefined && host.startsWith("unix://") ? host.slice("unix://".length) : "/var/run/docker.sock";
}

/** Why the engine (its `GET /info`, as `docker info` shows it) cannot run GPU containers, or undefined. */
export function nvidiaRuntimeProblem(info: unknown): string | undefined {
    const runtimes = (info as { Runtimes?: Record<string, unknown> } | undefined)?.Runtimes;
    const names = runtimes !== null && typeof runtimes === "object" ? Object.keys(runtimes) : [];
    if (names.includes("nvidia")) return undefined;
    return (
        `docker info lists no nvidia runtime (runtimes: ${names.length > 0 ? names.join(", ") : "none"}): install ` +
        `the NVIDIA Container Toolkit, run "nvidia-ctk runtime configure --runtime=docker" and restart dockerd`
    );
}

/** The pool from the outputs of `nvidia-smi -L` and the engine's info, or why there is none. Pure. */
export function localGpuPool(nvidiaSmiList: string, dockerInfo: unknown): LocalGpuProbe {
    const gpus = parseNvidiaSmiList(nvidiaSmiList);
    if (gpus.length === 0) {
        const said = nvidiaSmiList.trim().split(/\r?\n/)[0] ?? "";
        return { ok: false, reason: `"nvidia-smi -L" lists no GPU on this machine${said === "" ? "" : ` (it says: ${said})`}` };
    }
    const runtime = nvidiaRuntimeProblem(dockerInfo);
    if (runtime !== undefined) return { ok: false, reason: runtime };
    return { ok: true, ids: autoPoolIds(gpus) };
}
