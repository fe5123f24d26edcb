/** `ddpsim fault <kind> --node N [--for D]`: one fault, made real by the cluster's source, recorded for `heal` and `status`. */
import { Command } from "commander";
import { formatDuration, parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { checkFaultSpec, KIND_SUMMARY, RawFaultOptions, specText, who } from "../faults/kinds";
import { FAULT_KINDS, FaultStore } from "../faults/records";
import { selectNodes } from "../sources/nodeSelect";
import { addTargetOptions, DEFAULT_CLUSTER, TargetOptions } from "../options";
import { sleep, untilSignal } from "../signals";
import { openTarget } from "../sources/open";
import { faultsOf } from "../sources/source";

interface FaultOptions extends TargetOptions {
    node?: string;
    for?: string;
    cpus?: string;
    bandwidth?: string;
    latency?: string;
    jitter?: string;
    loss?: string;
}

export const stamp = (ms: number) => new Date(ms).toISOString();

function number(text: string | undefined, flag: string): number | undefined {
    if (text === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(text.trim())) throw new CliError(`${flag} must be a number, got ${JSON.stringify(text)}`);
    return Number(text);
}

export function rawFaultOptions(o: FaultOptions): RawFaultOptions {
    return {
        ...(o.for !== undefined ? { for: parseDuration(o.for, "--for") } : {}),
        cpus: number(o.cpus, "--cpus"),
        bandwidth: number(o.bandwidth, "--bandwidth"),
        latency: number(o.latency, "--latency"),
        jitter: number(o.jitter, "--jitter"),
        loss: number(o.loss, "--loss"),
    };
}

async function fault(kindText: string, options: FaultOptions): Promise<number> {
    const spec = checkFaultSpec(kindText, rawFaultOptions(options));
    if (options.node === undefined) throw new CliError("--node is required: the node's rank or host name");
    const { source, ref, nodes } = await openTarget(options);
    const faults = faultsOf(source);
    const [node] = selectNodes(nodes, [options.node]);
    const store = FaultStore.of(ref);
    const injected = await faults.inject(node, spec, store);
    process.stdout.write(`${stamp(injected.atMs)} ${specText(spec)} ${who(node)}: ${injected.what}\n`);
    if (injected.record === undefined) return EXIT.ok;
    if (spec.forSeconds === undefined) {
        process.stdout.write(`undo it with: ddpsim heal --stack ${ref.stack}${ref.cluster !== DEFAULT_CLUSTER ? ` --cluster ${ref.cluster}` : ""}\n`);
        return EXIT.ok;
    }
    const record = injected.record;
    process.stdout.write(`healing it after ${formatDuration(spec.forSeconds)} (--for), at ${record.until}; Ctrl-C heals it now\n`);
    return untilSignal(async (signal) => {
        await sleep(spec.forSeconds! * 1000 - (Date.now() - injected.atMs), signal);
        const { healed, failed } = await faults.heal(store, [record]);
        for (const h of healed) process.stdout.write(`${stamp(h.atMs)} healed ${h.record.kind} ${who(node)}: ${h.what}\n`);
        for (const f of failed) process.stderr.write(`ddpsim: healing ${f.record.kind} on ${who(node)} failed: ${f.error}; the record stays for ddpsim heal\n`);
        return failed.length > 0 ? EXIT.error : EXIT.ok;
    });
}

export function faultCommand(): Command {
    const kinds = FAULT_KINDS.map((k) => `  ${k.padEnd(10)} ${KIND_SUMMARY[k]}`).join("\n");
    const command = new Command("fault")
        .description("inject a fault into one node of a running cluster (recorded: ddpsim status shows it, ddpsim heal undoes it)")
        .argument("<kind>", `one of ${FAULT_KINDS.join(", ")}`)
        .option("-n, --node <node>", "the node: a rank or a host name (required)")
        .option("--for <duration>", "heal it after this long (20, 30s, 2m); the command waits, Ctrl-C heals at once")
        .option("--cpus <n>", "slow: CPUs the node may use (default 0.2)")
        .option("--bandwidth <mbit>", "degrade: egress bandwidth in Mbit/s (tc tbf)")
        .option("--latency <ms>", "degrade: added one-way latency in ms (needs netem in the host's kernel)")
        .option("--jitter <ms>", "degrade: +/- variation of the latency in ms (needs netem)")
        .option("--loss <percent>", "degrade: packets dropped, in percent (needs netem)")
        .addHelpText(
            "after",
            `\nKinds:\n${kinds}\n\nEach prints what it did and when. Bad input (no such kind, node or cluster; a fault this host\n` +
                "cannot make) is one error on stderr, exit 2, and changes nothing. See docs/faults.md.",
        );
    return addTargetOptions(command).action((kind: string, options: FaultOptions) => fault(kind, options).then((code) => void (process.exitCode = code)));
}
