/**
 * Fault kinds and their options, checked before anything is touched (pure): bad input is one clear error that
 * changes nothing. docs/faults.md describes each kind.
 */
import { describeLink, LinkSpec } from "../../components/plan/interconnect";
import { CliError } from "../errors";
import { FAULT_KINDS, FaultKind } from "./records";

/** What each kind does, in a few words (help text, status). */
export const KIND_SUMMARY: Record<FaultKind, string> = {
    crash: "SIGKILL of the node's main process from the host; Docker's restart policy brings it back",
    lose: "the node is stopped (a manual stop: no restart) until heal starts it",
    hang: "the node freezes (docker pause) until heal or --for",
    partition: "the node is disconnected from the cluster network until heal reconnects it (same aliases)",
    slow: "a straggler: a CPU quota (docker update, --cpus) until heal restores the prior values",
    degrade: "the node's link gets another profile (tc, --bandwidth; --latency/--loss need netem) until heal",
};

/** A fault as asked for, checked. */
export interface FaultSpec {
    kind: FaultKind;
    /** Seconds until the fault is healed by the command that made it; undefined: until `ddpsim heal`. */
    forSeconds?: number;
    /** slow: CPUs the node may use (0.2 is a fifth of one CPU). */
    cpus?: number;
    /** degrade: the link profile to apply (at least one field). */
    link?: LinkSpec;
}

export const DEFAULT_SLOW_CPUS = 0.2;

export interface RawFaultOptions {
    for?: number;
    cpus?: number;
    bandwidth?: number;
    latency?: number;
    jitter?: number;
    loss?: number;
}

function positive(value: number | undefined, flag: string, max: number, where = ""): void {
    if (value !== undefined && (!Number.isFinite(value) || value <= 0 || value > max)) {
        throw new CliError(`${where}${flag} must be a number above 0 and at most ${max}, got ${value}`);
    }
}

/** Checks a kind and its options; throws one CliError naming the flag when they do not fit together. */
export function checkFaultSpec(kindText: string, raw: RawFaultOptions, where = ""): FaultSpec {
    const kind = FAULT_KINDS.find((k) => k === kindText);
    if (kind === undefined) {
        throw new CliError(`${where}unknown fault kind ${JSON.stringify(kindText)}; kinds: ${FAULT_KINDS.join(", ")}`);
    }
    const linkFlags = { bandwidth: raw.bandwidth, latency: raw.latency, jitter: raw.jitter, loss: raw.loss };
    const given = Object.entries(linkFlags).filter(([, v]) => v !== undefined).map(([k]) => `--${k}`);
    if (kind !== "degrade" && given.length > 0) throw new CliError(`${where}${given.join(", ")} only go with degrade, not ${kind}`);
    if (kind !== "slow" && raw.cpus !== undefined) throw new CliError(`${where}--cpus only goes with slow, not ${kind}`);
    if (kind === "crash" && raw.for !== undefined) {
        throw new CliError(`${where}crash is instant (the restart policy brings the node back): it takes no --for`);
    }
    if (raw.for !== undefined && (!Number.isFinite(raw.for) || raw.for <= 0)) throw new CliError(`${where}--for must be a duration above 0`);
    const spec: FaultSpec = { kind, ...(raw.for !== undefined ? { forSeconds: raw.for } : {}) };
    if (kind === "slow") {
        positive(raw.cpus, "--cpus", 1024, where);
        spec.cpus = raw.cpus ?? DEFAULT_SLOW_CPUS;
        if (spec.cpus < 0.01) throw new CliError(`${where}--cpus must be at least 0.01 (Docker's smallest quota), got ${spec.cpus}`);
    }
    if (kind === "degrade") {
        if (given.length === 0) throw new CliError(`${where}degrade needs the new link: --bandwidth MBIT, and/or --latency MS, --jitter MS, --loss PERCENT`);
        positive(raw.bandwidth, "--bandwidth", 10_000_000, where);
        positive(raw.latency, "--latency", 60_000, where);
        positive(raw.jitter, "--jitter", 60_000, where);
        positive(raw.loss, "--loss", 100, where);
        if (raw.jitter !== undefined && raw.latency === undefined) throw new CliError(`${where}--jitter needs a --latency to vary`);
        const link: LinkSpec = {};
        if (raw.bandwidth !== undefined) link.bandwidthMbit = raw.bandwidth;
        if (raw.latency !== undefined) link.latencyMs = raw.latency;
        if (raw.jitter !== undefined) link.jitterMs = raw.jitter;
        if (raw.loss !== undefined) link.lossPercent = raw.loss;
        spec.link = link;
    }
    return spec;
}

/** `ddp-node-1 (rank 1)`: a node in fault messages. */
export function who(node: { node: string; rank: number }): string {
    return `${node.node} (rank ${node.rank})`;
}

/** `hang`, `slow (0.2 CPUs)`, `degrade (100 Mbit/s)`. */
export function specText(spec: FaultSpec): string {
    if (spec.kind === "slow") return `slow (${spec.cpus} CPUs)`;
    if (spec.kind === "degrade" && spec.link !== undefined) return `degrade (${describeLink(spec.link)})`;
    return spec.kind;
}
