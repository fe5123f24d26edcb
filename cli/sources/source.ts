/**
 * Where a run comes from: the one small interface between the verbs (status, logs, wait, run, fault, chaos) and a
 * running cluster. Logs, watching, verdicts and reports sit above it and do not care which source it is.
 * Implementations: docker/ (containers by their labels, through the Docker API). A source that cannot do something
 * optional (faults) leaves it out, and the verb that needs it says so. Stopping and starting a node happen only as
 * faults today (lose, and its heal), so they belong to the fault hooks.
 */
import { CliError } from "../errors";
import { FaultSpec } from "../faults/kinds";
import { FaultRecord, FaultStore, Healed, Injected } from "../faults/records";
import { ClusterIdentity } from "../../components/plan/types";
import { LogLine } from "../logs/logLine";

/** Which cluster: the identity every target labels its nodes with (docs/cli.md, "Labels"); the owner defaults to the OS user. */
export type { ClusterIdentity } from "../../components/plan/types";

/** One node of a cluster, as its labels describe it. */
export interface ClusterNode {
    /** The source's id of the node's workload (Docker: the container id). */
    id: string;
    /** The source's name of it (Docker: the container name). */
    name: string;
    /** The node's hostname (label ddpsim.node). */
    node: string;
    rank: number;
    role: string;
    gpus: string[];
    /** Elastic clusters only (label ddpsim.minNodes): the fewest nodes training continues with. */
    minNodes?: number;
}

/** A node's state, in Docker's words; another source maps its own onto them. */
export type NodePhase = "created" | "running" | "restarting" | "paused" | "exited" | "dead" | "removing";

/** A node and the source's state of it now. */
export interface NodeState extends ClusterNode {
    state: NodePhase;
    /** The last exit code (kept while the node is restarting). */
    exitCode: number;
    /** How often the source restarted the node's main process. */
    restarts: number;
    startedAtMs?: number;
    finishedAtMs?: number;
}

/** Which lines of a log. */
export interface LogRange {
    /** Lines from the end of the log. */
    tail?: number;
    /** Unix seconds: lines from then on. */
    since?: number;
    /** Lines after this one (a source may return a few of the same second too: callers skip them). */
    after?: Pick<LogLine, "sec" | "nanos">;
}

/** Faults, for a source that can make them (docs/faults.md). */
export interface FaultHooks {
    /** Why `spec` cannot be made on `node` now, or undefined. Changes nothing. */
    problem(node: ClusterNode, spec: FaultSpec, active: FaultRecord[]): Promise<string | undefined>;
    /** Makes the fault (a CliError when `problem` finds one) and records in `store` what heal needs. */
    inject(node: ClusterNode, spec: FaultSpec, store: FaultStore): Promise<Injected>;
    /** Undoes `records`, newest first, and drops each healed one from `store`; the failed ones stay. */
    heal(store: FaultStore, records: FaultRecord[]): Promise<{ healed: Healed[]; failed: { record: FaultRecord; error: string }[] }>;
}

/** A running cluster, found by its labels. */
export interface ClusterSource {
    readonly ref: ClusterIdentity;
    /** The cluster's nodes, by rank. */
    nodes(): Promise<ClusterNode[]>;
    /** The node's state now; a CliError when it is gone. */
    state(node: ClusterNode): Promise<NodeState>;
    /** The node's log as it is now, in time order. */
    readLogs(node: ClusterNode, range?: LogRange): Promise<LogLine[]>;
    /** Streams the node's log to `onLine` until the source ends it (the node stopped) or `signal` aborts. */
    followLogs(node: ClusterNode, range: LogRange, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<void>;
    /** Left out by a source that cannot make faults. */
    readonly faults?: FaultHooks;
}

/** The source's fault hooks, or a CliError saying that it has none. */
export function faultsOf(source: ClusterSource): FaultHooks {
    if (source.faults === undefined) throw new CliError(`faults cannot be made on stack ${source.ref.stack}: its nodes' source has no fault hooks`);
    return source.faults;
}
