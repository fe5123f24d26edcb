/**
 * A node's log on Kubernetes: the logs of its pods (the attempts the Job replaced, then the current one) in order,
 * read with the kubelet's timestamps, or the current pod's followed. Kubernetes merges stdout and stderr.
 */
import type * as K8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { Writable } from "stream";
import { CONTAINER_NAME } from "../../../components/targets/kubernetes";
import { LogLine, splitTimestamp } from "../../logs/logLine";
import { ClusterNode, LogRange } from "../source";
import { KubernetesApi } from "./client";

type LogOptions = { follow?: boolean; sinceTime?: string; tailLines?: number; timestamps: boolean };

function toLine(node: ClusterNode, raw: string): LogLine {
    return { node: node.node, rank: node.rank, stream: "stdout", ...splitTimestamp(raw) };
}

/** Whole lines of a stream, as they come; the last line is given even without its newline. */
class LineWriter extends Writable {
    private pending = "";
    constructor(private readonly onLine: (raw: string) => void) {
        super();
    }
    _write(chunk: Buffer, _encoding: string, done: () => void): void {
        const lines = (this.pending + chunk.toString("utf8")).split("\n");
        this.pending = lines.pop() ?? "";
        lines.forEach((l) => this.onLine(l.replace(/\r$/, "")));
        done();
    }
    _final(done: () => void): void {
        if (this.pending !== "") this.onLine(this.pending);
        this.pending = "";
        done();
    }
}

/** Streams one pod's log into `onLine` until the API server ends it (the container stopped) or `signal` aborts. */
async function streamPod(api: KubernetesApi, pod: K8s.V1Pod, options: LogOptions, onLine: (raw: string) => void, signal?: AbortSignal): Promise<void> {
    const writer = new LineWriter(onLine);
    const ended = new Promise<void>((resolve) => {
        writer.on("finish", resolve);
        writer.on("close", resolve);
        writer.on("error", resolve);
    });
    let controller: AbortController;
    try {
        controller = await new api.k8s.Log(api.config).log(pod.metadata!.namespace!, pod.metadata!.name!, CONTAINER_NAME, writer, options);
    } catch (err) {
        // A pod that never started, or is gone, has no log to give.
        if (signal?.aborted) return;
        const status = (err as { code?: number; statusCode?: number }).code ?? (err as { statusCode?: number }).statusCode;
        if (status === 400 || status === 404) return;
        throw err;
    }
    const abort = () => {
        controller.abort();
        writer.end();
    };
    signal?.addEventListener("abort", abort, { once: true });
    await ended;
    signal?.removeEventListener("abort", abort);
}

function sinceTime(range: LogRange): string | undefined {
    const sec = range.after?.sec ?? range.since;
    return sec === undefined ? undefined : new Date(Math.floor(sec) * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

function inRange(line: LogLine, range: LogRange): boolean {
    if (range.after !== undefined) return line.sec > range.after.sec || (line.sec === range.after.sec && line.nanos > range.after.nanos);
    return range.since === undefined || line.sec >= range.since;
}

/**
 * The node's log now, over all its pods. A terminated pod's lines never change, so they are kept in `cache` (by pod
 * uid) and read once.
 */
export async function readNodeLogs(api: KubernetesApi, node: ClusterNode, pods: K8s.V1Pod[], range: LogRange, cache: Map<string, LogLine[]>): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    for (const pod of pods) {
        const uid = pod.metadata!.uid!;
        let podLines = cache.get(uid);
        if (podLines === undefined) {
            const terminated = pod.status?.containerStatuses?.[0]?.state?.terminated !== undefined;
            const since = terminated ? undefined : sinceTime(range);
            podLines = [];
            const collected = podLines;
            await streamPod(api, pod, { timestamps: true, ...(since !== undefined ? { sinceTime: since } : {}) }, (raw) => collected.push(toLine(node, raw)));
            if (terminated) cache.set(uid, podLines);
        }
        lines.push(...podLines.filter((l) => inRange(l, range)));
    }
    return range.tail === undefined ? lines : range.tail === 0 ? [] : lines.slice(-range.tail);
}

/** Follows the node's current pod until its container stops or `signal` aborts. */
export async function followNodeLogs(api: KubernetesApi, node: ClusterNode, pod: K8s.V1Pod | undefined, range: LogRange, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<void> {
    if (pod === undefined || signal.aborted) return;
    const since = sinceTime(range);
    const options: LogOptions = {
        follow: true,
        timestamps: true,
        ...(since !== undefined ? { sinceTime: since } : {}),
        ...(range.tail !== undefined && since === undefined ? { tailLines: range.tail } : {}),
    };
    if (range.tail === 0 && since === undefined) options.sinceTime = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await streamPod(api, pod, options, (raw) => {
        const line = toLine(node, raw);
        if (inRange(line, range)) onLine(line);
    }, signal);
}
