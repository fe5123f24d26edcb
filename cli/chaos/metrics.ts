/**
 * Our trainer's metrics.jsonl (one line per optimizer step, rank 0), read from the run volume through any node's
 * container with Docker's archive API (`docker cp`): works for running, paused and exited nodes, and with a remote
 * engine. A script that writes no such file has none: the chaos report then uses the logs' progress lines. The one
 * reader of the file: the benches and tests read it with parseMetrics / readMetricsFile too.
 */
import Docker from "dockerode";
import * as fs from "fs";
import { CONTAINER_PATHS } from "../../components/plan/defaults";

/** One line of metrics.jsonl (training/ddpsim_train/metrics.py writes every field; a reader needs step and time). */
export interface MetricsLine {
    step: number;
    /** Unix seconds when rank 0 logged the step. */
    time: number;
    world_size?: number;
    restarts?: number;
    /** When the training attempt that logged it started (unix seconds): a new value is a new attempt. */
    attempt?: number;
    loss?: number;
    samples_per_s?: number;
    step_time_s?: number;
}

/** The first regular file of a tar archive (what the archive API returns for one file). */
export function firstFileOfTar(tar: Buffer): Buffer | undefined {
    let offset = 0;
    while (offset + 512 <= tar.length) {
        const header = tar.subarray(offset, offset + 512);
        if (header.every((b) => b === 0)) return undefined;
        const size = parseInt(header.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
        const type = String.fromCharCode(header[156]);
        const start = offset + 512;
        if (type === "0" || type === "\0") return tar.subarray(start, start + size);
        offset = start + Math.ceil(size / 512) * 512;
    }
    return undefined;
}

/** The lines of a metrics.jsonl text that parse and carry a step and a time. */
export function parseMetrics(text: string): MetricsLine[] {
    const lines: MetricsLine[] = [];
    for (const raw of text.split("\n")) {
        if (raw.trim() === "") continue;
        try {
            const line = JSON.parse(raw) as MetricsLine;
            if (typeof line.step === "number" && typeof line.time === "number") lines.push(line);
        } catch {
            // a line being written: skip
        }
    }
    return lines;
}

/** metrics.jsonl on this machine's file system (a run volume's folder, a test's checkpoint folder); [] when absent. */
export function readMetricsFile(file: string): MetricsLine[] {
    return fs.existsSync(file) ? parseMetrics(fs.readFileSync(file, "utf8")) : [];
}

function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => resolve(Buffer.concat(chunks)));
        stream.on("error", reject);
    });
}

/** The checkpoint folder a node's script was told (DDPSIM_CHECKPOINT_DIR), where our trainer writes metrics.jsonl. */
export function checkpointDirOf(info: Pick<Docker.ContainerInspectInfo, "Config">): string {
    const line = (info.Config.Env ?? []).find((e) => e.startsWith("DDPSIM_CHECKPOINT_DIR="));
    return line?.slice("DDPSIM_CHECKPOINT_DIR=".length) || CONTAINER_PATHS.checkpoints;
}

/** metrics.jsonl through the first of `containerIds` that has it; [] when none does. */
export async function readMetrics(docker: Docker, containerIds: string[], dir: string): Promise<MetricsLine[]> {
    for (const id of containerIds) {
        try {
            const stream = (await docker.getContainer(id).getArchive({ path: `${dir}/metrics.jsonl` })) as NodeJS.ReadableStream;
            const file = firstFileOfTar(await streamToBuffer(stream));
            if (file !== undefined) return parseMetrics(file.toString("utf8"));
        } catch (err) {
            if ((err as { statusCode?: number }).statusCode === 404) return [];
        }
    }
    return [];
}
