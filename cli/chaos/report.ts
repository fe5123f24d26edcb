/**
 * The chaos report in three forms: a table for people, JSON for machines, and the PNG timeline (drawn by
 * training/plot_chaos.py inside the cluster's own image, which has matplotlib: no mount, no network, the PNG comes
 * back on stdout, so it also works with a remote engine).
 */
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { packageTrainingDir } from "../../components/plan/validate";
import { ClusterIdentity } from "../sources/source";
import { demuxText } from "../sources/docker/demux";
import { resultText, table } from "../format";
import { LABELS } from "../../components/plan/labels";
import { ChaosAnalysis, FaultOutcome } from "./analysis";
import { MetricsLine } from "./metrics";

export interface ChaosReport extends ChaosAnalysis {
    ref: ClusterIdentity;
    scenario: string;
    startedAt: string;
    endedAt: string;
    /** The run's metrics (time, step, world size) for the timeline; at most MAX_POINTS. */
    timeline: { start: number; metrics: [number, number, number | null][]; progress: [number, number][] };
}

const MAX_POINTS = 2000;

const rel = (s: number | undefined) => (s === undefined ? "-" : `+${s.toFixed(1)}s`);

function failuresText(f: FaultOutcome): string {
    const entries = Object.entries(f.workerFailures);
    return entries.length === 0 ? "-" : entries.map(([node, n]) => `${node} ${n}`).join(", ");
}

function recoveredText(f: FaultOutcome): string {
    if (f.recoverSeconds === undefined) return "-";
    const how = f.recovery === "restart" ? `restart, step ${f.recoveredAtStep}` : f.recovery === "continued" ? "no restart" : `step ${f.recoveredAtStep}`;
    const world = f.worldSizeAfter !== undefined ? `, world ${f.worldSizeAfter}` : "";
    return `${rel(f.recoverSeconds)} (${how}${world})`;
}

/** The report as a table and a few lines (what `ddpsim chaos` prints). */
export function reportText(report: ChaosReport, startMs: number): string {
    const header = ["#", "FAULT", "NODE", "WHEN", "STARTED", "FOR", "DETECTED", "RECOVERED", "REDONE", "WORKER FAILURES"];
    const rows = report.faults.map((f) => [
        String(f.index),
        f.kind,
        `${f.node} (${f.rank})`,
        f.trigger,
        f.startMs === undefined ? "not made" : rel((f.startMs - startMs) / 1000),
        f.startMs !== undefined && f.endMs !== undefined && f.endMs > f.startMs ? `${((f.endMs - f.startMs) / 1000).toFixed(1)}s` : "-",
        rel(f.detectSeconds),
        recoveredText(f),
        f.stepsRedone === undefined ? "-" : String(f.stepsRedone),
        failuresText(f),
    ]);
    const { stack, cluster } = report.ref;
    const lines = [
        `chaos on stack ${stack} (cluster ${cluster}), scenario ${report.scenario}, from ${report.startedAt} to ${report.endedAt}`,
        table([header, ...rows]),
        "times: STARTED after the chaos run began; DETECTED (first error or timeout in any log) and RECOVERED (first training step after) after the fault began",
    ];
    for (const f of report.faults) if (f.error !== undefined) lines.push(`fault ${f.index} (${f.kind} ${f.node}) was not made: ${f.error}`);
    lines.push(`restarts: ${report.nodes.map((n) => `${n.node} ${n.containerRestarts} container, ${n.workerFailures} worker failure(s)`).join("; ")}`);
    if (report.result !== undefined) lines.push(`result: ${resultText(report.result)}`);
    lines.push(`parameters: ${report.parameters.text}`);
    lines.push(`verdict: ${report.verdict.text}`);
    return lines.join("\n");
}

/** The report as JSON: times as ISO strings next to the seconds. */
export function reportJson(report: ChaosReport): object {
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
        ...report.ref,
        scenario: report.scenario,
        startedAt: report.startedAt,
        endedAt: report.endedAt,
        faults: report.faults.map((f) => ({ ...f, startMs: undefined, endMs: undefined, startedAt: iso(f.startMs), endedAt: iso(f.endMs) })),
        nodes: report.nodes,
        result: report.result ?? null,
        parameters: report.parameters,
        verdict: report.verdict,
        timeline: report.timeline,
    };
}

/** Metrics (or progress) points for the timeline, thinned to at most MAX_POINTS. */
export function timelineOf(startMs: number, metrics: MetricsLine[], progress: [number, number][]): ChaosReport["timeline"] {
    const thin = <T>(xs: T[]) => (xs.length <= MAX_POINTS ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / MAX_POINTS) === 0 || i === xs.length - 1));
    return {
        start: startMs / 1000,
        metrics: thin(metrics.map((m) => [m.time, m.step, m.world_size ?? null] as [number, number, number | null])),
        progress: thin(progress),
    };
}

/** What plot_chaos.py reads. */
export function plotInput(report: ChaosReport): object {
    return {
        title: `ddpsim chaos: stack ${report.ref.stack}, ${report.faults.length} fault(s); ${report.verdict.text}`.slice(0, 160),
        start: report.timeline.start,
        metrics: report.timeline.metrics,
        progress: report.timeline.progress,
        faults: report.faults.map((f) => ({
            kind: f.kind,
            label: `${f.index} ${f.kind} ${f.node}`,
            start: f.startMs === undefined ? null : f.startMs / 1000,
            end: f.endMs === undefined ? null : f.endMs / 1000,
            detected: f.startMs === undefined || f.detectSeconds === undefined ? null : f.startMs / 1000 + f.detectSeconds,
            recovered: f.startMs === undefined || f.recoverSeconds === undefined ? null : f.startMs / 1000 + f.recoverSeconds,
        })),
    };
}

/** Draws the timeline with the cluster's image; resolves to the PNG, or a reason why there is none. */
export function drawTimeline(docker: Docker, image: string, report: ChaosReport): Promise<{ png?: Buffer; problem?: string }> {
    return drawPlot(docker, image, plotInput(report));
}

/** Runs plot_chaos.py on `input` (its JSON, see the script) in `image`; `ddpsim check` draws its timeline with it too. */
export async function drawPlot(docker: Docker, image: string, input: object): Promise<{ png?: Buffer; problem?: string }> {
    const source = fs.readFileSync(path.join(packageTrainingDir(), "plot_chaos.py"), "utf8");
    const container = await docker.createContainer({
        Image: image,
        Entrypoint: [],
        Cmd: ["python3", "-c", source, JSON.stringify(input)],
        Env: ["MPLCONFIGDIR=/tmp", "HOME=/tmp"],
        NetworkDisabled: true,
        Labels: { [LABELS.helper]: "chaos-plot" },
        HostConfig: { NetworkMode: "none", CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges:true"] },
    });
    try {
        await container.start();
        const done = (await container.wait()) as { StatusCode: number };
        const text = demuxText((await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer, true);
        if (done.StatusCode !== 0) {
            const why = text.stderr.trim().split("\n").pop() ?? "";
            return { problem: `the image ${image} could not draw it (exit ${done.StatusCode}: ${why}); matplotlib is in ddpsim's CPU image` };
        }
        return { png: Buffer.from(text.stdout.trim(), "base64") };
    } finally {
        await container.remove({ force: true }).catch(() => undefined);
    }
}
