/**
 * `ddpsim chaos <scenario.yaml>`: a list of faults against a running cluster, then a report of what they did to
 * training: a table on stdout, report.json and timeline.png in --out.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { checkParameters, Reference } from "../chaos/analysis";
import { parseReference, runReference } from "../chaos/reference";
import { drawTimeline, reportJson, reportText } from "../chaos/report";
import { runChaos } from "../chaos/runner";
import { parseScenario } from "../chaos/scenario";
import { parseDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { addTargetOptions, TargetOptions } from "../options";
import { untilSignal } from "../signals";
import { DockerSource } from "../sources/docker/source";
import { openTarget } from "../sources/open";

interface ChaosOptions extends TargetOptions {
    out?: string;
    reference?: string;
    timeout: string;
}

function defaultOut(stack: string, ms: number): string {
    const t = new Date(ms).toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    return `chaos-${stack}-${t}`;
}

async function chaos(file: string, options: ChaosOptions): Promise<number> {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        throw new CliError(`cannot read the scenario ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const scenario = parseScenario(text, file);
    const timeoutSeconds = parseDuration(options.timeout, "--timeout");
    let reference: Reference | undefined = options.reference !== undefined && options.reference !== "run" ? parseReference(options.reference) : undefined;
    const { source, ref, nodes } = await openTarget(options);
    // Chaos reads what the nodes left behind (metrics.jsonl, start events) and draws with the image: Docker only, for now.
    if (!(source instanceof DockerSource)) throw new CliError(`chaos needs a cluster on Docker; stack ${ref.stack} is not`);
    const docker = source.docker;
    const out = path.resolve(options.out ?? defaultOut(ref.stack, Date.now()));
    const say = (line: string) => process.stdout.write(`${line}\n`);
    return untilSignal(async (signal) => {
        const run = await runChaos(source, nodes, scenario, { scenarioName: file, timeoutSeconds, say, signal, ...(reference ? { reference } : {}) });
        if (options.reference === "run" && run.end === "done" && !signal.aborted) {
            try {
                reference = await runReference(docker, nodes[0].id, say, signal);
                run.report.parameters = checkParameters(run.report.result, reference);
            } catch (err) {
                run.report.parameters = { outcome: "unknown", text: `no reference: ${(err as Error).message}` };
            }
        }
        fs.mkdirSync(out, { recursive: true });
        fs.writeFileSync(path.join(out, "report.json"), `${JSON.stringify(reportJson(run.report), null, 2)}\n`);
        const text = reportText(run.report, run.startMs);
        fs.writeFileSync(path.join(out, "report.txt"), `${text}\n`);
        const image = (await docker.getContainer(nodes[0].id).inspect()).Image;
        const drawn = await drawTimeline(docker, image, run.report);
        if (drawn.png !== undefined) fs.writeFileSync(path.join(out, "timeline.png"), drawn.png);
        process.stdout.write(`\n${text}\n`);
        process.stdout.write(`report: ${path.join(out, "report.txt")}, ${path.join(out, "report.json")}${drawn.png ? `, ${path.join(out, "timeline.png")}` : ""}\n`);
        if (drawn.problem !== undefined) process.stderr.write(`ddpsim: no timeline.png: ${drawn.problem}\n`);
        if (run.end === "aborted") return EXIT.sigint;
        return run.end === "done" && run.report.verdict.status === "succeeded" ? EXIT.ok : EXIT.runFailed;
    });
}

export function chaosCommand(): Command {
    const command = new Command("chaos")
        .description("run a scenario of faults against a running cluster and report what they did: detection, recovery, steps redone, restarts, final parameters")
        .argument("<scenario>", "a YAML (or JSON) file: faults: [{at: 20s | step: 30, kind, node, for: 15s, cpus/bandwidth/...}]")
        .option("--out <dir>", "where report.txt, report.json and timeline.png go (default ./chaos-<stack>-<time>)")
        .option("--reference <ref>", "the undisturbed run to compare the final parameters with: a checksum, its result.json, or run (ddpsim's trainer: run it now in one container)")
        .option("--timeout <duration>", "how long to wait for the run to end after the last fault", "30m")
        .addHelpText(
            "after",
            "\nEach fault has exactly one of at (seconds after the start) and step (a training step), a kind\n" +
                "(crash, lose, hang, partition, slow, degrade), a node (rank or host name) and for (a duration; crash has none).\n" +
                "Every fault is checked before the first is made; Ctrl-C heals what is active and stops.\n" +
                "Exit codes: 0 the run succeeded; 1 it failed or did not end in time; 2 bad input; 130/143 stopped. See docs/faults.md.",
        );
    return addTargetOptions(command).action((file: string, options: ChaosOptions) => chaos(file, options).then((code) => void (process.exitCode = code)));
}
