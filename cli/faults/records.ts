/**
 * The record of every active fault of a cluster: what was done and what `heal` needs to undo it exactly.
 *
 * Containers' labels are immutable, so the record is a small JSON file per cluster on the machine that runs the CLI:
 * `$DDPSIM_STATE_DIR`, else `$XDG_STATE_HOME/ddpsim`, else `~/.local/state/ddpsim` (the XDG state folder), in
 * `faults/<owner>.<project>.<stack>.<cluster>.json`. Writers take a lock (a folder next to the file) and replace the
 * file atomically. Each record names its container by id, so a record of a destroyed cluster is recognised as gone.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ClusterIdentity } from "../sources/source";
import { CliError } from "../errors";

export const FAULT_KINDS = ["crash", "lose", "hang", "partition", "slow", "degrade"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What heal needs per kind: the exact prior state. */
export type UndoInfo =
    | { kind: "lose" }
    | { kind: "hang" }
    | { kind: "partition"; networkId: string; networkName: string; aliases: string[]; ipAddress: string }
    | { kind: "slow"; cpuQuota: number; cpuPeriod: number; nanoCpus: number }
    | { kind: "degrade"; interface: string; priorQdisc: string; restore: string[][] };

export interface FaultRecord {
    /** `<kind>-<node>-<ms>`: unique within a cluster. */
    id: string;
    kind: FaultKind;
    node: string;
    /** The node's deployment rank (label ddpsim.rank). */
    rank: number;
    containerId: string;
    containerName: string;
    /** ISO 8601 times: when it was injected, and when `--for` ends it (the CLI that waits heals it then). */
    startedAt: string;
    until?: string;
    /** What was done, in words (shown by status). */
    what: string;
    undo: UndoInfo;
}

/** A fault made: `inject`'s answer. */
export interface Injected {
    /** When the fault took effect, ms since the epoch. */
    atMs: number;
    /** What was done, in words. */
    what: string;
    /** The record heal needs (every kind but crash, which needs no undo). */
    record?: FaultRecord;
}

/** A fault undone: `heal`'s answer for one record. */
export interface Healed {
    record: FaultRecord;
    atMs: number;
    /** What was done, in words. */
    what: string;
}

/** Where this user's fault records live. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
    if (env.DDPSIM_STATE_DIR) return env.DDPSIM_STATE_DIR;
    if (env.XDG_STATE_HOME) return path.join(env.XDG_STATE_HOME, "ddpsim");
    return path.join(os.homedir(), ".local", "state", "ddpsim");
}

const safe = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, "_");

export function recordFile(ref: ClusterIdentity, env: NodeJS.ProcessEnv = process.env): string {
    return path.join(stateDir(env), "faults", `${safe(ref.owner)}.${safe(ref.project)}.${safe(ref.stack)}.${safe(ref.cluster)}.json`);
}

const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 60_000;

function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The records of one cluster; every change is a locked read-modify-write of the file. */
export class FaultStore {
    constructor(readonly file: string) {}

    static of(ref: ClusterIdentity): FaultStore {
        return new FaultStore(recordFile(ref));
    }

    list(): FaultRecord[] {
        let text: string;
        try {
            text = fs.readFileSync(this.file, "utf8");
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
            throw new CliError(`cannot read the fault records ${this.file}: ${(err as Error).message}`);
        }
        try {
            const parsed = JSON.parse(text) as { faults?: FaultRecord[] };
            return Array.isArray(parsed.faults) ? parsed.faults : [];
        } catch {
            throw new CliError(`the fault records ${this.file} are not valid JSON: fix or delete the file`);
        }
    }

    add(record: FaultRecord): void {
        this.change((faults) => [...faults.filter((f) => f.id !== record.id), record]);
    }

    remove(id: string): void {
        this.change((faults) => faults.filter((f) => f.id !== id));
    }

    private change(edit: (faults: FaultRecord[]) => FaultRecord[]): void {
        const lock = `${this.file}.lock`;
        fs.mkdirSync(path.dirname(this.file), { recursive: true });
        const deadline = Date.now() + LOCK_WAIT_MS;
        for (;;) {
            try {
                fs.mkdirSync(lock);
                break;
            } catch (err) {
                if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
                const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
                if (age > LOCK_STALE_MS) fs.rmSync(lock, { recursive: true, force: true });
                else if (Date.now() > deadline) throw new CliError(`the fault records ${this.file} stay locked (${lock}); remove the lock if no ddpsim runs`);
                else sleepSync(50);
            }
        }
        try {
            const faults = edit(this.list());
            const tmp = `${this.file}.tmp-${process.pid}`;
            fs.writeFileSync(tmp, `${JSON.stringify({ faults }, null, 2)}\n`);
            fs.renameSync(tmp, this.file);
            if (faults.length === 0) fs.rmSync(this.file, { force: true });
        } finally {
            fs.rmSync(lock, { recursive: true, force: true });
        }
    }
}
