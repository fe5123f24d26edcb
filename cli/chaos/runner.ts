/**
 * Runs a scenario against a running cluster: checks every fault first (nothing happens on bad input), makes each
 * when its time or step comes, heals it after its duration, waits for the run to end, then reads what the nodes left
 * behind (logs, metrics.jsonl, restart counts, the result) and analyses it.
 */
import Docker from "dockerode";
import { ClusterTracker } from "../watch/snapshot";
import { CliError } from "../errors";
import { verdictText } from "../format";
import { specText, who } from "../faults/kinds";
import { FaultRecord, FaultStore } from "../faults/records";
import { LogLine, mergeByTime, timeMs } from "../logs/logLine";
import { parseProgress, stripRankPrefix } from "../logs/logParsers";
import { DockerSource } from "../sources/docker/source";
import { selectNodes } from "../sources/nodeSelect";
import { ClusterNode, FaultHooks } from "../sources/source";
import { sleep } from "../signals";
import { watchCluster } from "../watch/watch";
import { analyse, FaultEvent, NodeRestarts, Reference } from "./analysis";
import { checkpointDirOf, MetricsLine, readMetrics } from "./metrics";
import { ChaosReport, timelineOf } from "./report";
import { Scenario, ScheduledFault } from "./scenario";

export interface ChaosRunOptions {
    scenarioName: string;
    /** Seconds to wait for the run to end after the last fault (the scenario's own timeout wins). */
    timeoutSeconds: number;
    reference?: Reference;
    pollMs?: number;
    /** Progress lines for people. */
    say: (line: string) => void;
    signal: AbortSignal;
}

export interface ChaosRun {
    report: ChaosReport;
    startMs: number;
    /** How waiting for the end of the run ended. */
    end: "done" | "timeout" | "aborted";
}

interface Planned {
    fault: ScheduledFault;
    node: ClusterNode;
    event: FaultEvent;
    record?: FaultRecord;
    dueEndMs?: number;
}

/** Checks every fault against the cluster; one CliError naming the fault, and nothing done, when one cannot be made. */
export async function planFaults(faults: FaultHooks, nodes: ClusterNode[], scenario: Scenario, store: FaultStore): Promise<Planned[]> {
    const planned: Planned[] = [];
    for (const fault of scenario.faults) {
        const where = `fault ${fault.index} (${fault.spec.kind} on node ${fault.node})`;
        let node: ClusterNode;
        try {
            [node] = selectNodes(nodes, [fault.node]);
        } catch (err) {
            throw new CliError(`${where}: ${(err as Error).message.replace(/^--node /, "node ")}`);
        }
        const problem = await faults.problem(node, fault.spec, store.list());
        if (problem !== undefined) throw new CliError(`${where}: ${problem}`);
        const trigger = fault.atSeconds !== undefined ? `at ${fault.atSeconds}s` : `step ${fault.atStep}`;
        planned.push({ fault, node, event: { index: fault.index, kind: fault.spec.kind, node: node.node, rank: node.rank, trigger } });
    }
    return planned;
}

/**
 * Counts the containers' starts from Docker's event stream while the chaos run lasts. Docker's RestartCount cannot
 * serve: a manual start (heal of `lose`) resets it to 0.
 */
async function countStarts(docker: Docker, ids: string[]): Promise<{ counts: Map<string, number>; stop: () => void }> {
    const counts = new Map<string, number>(ids.map((id) => [id, 0]));
    const stream = (await docker.getEvents({ filters: { type: ["container"], event: ["start"], container: ids } })) as NodeJS.ReadableStream & { destroy(): void };
    let pending = "";
    stream.on("data", (chunk: Buffer) => {
        const parts = (pending + chunk.toString("utf8")).split("\n");
        pending = parts.pop() ?? "";
        for (const part of parts) {
            try {
                const event = JSON.parse(part) as { id?: string; Actor?: { ID?: string } };
                const id = event.Actor?.ID ?? event.id ?? "";
                if (counts.has(id)) counts.set(id, counts.get(id)! + 1);
            } catch {
                // not an event
            }
        }
    });
    stream.on("error", () => undefined);
    return { counts, stop: () => stream.destroy() };
}

/** When the cluster's containers were created: metrics lines before it belong to an earlier deployment. */
async function createdMs(docker: Docker, nodes: ClusterNode[]): Promise<number> {
    const times = await Promise.all(nodes.map(async (n) => Date.parse((await docker.getContainer(n.id).inspect()).Created)));
    return Math.min(...times);
}

/** One chaos run under way: its faults, what it watches of the cluster, and what it reads at the end. */
class ChaosSession {
    readonly startMs = Date.now();
    private readonly ids: string[];
    /** Starts the chaos run made itself (heal of lose, a partitioned node whose restarts ran out). */
    private readonly ownStarts = new Map<string, number>();
    private readonly tracker: ClusterTracker;

    private constructor(
        private readonly source: DockerSource,
        private readonly nodes: ClusterNode[],
        private readonly options: ChaosRunOptions,
        private readonly store: FaultStore,
        readonly planned: Planned[],
        /** The checkpoint folder the scripts were told, where our trainer writes metrics.jsonl. */
        private readonly dir: string,
        /** When the cluster's containers were created: metrics lines before it belong to an earlier deployment. */
        private readonly since: number,
        private readonly starts: { counts: Map<string, number>; stop: () => void },
    ) {
        this.ids = nodes.map((n) => n.id);
        this.tracker = new ClusterTracker(source, nodes, 3600);
    }

    static async open(source: DockerSource, nodes: ClusterNode[], scenario: Scenario, options: ChaosRunOptions): Promise<ChaosSession> {
        const store = FaultStore.of(source.ref);
        const planned = await planFaults(source.faults, nodes, scenario, store);
        const ids = nodes.map((n) => n.id);
        const dir = checkpointDirOf(await source.docker.getContainer(nodes[0].id).inspect());
        const since = await createdMs(source.docker, nodes);
        return new ChaosSession(source, nodes, options, store, planned, dir, since, await countStarts(source.docker, ids));
    }

    say(text: string): void {
        this.options.say(`+${((Date.now() - this.startMs) / 1000).toFixed(1)}s ${text}`);
    }

    private async metrics(): Promise<MetricsLine[]> {
        return (await readMetrics(this.source.docker, this.ids, this.dir)).filter((m) => m.time * 1000 >= this.since);
    }

    /** The training step now: from metrics.jsonl, else the nodes' progress lines. */
    private async currentStep(): Promise<number> {
        const metrics = await this.metrics();
        if (metrics.length > 0) return Math.max(...metrics.map((m) => m.step));
        const snap = await this.tracker.snapshot();
        return Math.max(0, ...snap.nodes.map((n) => n.facts.progress?.step ?? 0));
    }

    private async inject(p: Planned, step: number, active: Planned[]): Promise<void> {
        try {
            const injected = await this.source.faults.inject(p.node, p.fault.spec, this.store);
            p.event.startMs = injected.atMs;
            p.event.what = injected.what;
            if (injected.record !== undefined) {
                p.record = injected.record;
                p.dueEndMs = injected.atMs + (p.fault.spec.forSeconds ?? 0) * 1000;
                active.push(p);
            } else {
                p.event.endMs = injected.atMs;
            }
            this.say(`fault ${p.fault.index}: ${specText(p.fault.spec)} ${who(p.node)}${step > 0 ? ` at step ${step}` : ""}: ${injected.what}`);
        } catch (err) {
            p.event.error = (err as Error).message;
            this.say(`fault ${p.fault.index}: ${specText(p.fault.spec)} ${who(p.node)} not made: ${p.event.error}`);
        }
    }

    private async heal(p: Planned): Promise<void> {
        const { healed, failed } = await this.source.faults.heal(this.store, [p.record!]);
        p.event.endMs = Date.now();
        for (const h of healed) {
            p.event.healed = h.what;
            if (/\bstarted( again)?\b/.test(h.what)) this.ownStarts.set(p.node.id, (this.ownStarts.get(p.node.id) ?? 0) + 1);
            this.say(`fault ${p.fault.index} healed: ${p.record!.kind} ${who(p.node)}: ${h.what}`);
        }
        for (const f of failed) {
            p.event.healed = `healing failed: ${f.error}`;
            this.say(`fault ${p.fault.index}: healing ${p.record!.kind} ${who(p.node)} FAILED: ${f.error} (ddpsim heal retries it)`);
        }
        p.record = undefined;
    }

    /** Makes each fault when its time or step comes and heals it after its duration; whether it was aborted. */
    async runFaults(): Promise<boolean> {
        const signal = this.options.signal;
        const needsSteps = this.planned.some((p) => p.fault.atStep !== undefined);
        try {
            const pending = [...this.planned];
            const active: Planned[] = [];
            while ((pending.length > 0 || active.length > 0) && !signal.aborted) {
                const step = needsSteps && pending.some((p) => p.fault.atStep !== undefined) ? await this.currentStep() : 0;
                const now = Date.now();
                for (const p of [...pending]) {
                    const due = p.fault.atSeconds !== undefined ? now - this.startMs >= p.fault.atSeconds * 1000 : step >= p.fault.atStep!;
                    if (!due) continue;
                    pending.splice(pending.indexOf(p), 1);
                    await this.inject(p, step, active);
                }
                for (const p of [...active]) {
                    if (Date.now() < p.dueEndMs!) continue;
                    active.splice(active.indexOf(p), 1);
                    await this.heal(p);
                }
                await sleep(this.options.pollMs ?? 500, signal);
            }
            return signal.aborted;
        } finally {
            // Never leave a fault behind: on Ctrl-C or an error, heal what is still active.
            for (const p of this.planned) if (p.record !== undefined) await this.heal(p);
        }
    }

    /** Waits for the run to end once every fault is over. */
    async awaitEnd(timeoutS: number): Promise<ChaosRun["end"]> {
        this.say("every fault is over; waiting for the run to end");
        const watched = await watchCluster(this.tracker, { timeoutS, signal: this.options.signal });
        const how = watched.end === "done" ? "ended" : watched.end === "timeout" ? "did not end in time" : "wait stopped";
        this.say(`run ${how}: ${verdictText(watched.snap.verdict)}`);
        return watched.end;
    }

    /** What the nodes left behind (logs, metrics, restarts, the result), analysed. */
    async report(): Promise<ChaosReport> {
        const endMs = Date.now();
        const snap = await this.tracker.snapshot(); // the tracker reads only the lines written since its last snapshot
        const perNode: LogLine[][] = await Promise.all(snap.nodes.map((n) => this.source.readLogs(n)));
        const logs = mergeByTime(perNode).filter((l) => timeMs(l) >= this.since);
        const metrics = await this.metrics();
        this.starts.stop();
        const restarts: NodeRestarts[] = this.nodes.map((n) => ({
            node: n.node,
            rank: n.rank,
            before: 0,
            after: Math.max(0, (this.starts.counts.get(n.id) ?? 0) - (this.ownStarts.get(n.id) ?? 0)),
        }));
        const result = snap.nodes.map((n) => n.facts.result).find((r) => r !== undefined);
        const reference = this.options.reference;
        const analysis = analyse({
            startMs: this.startMs,
            endMs,
            faults: this.planned.map((p) => p.event),
            metrics,
            logs,
            restarts,
            verdict: { status: snap.verdict.status, text: verdictText(snap.verdict) },
            ...(result !== undefined ? { result } : {}),
            ...(reference !== undefined ? { reference } : {}),
        });
        const progress: [number, number][] = [];
        for (const line of logs) {
            const p = line.rank === 0 ? parseProgress(stripRankPrefix(line.text)) : undefined;
            if (p?.step !== undefined) progress.push([timeMs(line) / 1000, p.step]);
        }
        return {
            ...analysis,
            ref: this.source.ref,
            scenario: this.options.scenarioName,
            startedAt: new Date(this.startMs).toISOString(),
            endedAt: new Date(endMs).toISOString(),
            timeline: timelineOf(this.startMs, metrics, metrics.length > 0 ? [] : progress),
        };
    }
}

export async function runChaos(source: DockerSource, nodes: ClusterNode[], scenario: Scenario, options: ChaosRunOptions): Promise<ChaosRun> {
    const session = await ChaosSession.open(source, nodes, scenario, options);
    session.say(`chaos: ${session.planned.length} fault(s) against stack ${source.ref.stack} (cluster ${source.ref.cluster})`);
    const aborted = await session.runFaults();
    const end = aborted ? "aborted" : await session.awaitEnd(scenario.timeoutSeconds ?? options.timeoutSeconds);
    return { report: await session.report(), startMs: session.startMs, end };
}
