/** What `ddpsim check` records of its runs and what it concludes; shared by the pure analysis and the reports. */
import { LogLine } from "../logs/logLine";
import { NodePhase } from "../sources/source";

/** One module the script wrapped in DistributedDataParallel, as a rank's launcher summed it up at the end. */
export interface ModuleSummary {
    /** The wrapped module's class. */
    type: string;
    numel?: number;
    /** sha256 of every parameter and buffer (names and bytes), 16 hex digits. */
    checksum?: string;
    /** A short digest per parameter or buffer, by name (at most 64). */
    tensors?: Record<string, string>;
    /** Set when the module could not be read. */
    error?: string;
}

/** One `DDPSIM_CHECK {json}` line of training/check_launcher.py. */
export interface CheckEvent {
    event: "exit" | "error" | "hold";
    rank: number;
    worldSize: number;
    node: string;
    /** torchrun's restart count of the worker group when this process started. */
    restart: number;
    pid: number;
    /** Unix seconds: when the process started, and when it printed this line. */
    started: number;
    time: number;
    /** DistributedDataParallel forward passes so far. */
    steps: number;
    exitCode?: number;
    error?: string;
    modules?: ModuleSummary[];
    /** When steps began, seconds after `started`: steps stepEvery, 2 x stepEvery, ... (thinned to at most 300). */
    stepTimes?: number[];
    stepEvery?: number;
    /** When step 1 began, seconds after `started` (null: no step). */
    firstStep?: number | null;
}

/** One node of a run: Docker's state at the end and everything it logged. */
export interface NodeRecord {
    node: string;
    rank: number;
    state: NodePhase;
    exitCode: number;
    /** Times Docker restarted the container during the run. */
    restarts: number;
    lines: LogLine[];
}

/** The crash the lost-node run made: where, when, at which step. */
export interface CrashRecord {
    node: string;
    rank: number;
    /** The step the node held at (its `holdStep`-th forward pass, not yet run). */
    holdStep: number;
    atMs?: number;
    /** What was done (`SIGKILL to the node's main process ...`), or why nothing was. */
    what: string;
    made: boolean;
}

export type RunKind = "plain" | "lostNode";

/** One `pulumi up` ... `pulumi destroy` of the check. */
export interface RunRecord {
    label: string;
    kind: RunKind;
    nodes: number;
    stack: string;
    /** When the run's up began, ms since the epoch. */
    startedMs: number;
    upSeconds: number;
    /** From the end of up until every node had ended (or the limit). */
    runSeconds: number;
    downSeconds?: number;
    /** How waiting ended: every node done, the time limit, or no cluster (up failed). */
    end: "done" | "timeout" | "up-failed" | "aborted";
    timeoutSeconds: number;
    /** `pulumi up`'s error lines when it failed. */
    upError?: string[];
    nodeRecords: NodeRecord[];
    crash?: CrashRecord;
}

export type FindingStatus = "pass" | "fail" | "skip";

/** One conclusion of the check: what was checked, how it went, and the evidence. */
export interface Finding {
    id: string;
    title: string;
    /** What this finding checks, in one sentence. */
    checks: string;
    status: FindingStatus;
    /** One line: why it passed, failed or was skipped. */
    summary: string;
    /** The evidence, one line each. */
    details: string[];
    /** A pass that deserves attention (e.g. the lost-node run restarted from scratch). */
    warning?: boolean;
    /** Seconds of the runs it rests on. */
    seconds?: number;
}
