/**
 * One run of the check on the real engine: `pulumi up` of a temporary stack of the stack program (Automation API,
 * the Pulumi CLI and the Node.js language host on PATH), watch the nodes until every one has ended (or the limit),
 * crash a node when it holds at the chosen step (the lost-node run), read every node's log, `pulumi destroy`, and
 * remove the stack. The cluster is torn down whatever happened, Ctrl-C included.
 */
import * as crypto from "crypto";
import Docker from "dockerode";
import { compareTime, LogLine } from "../logs/logLine";
import { parseMarker } from "../logs/logParsers";
import { sleep } from "../signals";
import { DockerSource } from "../sources/docker/source";
import { identityOfLabels } from "../../components/plan/labels";
import { ClusterIdentity, ClusterNode, NodeState } from "../sources/source";
import { StackDriver } from "../stack/stackDriver";
import { exitedForGood } from "../watch/verdict";
import { crashNode } from "./crash";
import { CHECK_MARKER } from "./nodeLog";
import { CrashRecord, NodeRecord, RunKind, RunRecord } from "./types";

export interface CheckContext {
    docker: Docker;
    projectDir: string;
    /** PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE for the CLI. */
    env: Record<string, string>;
    say: (line: string) => void;
    /** Pulumi's own output, when shown. */
    echo?: (text: string) => void;
    signal: AbortSignal;
    keepVolumes: boolean;
    pollMs?: number;
}

export interface RunSpec {
    label: string;
    kind: RunKind;
    nodes: number;
    /** Stack config of this run (keys in ddpsim's namespace). */
    config: Record<string, unknown>;
    timeoutSeconds: number;
    /** How long the other nodes get to end after one node failed for good. */
    graceSeconds: number;
    /** Kill this node's main process when it holds before step holdStep. */
    crash?: { node: number; holdStep: number };
}

/** New log lines of one node since the last call. */
class LineReader {
    private last: LogLine | undefined;

    constructor(private readonly source: DockerSource) {}

    async next(node: ClusterNode): Promise<LogLine[]> {
        const lines = await this.source.readLogs(node, this.last === undefined ? {} : { after: this.last });
        const fresh = lines.filter((l) => this.last === undefined || compareTime(l, this.last) > 0);
        if (fresh.length > 0) this.last = fresh[fresh.length - 1];
        return fresh;
    }
}

async function clusterOf(docker: Docker, outputs: Record<string, unknown>): Promise<ClusterIdentity | undefined> {
    const names = outputs.containerNames;
    if (!Array.isArray(names) || typeof names[0] !== "string") return undefined;
    return identityOfLabels((await docker.getContainer(names[0]).inspect()).Config.Labels ?? {});
}

interface Watched {
    end: RunRecord["end"];
    crash?: CrashRecord;
}

/** Polls the nodes until they have all ended, one failed and the others had their grace, the limit, or Ctrl-C. */
async function watch(ctx: CheckContext, source: DockerSource, nodes: ClusterNode[], spec: RunSpec): Promise<Watched> {
    const started = Date.now();
    const target = spec.crash === undefined ? undefined : nodes.find((n) => n.rank === spec.crash!.node);
    const reader = new LineReader(source);
    let crash: CrashRecord | undefined =
        spec.crash === undefined || target === undefined
            ? undefined
            : { node: target.node, rank: target.rank, holdStep: spec.crash.holdStep, what: `it never reached step ${spec.crash.holdStep}`, made: false };
    let failedAt: number | undefined;
    for (;;) {
        const states: NodeState[] = await Promise.all(nodes.map((n) => source.state(n)));
        if (crash !== undefined && !crash.made && target !== undefined) {
            const held = (await reader.next(target)).some((l) => parseMarker(l.text, CHECK_MARKER)?.event === "hold");
            if (held) {
                try {
                    const made = await crashNode(source, target);
                    crash = { ...crash, made: true, atMs: made.atMs, what: made.what };
                    ctx.say(`killed ${target.node} (rank ${target.rank}) before its step ${crash.holdStep}: ${made.what}`);
                } catch (err) {
                    crash = { ...crash, what: `the kill failed: ${(err as Error).message}` };
                    ctx.say(`could not kill ${target.node}: ${(err as Error).message}`);
                }
            }
        }
        if (states.every(exitedForGood)) return { end: "done", crash };
        if (spec.kind === "plain" && states.some((s) => exitedForGood(s) && s.exitCode !== 0)) {
            failedAt ??= Date.now();
            if (Date.now() - failedAt >= spec.graceSeconds * 1000) return { end: "done", crash };
        }
        if (Date.now() - started >= spec.timeoutSeconds * 1000) return { end: "timeout", crash };
        await sleep(ctx.pollMs ?? 500, ctx.signal);
        if (ctx.signal.aborted) return { end: "aborted", crash };
    }
}

async function nodeRecords(source: DockerSource, nodes: ClusterNode[]): Promise<NodeRecord[]> {
    return Promise.all(
        nodes.map(async (n) => {
            const s = await source.state(n);
            return { node: s.node, rank: s.rank, state: s.state, exitCode: s.exitCode, restarts: s.restarts, lines: await source.readLogs(n) };
        }),
    );
}

/** `pulumi destroy` of the run's stack and the stack's removal; records how long the destroy took. */
async function tearDown(ctx: CheckContext, driver: StackDriver, record: RunRecord): Promise<void> {
    const down = await driver.destroy();
    record.downSeconds = down.seconds;
    if (!down.ok) ctx.say(`${record.label}: pulumi destroy of ${record.stack} failed: ${down.error.join(" ")}`);
    else await driver.removeStack(true).catch(() => undefined);
    driver.dispose();
}

/** The run up to the nodes' end; its cluster is being torn down when this returns (await `teardown`). */
async function upAndWatch(ctx: CheckContext, spec: RunSpec, driver: StackDriver, record: RunRecord): Promise<void> {
    ctx.say(`${spec.label}: pulumi up of stack ${record.stack} (${spec.nodes} nodes)`);
    const up = await driver.up(ctx.signal);
    record.upSeconds = up.seconds;
    if (!up.ok) {
        record.upError = up.error;
        ctx.say(`${spec.label}: pulumi up failed after ${up.seconds.toFixed(1)} s: ${up.error.join(" ")}`);
        return;
    }
    const ref = await clusterOf(ctx.docker, up.outputs);
    const source = ref === undefined ? undefined : new DockerSource(ctx.docker, ref);
    const nodes = source === undefined ? [] : await source.nodes();
    if (source === undefined || nodes.length === 0) {
        record.upError = ["pulumi up created no node container"];
        return;
    }
    ctx.say(`${spec.label}: up in ${up.seconds.toFixed(1)} s; waiting for the nodes to end (at most ${spec.timeoutSeconds} s)`);
    const runStart = Date.now();
    const watched = await watch(ctx, source, nodes, spec);
    record.runSeconds = (Date.now() - runStart) / 1000;
    record.end = watched.end;
    if (watched.crash !== undefined) record.crash = watched.crash;
    record.nodeRecords = await nodeRecords(source, nodes);
    const codes = record.nodeRecords.map((n) => (exitedForGood(n) ? n.exitCode : n.state)).join(", ");
    ctx.say(`${spec.label}: ${watched.end === "done" ? "ended" : watched.end} after ${record.runSeconds.toFixed(1)} s: exit codes ${codes}`);
}

/**
 * One run. Resolves once its nodes have ended and their logs are read, with the teardown under way, so that the next
 * run's `pulumi up` overlaps this one's `pulumi destroy`; `teardown` resolves when the stack is gone.
 */
export async function runOnce(ctx: CheckContext, spec: RunSpec): Promise<{ record: RunRecord; teardown: Promise<void> }> {
    const stack = `check-${spec.kind === "plain" ? `n${spec.nodes}` : "lost"}-${crypto.randomBytes(3).toString("hex")}`;
    const config = { ...spec.config, nodes: spec.nodes, retainCheckpoints: ctx.keepVolumes };
    const driver = await StackDriver.open({ projectDir: ctx.projectDir, stack, config, env: ctx.env, ...(ctx.echo ? { onOutput: ctx.echo } : {}) });
    const record: RunRecord = { label: spec.label, kind: spec.kind, nodes: spec.nodes, stack, startedMs: Date.now(), upSeconds: 0, runSeconds: 0, end: "up-failed", timeoutSeconds: spec.timeoutSeconds, nodeRecords: [] };
    try {
        await upAndWatch(ctx, spec, driver, record);
    } catch (err) {
        await tearDown(ctx, driver, record);
        throw err;
    }
    return { record, teardown: tearDown(ctx, driver, record) };
}
