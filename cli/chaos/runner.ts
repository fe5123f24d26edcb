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

export async function runChaos(source: DockerSource, nodes: ClusterNode[], scenario: Scenario, options: ChaosRunOptions): Promise<ChaosRun> {
    const { docker, ref, faults } = source;
    const store = FaultStore.of(ref);
    const planned = await planFaults(faults, nodes, scenario, store);
    const ids = nodes.map((n) => n.id);
    const dir = checkpointDirOf(await docker.getContainer(nodes[0].id).inspect());
    const since = await createdMs(docker, nodes);
    const starts = await countStarts(docker, ids);
    /** Starts the chaos run made itself (heal of lose, a partitioned node whose restarts ran out). */
    const ownStarts = new Map<string, number>();
    const startMs = Date.now();
    const elapsed = () => ((Date.now() - startMs) / 1000).toFixed(1);
    const say = (text: string) => options.say(`+${elapsed()}s ${text}`);
    const pollMs = options.pollMs ?? 500;
    const needsSteps = planned.some((p) => p.fault.atStep !== undefined);
    const tracker = new ClusterTracker(source, nodes, 3600);

    const currentStep = async (): Promise<number> => {
        const metrics = (await readMetrics(docker, ids, dir)).filter((m) => m.time * 1000 >= since);
        if (metrics.length > 0) return Math.max(...metrics.map((m) => m.step));
        const snap = await tracker.snapshot();
        return Math.max(0, ...snap.nodes.map((n) => n.facts.progress?.step ?? 0));
    };

    const heal = async (p: Planned) => {
        const { healed, failed } = await faults.heal(store, [p.record!]);
        p.event.endMs = Date.now();
        for (const h of healed) {
            p.event.healed = h.what;
            if (/\bstarted( again)?\b/.test(h.what)) ownStarts.set(p.node.id, (ownStarts.get(p.node.id) ?? 0) + 1);
            say(`fault ${p.fault.index} healed: ${p.record!.kind} ${who(p.node)}: ${h.what}`);
        }
        for (const f of failed) {
            p.event.healed = `healing failed: ${f.error}`;
            say(`fault ${p.fault.index}: healing ${p.record!.kind} ${who(p.node)} FAILED: ${f.error} (ddpsim heal retries it)`);
        }
        p.record = undefined;
    };

    say(`chaos: ${planned.length} fault(s) against stack ${ref.stack} (cluster ${ref.cluster})`);
    let aborted = false;
    try {
        const pending = [...planned];
        const active: Planned[] = [];
        while ((pending.length > 0 || active.length > 0) && !options.signal.aborted) {
            const step = needsSteps && pending.some((p) => p.fault.atStep !== undefined) ? await currentStep() : 0;
            const now = Date.now();
            for (const p of [...pending]) {
                const due = p.fault.atSeconds !== undefined ? now - startMs >= p.fault.atSeconds * 1000 : step >= p.fault.atStep!;
                if (!due) continue;
                pending.splice(pending.indexOf(p), 1);
                try {
                    const injected = await faults.inject(p.node, p.fault.spec, store);
                    p.event.startMs = injected.atMs;
                    p.event.what = injected.what;
                    if (injected.record !== undefined) {
                        p.record = injected.record;
                        p.dueEndMs = injected.atMs + (p.fault.spec.forSeconds ?? 0) * 1000;
                        active.push(p);
                    } else {
                        p.event.endMs = injected.atMs;
                    }
                    say(`fault ${p.fault.index}: ${specText(p.fault.spec)} ${who(p.node)}${step > 0 ? ` at step ${step}` : ""}: ${injected.what}`);
                } catch (err) {
                    p.event.error = (err as Error).message;
                    say(`fault ${p.fault.index}: ${specText(p.fault.spec)} ${who(p.node)} not made: ${p.event.error}`);
                }
            }
            for (const p of [...active]) {
                if (Date.now() < p.dueEndMs!) continue;
                active.splice(active.indexOf(p), 1);
                await heal(p);
            }
            await sleep(pollMs, options.signal);
        }
        aborted = options.signal.aborted;
    } finally {
        // Never leave a fault behind: on Ctrl-C or an error, heal what is still active.
        for (const p of planned) if (p.record !== undefined) await heal(p);
    }

    let end: ChaosRun["end"] = "aborted";
    if (!aborted) {
        say("every fault is over; waiting for the run to end");
        const watched = await watchCluster(tracker, {
            timeoutS: scenario.timeoutSeconds ?? options.timeoutSeconds,
            signal: options.signal,
        });
        end = watched.end;
        say(`run ${end === "done" ? "ended" : end === "timeout" ? "did not end in time" : "wait stopped"}: ${verdictText(watched.snap.verdict)}`);
    }

    const endMs = Date.now();
    const snap = await tracker.snapshot(); // the tracker reads only the lines written since its last snapshot
    const perNode: LogLine[][] = await Promise.all(snap.nodes.map((n) => source.readLogs(n)));
    const logs = mergeByTime(perNode).filter((l) => timeMs(l) >= since);
    const metrics: MetricsLine[] = (await readMetrics(docker, ids, dir)).filter((m) => m.time * 1000 >= since);
    starts.stop();
    const restarts: NodeRestarts[] = nodes.map((n) => ({
        node: n.node,
        rank: n.rank,
        before: 0,
        after: Math.max(0, (starts.counts.get(n.id) ?? 0) - (ownStarts.get(n.id) ?? 0)),
    }));
    const result = snap.nodes.map((n) => n.facts.result).find((r) => r !== undefined);
    const verdict = { status: snap.verdict.status, text: verdictText(snap.verdict) };
    const analysis = analyse({
        startMs,
        endMs,
        faults: planned.map((p) => p.event),
        metrics,
        logs,
        restarts,
        verdict,
        ...(result !== undefined ? { result } : {}),
        ...(options.reference !== undefined ? { reference: options.reference } : {}),
    });
    const progress: [number, number][] = [];
    for (const line of logs) {
        const p = line.rank === 0 ? parseProgress(stripRankPrefix(line.text)) : undefined;
        if (p?.step !== undefined) progress.push([timeMs(line) / 1000, p.step]);
    }
    const report: ChaosReport = {
        ...analysis,
        ref,
        scenario: options.scenarioName,
        startedAt: new Date(startMs).toISOString(),
        endedAt: new Date(endMs).toISOString(),
        timeline: timelineOf(startMs, metrics, metrics.length > 0 ? [] : progress),
    };
    return { report, startMs, end };
}
