/**
 * A chaos scenario: a list of faults against a running cluster, each at a time (after `ddpsim chaos` starts) or at a
 * training step, with a kind, a node and a duration. Read from YAML (or JSON) and checked whole before anything
 * runs (pure):
 *
 *   timeout: 20m            # optional: how long to wait for the run to end after the last fault
 *   faults:
 *     - {at: 20s, kind: crash, node: 1}
 *     - {step: 30, kind: hang, node: 1, for: 15s}
 *     - {at: 90s, kind: slow, node: 0, for: 20s, cpus: 0.3}
 */
import { parse } from "yaml";
import { parseDuration } from "../durations";
import { CliError } from "../errors";
import { checkFaultSpec, FaultSpec } from "../faults/kinds";

export interface ScheduledFault {
    /** 1-based position in the file. */
    index: number;
    /** The node as written: a rank or a host name. */
    node: string;
    /** Seconds after the start of `ddpsim chaos`, or a training step (exactly one of the two). */
    atSeconds?: number;
    atStep?: number;
    spec: FaultSpec;
}

export interface Scenario {
    faults: ScheduledFault[];
    /** Seconds to wait for the run to end once every fault is over. */
    timeoutSeconds?: number;
}

const FAULT_FIELDS = ["at", "step", "kind", "node", "for", "cpus", "bandwidth", "latency", "jitter", "loss"];

function duration(value: unknown, what: string): number {
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
    if (typeof value === "string") return parseDuration(value, what);
    throw new CliError(`${what} must be a duration (20, 20s, 1m30s), got ${JSON.stringify(value)}`);
}

function optionalNumber(value: unknown, what: string): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "number" || !Number.isFinite(value)) throw new CliError(`${what} must be a number, got ${JSON.stringify(value)}`);
    return value;
}

/** Parses and checks a scenario; every error names the fault (`fault 2 (hang)`) and the field. */
export function parseScenario(text: string, source = "the scenario"): Scenario {
    let doc: unknown;
    try {
        doc = parse(text);
    } catch (err) {
        throw new CliError(`${source} is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new CliError(`${source} must be a mapping with a list "faults"`);
    const top = doc as Record<string, unknown>;
    const unknownTop = Object.keys(top).filter((k) => k !== "faults" && k !== "timeout");
    if (unknownTop.length > 0) throw new CliError(`${source}: unknown field(s) ${unknownTop.join(", ")}; fields: faults, timeout`);
    if (!Array.isArray(top.faults) || top.faults.length === 0) throw new CliError(`${source} needs a non-empty list "faults"`);
    const faults = top.faults.map((raw, i): ScheduledFault => {
        const index = i + 1;
        if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new CliError(`${source}: fault ${index} must be a mapping`);
        const f = raw as Record<string, unknown>;
        const where = `${source}: fault ${index}${typeof f.kind === "string" ? ` (${f.kind})` : ""}: `;
        const unknown = Object.keys(f).filter((k) => !FAULT_FIELDS.includes(k));
        if (unknown.length > 0) throw new CliError(`${where}unknown field(s) ${unknown.join(", ")}; fields: ${FAULT_FIELDS.join(", ")}`);
        if (typeof f.kind !== "string") throw new CliError(`${where}needs a kind`);
        if (typeof f.node !== "string" && typeof f.node !== "number") throw new CliError(`${where}needs a node (a rank or a host name)`);
        if ((f.at === undefined) === (f.step === undefined)) throw new CliError(`${where}needs exactly one of at (a time) and step (a training step)`);
        const step = f.step;
        if (step !== undefined && (typeof step !== "number" || !Number.isInteger(step) || step < 1)) {
            throw new CliError(`${where}step must be a whole number of at least 1, got ${JSON.stringify(step)}`);
        }
        const spec = checkFaultSpec(
            f.kind,
            {
                ...(f.for !== undefined ? { for: duration(f.for, `${where}for`) } : {}),
                cpus: optionalNumber(f.cpus, `${where}cpus`),
                bandwidth: optionalNumber(f.bandwidth, `${where}bandwidth`),
                latency: optionalNumber(f.latency, `${where}latency`),
                jitter: optionalNumber(f.jitter, `${where}jitter`),
                loss: optionalNumber(f.loss, `${where}loss`),
            },
            where,
        );
        if (spec.kind !== "crash" && spec.forSeconds === undefined) {
            throw new CliError(`${where}needs for (a duration): the scenario heals every fault it makes, except crash, which heals itself`);
        }
        return {
            index,
            node: String(f.node),
            ...(f.at !== undefined ? { atSeconds: duration(f.at, `${where}at`) } : {}),
            ...(step !== undefined ? { atStep: step as number } : {}),
            spec,
        };
    });
    return { faults, ...(top.timeout !== undefined ? { timeoutSeconds: duration(top.timeout, `${source}: timeout`) } : {}) };
}
