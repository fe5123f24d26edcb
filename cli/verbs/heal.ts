/** `ddpsim heal [--node N]`: undo every active fault of the cluster (or of one node), back to the exact prior state. */
import { Command } from "commander";
import { EXIT } from "../errors";
import { who } from "../faults/kinds";
import { FaultStore } from "../faults/records";
import { selectNodes } from "../sources/nodeSelect";
import { addTargetOptions, TargetOptions } from "../options";
import { openTarget } from "../sources/open";
import { faultsOf } from "../sources/source";
import { stamp } from "./fault";

interface HealOptions extends TargetOptions {
    node?: string[];
}

async function heal(options: HealOptions): Promise<number> {
    const { source, ref, nodes } = await openTarget(options);
    const store = FaultStore.of(ref);
    const wanted = options.node === undefined ? undefined : new Set(selectNodes(nodes, options.node).map((n) => n.id));
    const records = store.list().filter((r) => wanted === undefined || wanted.has(r.containerId));
    if (records.length === 0) {
        process.stdout.write(`no active fault on stack ${ref.stack} (cluster ${ref.cluster})${wanted ? " on those nodes" : ""}: nothing to heal\n`);
        return EXIT.ok;
    }
    const { healed, failed } = await faultsOf(source).heal(store, records);
    for (const h of healed) process.stdout.write(`${stamp(h.atMs)} healed ${h.record.kind} ${who(h.record)}: ${h.what}\n`);
    for (const f of failed) process.stderr.write(`ddpsim: healing ${f.record.kind} on ${who(f.record)} failed: ${f.error}; its record stays\n`);
    return failed.length > 0 ? EXIT.error : EXIT.ok;
}

export function healCommand(): Command {
    const command = new Command("heal")
        .description("undo every active fault of the cluster (ddpsim fault), newest first, back to the exact prior state")
        .option("-n, --node <node>", "only this node's faults (a rank or a host name; repeatable)", (v: string, all: string[] = []) => [...all, v])
        .addHelpText("after", "\nlose: start; hang: unpause; partition: reconnect (same aliases); slow: prior CPU limits; degrade: prior link profile.");
    return addTargetOptions(command).action((options: HealOptions) => heal(options).then((code) => void (process.exitCode = code)));
}
