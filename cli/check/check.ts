/**
 * `ddpsim check`: the user's script, unchanged, on simulated CPU nodes through `pulumi up` of ddpsim's stack program
 * (temporary stacks and state): one run per world size, then a run whose node is killed mid-training; the findings
 * from them; the reports (Markdown, also to $GITHUB_STEP_SUMMARY, JUnit XML, check.json, the lost-node timeline PNG)
 * in the output folder. Resolves to the exit code: 0 only when no finding failed.
 */
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { drawPlot } from "../chaos/report";
import { connectDocker } from "../sources/docker/connect";
import { CliError, EXIT } from "../errors";
import { compareRanks } from "./agreement";
import { diagnoseRun, SourceReader } from "./diagnose";
import { findings, passed } from "./findings";
import { junitXml } from "./junit";
import { analyseLostNode, LostNodeAnalysis, timelineInput } from "./lostNode";
import { ddpsimProjectDir, scratchProject } from "./project";
import { CheckContext, runOnce, RunSpec } from "./runner";
import { checkJson, CheckSummary, markdownSummary, textSummary } from "./summary";
import { RunRecord } from "./types";

export interface CheckOptions {
    /** Absolute folder of the user's code (mounted read-only at /code). */
    codeDir: string;
    script?: string;
    module?: string;
    args: string[];
    /** World sizes of the plain runs; the lost-node run uses the first. */
    worldSizes: number[];
    image: string;
    /** Limit of each run, from up to the last node's end. */
    timeoutSeconds: number;
    collectiveTimeoutSeconds: number;
    lostNode: boolean;
    requireResume: boolean;
    out: string;
    keepVolumes: boolean;
    /** Extra stack config for every run (torchrunArgs, env, ...). */
    extraConfig: Record<string, unknown>;
    quiet: boolean;
    say: (line: string) => void;
}

export interface CheckResult {
    exitCode: number;
    summary: CheckSummary;
}

/** The lines of the user's code, read on this machine, for the evidence (`train.py:44 in main (dist.all_reduce(val))`). */
function sourceReader(codeDir: string): SourceReader {
    const cache = new Map<string, string[] | undefined>();
    return (file, line) => {
        if (!cache.has(file)) {
            const full = path.resolve(codeDir, file);
            cache.set(file, full.startsWith(codeDir) && fs.existsSync(full) ? fs.readFileSync(full, "utf8").split("\n") : undefined);
        }
        return cache.get(file)?.[line - 1]?.trim();
    };
}

/** A folder as the report shows it: relative to the working directory when inside it (a CI checkout), else absolute. */
function shownPath(dir: string): string {
    const relative = path.relative(process.cwd(), dir);
    return relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? dir : relative;
}

function checkInputs(options: CheckOptions): void {
    if (!fs.existsSync(options.codeDir) || !fs.statSync(options.codeDir).isDirectory()) {
        throw new CliError(`--code must be a folder, and ${options.codeDir} is none`);
    }
    if (options.script !== undefined && !options.script.startsWith("/") && !fs.existsSync(path.join(options.codeDir, options.script))) {
        throw new CliError(`--script ${options.script} is not in ${options.codeDir} (it is relative to --code)`);
    }
    if (options.worldSizes.some((n) => n < 2)) throw new CliError("--nodes: every world size must be 2 or more nodes");
}

async function checkImage(docker: Docker, image: string): Promise<void> {
    const found = await docker.getImage(image).inspect().then(() => true, () => false);
    if (!found) {
        throw new CliError(`the image ${image} is not on this Docker host: build the CPU image with \`bash training/cpu-image/build.sh\` (as root), or give --image`);
    }
}

function baseConfig(options: CheckOptions): Record<string, unknown> {
    return {
        codeDir: options.codeDir,
        ...(options.module !== undefined ? { module: options.module } : { script: options.script }),
        scriptArgs: options.args,
        image: options.image,
        imageMode: "local",
        gpusPerNode: 0,
        checkHooks: true,
        collectiveTimeoutSeconds: options.collectiveTimeoutSeconds,
        stopGraceSeconds: 5,
        ...options.extraConfig,
    };
}

/** Why the lost-node run is not worth running, or undefined. */
function lostNodeObstacle(first: RunRecord | undefined): string | undefined {
    if (first === undefined) return "no plain run";
    const verdict = diagnoseRun(first);
    if (verdict.status !== "ok") return `the ${first.label} run did not end with exit 0 on every node`;
    if (compareRanks(verdict.ranks).agree === false) return `the ranks of the ${first.label} run disagree already`;
    const steps = verdict.ranks.find((r) => r.rank === 0)?.steps ?? 0;
    if (steps < 2) return `the ${first.label} run trained ${steps} DistributedDataParallel step(s); a node is killed between two`;
    return undefined;
}

function lostNodeSpec(options: CheckOptions, baselineSteps: number): RunSpec {
    const holdStep = Math.floor(baselineSteps / 2) + 1;
    const nodes = options.worldSizes[0];
    const env = { ...((options.extraConfig.env as Record<string, string> | undefined) ?? {}) };
    Object.assign(env, {
        DDPSIM_CHECK_HOLD_STEP: String(holdStep),
        DDPSIM_CHECK_HOLD_NODE: "1",
        DDPSIM_CHECK_HOLD_SECONDS: String(Math.max(5, options.collectiveTimeoutSeconds - 5)),
    });
    return {
        label: `lost node (${nodes} nodes)`,
        kind: "lostNode",
        nodes,
        config: { ...baseConfig(options), env },
        timeoutSeconds: options.timeoutSeconds * 2,
        graceSeconds: options.collectiveTimeoutSeconds + 15,
        crash: { node: 1, holdStep },
    };
}

async function writeReports(docker: Docker, options: CheckOptions, summary: CheckSummary, exitCode: number, timeline: object | undefined): Promise<void> {
    fs.mkdirSync(options.out, { recursive: true });
    if (timeline !== undefined) {
        const drawn = await drawPlot(docker, options.image, timeline).catch((err: Error) => ({ problem: err.message, png: undefined }));
        if (drawn.png !== undefined) {
            fs.writeFileSync(path.join(options.out, "timeline.png"), drawn.png);
            summary.timeline = "timeline.png";
        } else summary.noTimeline = drawn.problem ?? "it could not be drawn";
    }
    const markdown = markdownSummary(summary);
    fs.writeFileSync(path.join(options.out, "report.md"), markdown);
    fs.writeFileSync(path.join(options.out, "junit.xml"), junitXml({ name: summary.command, timestamp: summary.startedAt, seconds: summary.seconds }, summary.findings));
    fs.writeFileSync(path.join(options.out, "check.json"), `${JSON.stringify(checkJson(summary, exitCode), null, 2)}\n`);
    for (const run of summary.runs) {
        const dir = path.join(options.out, "logs", run.label.replace(/[^A-Za-z0-9]+/g, "-").replace(/-$/, ""));
        fs.mkdirSync(dir, { recursive: true });
        for (const n of run.nodeRecords) fs.writeFileSync(path.join(dir, `${n.node}.log`), n.lines.map((l) => `${l.timestamp} ${l.text}`).join("\n") + "\n");
    }
    const stepSummary = process.env.GITHUB_STEP_SUMMARY;
    if (stepSummary !== undefined && stepSummary !== "") fs.appendFileSync(stepSummary, `${markdown}\n`);
}

export async function runCheck(options: CheckOptions, signal: AbortSignal): Promise<CheckResult> {
    checkInputs(options);
    const docker = await connectDocker();
    await checkImage(docker, options.image);
    const started = Date.now();
    const scratch = scratchProject(ddpsimProjectDir());
    const ctx: CheckContext = {
        docker,
        projectDir: scratch.projectDir,
        env: { PULUMI_BACKEND_URL: scratch.backendUrl, PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "" },
        say: options.say,
        ...(options.quiet ? {} : { echo: (text: string) => process.stderr.write(text) }),
        signal,
        keepVolumes: options.keepVolumes,
    };
    const runs: RunRecord[] = [];
    const teardowns: Promise<void>[] = [];
    let lostNode: { run: RunRecord; analysis: LostNodeAnalysis } | { skipped: string } = { skipped: "--no-lost-node" };
    const sourceOf = sourceReader(options.codeDir);
    try {
        for (const nodes of options.worldSizes) {
            if (signal.aborted) break;
            const config = { ...baseConfig(options), maxRestarts: 0, restartRetries: 0 };
            const { record: run, teardown } = await runOnce(ctx, { label: `${nodes} nodes`, kind: "plain", nodes, config, timeoutSeconds: options.timeoutSeconds, graceSeconds: options.collectiveTimeoutSeconds + 15 });
            teardowns.push(teardown);
            // A stack that cannot come up (bad config, no engine) says nothing about the script: exit 2 at once.
            if (run.end === "up-failed") throw new CliError(`pulumi up of the ${run.label} run failed:\n  ${(run.upError ?? []).join("\n  ")}`);
            runs.push(run);
        }
        const obstacle = lostNodeObstacle(runs[0]);
        if (options.lostNode && !signal.aborted) {
            if (obstacle !== undefined) lostNode = { skipped: obstacle };
            else {
                const baseline = diagnoseRun(runs[0]).ranks.find((r) => r.rank === 0)?.steps ?? 0;
                const { record: run, teardown } = await runOnce(ctx, lostNodeSpec(options, baseline));
                teardowns.push(teardown);
                lostNode = { run, analysis: analyseLostNode(run, baseline, sourceOf) };
            }
        }
    } finally {
        await Promise.all(teardowns);
        scratch.remove();
    }
    const all = findings({ plain: runs, lostNode, requireResume: options.requireResume, sourceOf });
    const exitCode = signal.aborted ? EXIT.sigint : passed(all) ? EXIT.ok : EXIT.runFailed;
    const command = `${options.module !== undefined ? `-m ${options.module}` : options.script} ${options.args.join(" ")}`.trim();
    const summary: CheckSummary = {
        command,
        codeDir: shownPath(options.codeDir),
        image: options.image,
        worldSizes: options.worldSizes,
        startedAt: new Date(started).toISOString(),
        seconds: (Date.now() - started) / 1000,
        findings: all,
        runs: "run" in lostNode ? [...runs, lostNode.run] : runs,
    };
    const timeline = "run" in lostNode ? timelineInput(lostNode.run, lostNode.analysis, `ddpsim check: ${command}, ${lostNode.run.label}`) : undefined;
    if (timeline === undefined) summary.noTimeline = "the lost-node run did not run, or no node was killed in it";
    await writeReports(docker, options, summary, exitCode, timeline);
    options.say(`reports in ${options.out}: report.md, junit.xml, check.json${summary.timeline !== undefined ? ", timeline.png" : ""}, logs/`);
    process.stdout.write(`${textSummary(summary)}\n`);
    return { exitCode, summary };
}
