/**
 * npm run bench:startup -- [--rounds 3] [--json FILE]
 *
 * Start-up cost of a cluster: in one run, alternating (round 1: ddpsim first, round 2: docker first, ...),
 *  (a) ddpsim: `pulumi up` of a 2-node CPU stack through the driver of `ddpsim run` (the Pulumi CLI, its Node.js
 *      language host running the program on disk, the docker provider; state in a temporary file backend), until its
 *      first training step, timed from the start of `pulumi up` on a stack that exists (created before the clock
 *      starts, as a user's stack is before `pulumi up`);
 *  (b) plain docker: the same two containers (built from the same plan, components/plan: image, command,
 *      environment, mounts, ...; scripts/plainDocker.ts) started with `docker network create`, `docker volume
 *      create` and `docker run`, no sleep, until their first training step.
 * The first step is the `time` of the first line of metrics.jsonl in the run volume (rank 0 writes it after its
 * first optimizer step). Prints each round, both medians, their ratio and difference, and where the time goes
 * (from Docker's own timestamps of the network, the containers' creation and start). A script that prints figures,
 * not a test: nothing is asserted.
 */
import { execFile } from "child_process";
import * as crypto from "crypto";
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { configFileText, findOnPath, PULUMI_MISSING } from "../cli/stack/stackDriver";
import { ClusterPlan } from "../components/plan";
import { benchStack, cpuImage, cpuStackConfig, median, metricsOf } from "./benchRuns";
import { planStack } from "./compose";
import { readStackFiles } from "./stackFiles";
import { engineDriver, EngineDriver, purgeLabelled } from "./engineDriver";
import { dockerRunArgs, networkCreateArgs, volumeCreateArgs } from "./plainDocker";

const run = promisify(execFile);
const docker = new Docker();
const REPO_ROOT = path.resolve(__dirname, "..");
/** Long enough that no node finishes while we look; the first step is all that is measured. */
const SCRIPT_ARGS = ["--steps", "200", "--log-every", "1"];
const FIRST_STEP_TIMEOUT_MS = 300_000;

const USAGE = "usage: npm run bench:startup -- [--rounds N (default 3)] [--json FILE]";

interface Options {
    rounds: number;
    json?: string;
}

function parse(argv: string[]): Options {
    const options: Options = { rounds: 3 };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if (flag === "--help" || flag === "-h") {
            console.log(USAGE);
            console.log("Times a 2-node CPU stack through ddpsim's driver (Pulumi CLI on PATH) and the same containers with plain docker run.");
            process.exit(0);
        } else if (flag === "--rounds" && /^[1-9]\d*$/.test(argv[i + 1] ?? "")) {
            options.rounds = Number(argv[++i]);
        } else if (flag === "--json" && argv[i + 1] !== undefined) {
            options.json = argv[++i];
        } else {
            console.error(`bench:startup: bad argument ${flag}\n${USAGE}`);
            process.exit(2);
        }
    }
    return options;
}

/** Seconds from `t0` (ms) of each moment of one start-up; undefined where not seen. */
interface Timeline {
    way: "ddpsim" | "docker";
    round: number;
    /** ddpsim: seconds `pulumi stack init` took before the clock started (not part of the start-up). */
    openS?: number;
    networkCreatedS?: number;
    masterCreatedS?: number;
    masterStartedS?: number;
    workerCreatedS?: number;
    workerStartedS?: number;
    /** `pulumi up` returned / the last `docker run` returned. */
    returnedS: number;
    firstStepS: number;
    restarts: number;
}

const secondsAfter = (t0: number, iso: string | undefined) => (iso === undefined ? undefined : (Date.parse(iso) - t0) / 1000);

/** When rank 0 logged its first step (ms since the epoch), polling the run volume's metrics.jsonl. */
async function firstStep(volume: string, deadline: number): Promise<number> {
    for (;;) {
        const lines = await metricsOf(volume).catch(() => []);
        if (lines.length > 0) return Number(lines[0].time) * 1000;
        if (Date.now() > deadline) throw new Error(`no training step in ${volume} within ${FIRST_STEP_TIMEOUT_MS / 1000} s`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

/** Docker's own times of the network and both containers, relative to t0. */
async function dockerTimes(t0: number, network: string, containers: string[]) {
    const [net, master, worker] = await Promise.all([
        docker.getNetwork(network).inspect() as Promise<{ Created: string }>,
        ...containers.map((c) => docker.getContainer(c).inspect()),
    ]);
    const m = master as Docker.ContainerInspectInfo;
    const w = worker as Docker.ContainerInspectInfo;
    return {
        networkCreatedS: secondsAfter(t0, net.Created),
        masterCreatedS: secondsAfter(t0, m.Created),
        masterStartedS: secondsAfter(t0, m.State.StartedAt),
        workerCreatedS: secondsAfter(t0, w.Created),
        workerStartedS: secondsAfter(t0, w.State.StartedAt),
        restarts: m.RestartCount + w.RestartCount,
    };
}

async function throughDdpsim(driver: EngineDriver, image: string, round: number): Promise<Timeline> {
    const stack = benchStack("startup");
    const openS = await driver.open(stack, cpuStackConfig(image, SCRIPT_ARGS));
    try {
        const t0 = Date.now();
        const up = await driver.up(stack, {}, FIRST_STEP_TIMEOUT_MS);
        const returned = Date.now();
        if (!up.ok) throw new Error(`pulumi up failed: ${up.error}`);
        const step = await firstStep(up.outputs.checkpointVolumeName, t0 + FIRST_STEP_TIMEOUT_MS);
        return {
            way: "ddpsim",
            round,
            openS,
            ...(await dockerTimes(t0, up.outputs.networkName, up.outputs.containerNames)),
            returnedS: (returned - t0) / 1000,
            firstStepS: (step - t0) / 1000,
        };
    } finally {
        await driver.remove(stack);
    }
}

/** The plan of the same stack config, as the stack program makes it (scripts/compose.ts reads and checks it). */
function planOf(stack: string, config: Record<string, unknown>): ClusterPlan {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-startup-"));
    try {
        const file = path.join(dir, `Pulumi.${stack}.yaml`);
        fs.writeFileSync(file, configFileText(undefined, "ddpsim", config));
        const planned = planStack(readStackFiles(REPO_ROOT, stack, file), REPO_ROOT);
        if (!planned.ok) throw new Error(planned.message);
        return planned.plan;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

async function throughDocker(image: string, round: number): Promise<Timeline> {
    const stack = benchStack("plain");
    const plan = planOf(stack, cpuStackConfig(image, SCRIPT_ARGS));
    const suffix = crypto.randomBytes(3).toString("hex");
    const network = `${plan.networkNameBase}-${suffix}`;
    const containers = plan.nodes.map((n) => `${n.containerNameBase}-${suffix}`);
    const runId = crypto.randomBytes(6).toString("hex");
    try {
        const t0 = Date.now();
        await run("docker", networkCreateArgs(plan, network));
        await run("docker", volumeCreateArgs(plan));
        for (const [i, node] of plan.nodes.entries()) {
            await run("docker", dockerRunArgs(plan, node, { container: containers[i], network, runId, image: plan.spec.imageId ?? plan.spec.image }));
        }
        const returned = Date.now();
        const step = await firstStep(plan.checkpointVolumeName, t0 + FIRST_STEP_TIMEOUT_MS);
        return {
            way: "docker",
            round,
            ...(await dockerTimes(t0, network, containers)),
            returnedS: (returned - t0) / 1000,
            firstStepS: (step - t0) / 1000,
        };
    } finally {
        await purgeLabelled(docker, "ddpsim", stack);
    }
}

const s = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(2)} s`);

/** The moments of a start-up, as table columns. */
const COLUMNS: [string, (t: Timeline) => number | undefined][] = [
    ["network created", (t) => t.networkCreatedS],
    ["master created", (t) => t.masterCreatedS],
    ["master started", (t) => t.masterStartedS],
    ["worker created", (t) => t.workerCreatedS],
    ["worker started", (t) => t.workerStartedS],
    ["up / docker run returned", (t) => t.returnedS],
    ["first step", (t) => t.firstStepS],
];

function report(timelines: Timeline[], image: string): string {
    const lines: string[] = [];
    const cpus = os.cpus();
    lines.push(`start-up to the first training step: 2-node CPU stack (${image}), ${Math.max(...timelines.map((t) => t.round))} rounds, alternating`);
    lines.push(`host: ${cpus.length} x ${cpus[0]?.model ?? "cpu"}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    lines.push("");
    const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
    const header = ["way", "round", ...COLUMNS.map(([name]) => name), "restarts"];
    lines.push(row(header), row(header.map(() => "---")));
    for (const t of timelines) {
        lines.push(row([t.way, String(t.round), ...COLUMNS.map(([, f]) => s(f(t))), String(t.restarts)]));
    }
    for (const way of ["ddpsim", "docker"] as const) {
        const of = timelines.filter((t) => t.way === way);
        const med = (f: (t: Timeline) => number | undefined) => {
            const values = of.map(f).filter((v): v is number => v !== undefined);
            return values.length === 0 ? undefined : median(values);
        };
        lines.push(row([`**${way} median**`, "", ...COLUMNS.map(([, f]) => s(med(f))), ""]));
    }
    const a = median(timelines.filter((t) => t.way === "ddpsim").map((t) => t.firstStepS));
    const b = median(timelines.filter((t) => t.way === "docker").map((t) => t.firstStepS));
    lines.push("");
    lines.push(`median to the first step: ddpsim ${a.toFixed(2)} s, plain docker run ${b.toFixed(2)} s; ratio ${(a / b).toFixed(2)}, difference ${(a - b).toFixed(2)} s`);
    // Each round's two runs are back to back: their difference is the least disturbed by the host's changing load.
    const paired = (f: (t: Timeline) => number | undefined) => {
        const rounds = [...new Set(timelines.map((t) => t.round))];
        const diffs = rounds.flatMap((r) => {
            const x = timelines.find((t) => t.round === r && t.way === "ddpsim");
            const y = timelines.find((t) => t.round === r && t.way === "docker");
            const [fx, fy] = [x && f(x), y && f(y)];
            return fx === undefined || fy === undefined ? [] : [fx - fy];
        });
        return diffs.length === 0 ? "-" : `${median(diffs).toFixed(2)} s (rounds: ${diffs.map((d) => d.toFixed(1)).join(", ")})`;
    };
    lines.push(`ddpsim minus docker, median of the rounds: to the first step ${paired((t) => t.firstStepS)}; to the worker's start ${paired((t) => t.workerStartedS)}`);
    const gap = (f: (t: Timeline) => number | undefined, g: (t: Timeline) => number | undefined, way: string) => {
        const values = timelines.filter((t) => t.way === way).map((t) => (f(t) ?? NaN) - (g(t) ?? NaN)).filter((v) => !Number.isNaN(v));
        return values.length === 0 ? "-" : `${median(values).toFixed(2)} s`;
    };
    for (const way of ["ddpsim", "docker"]) {
        lines.push(
            `${way}: t0 -> master started ${gap((t) => t.masterStartedS, () => 0, way)}; master started -> worker started ` +
                `${gap((t) => t.workerStartedS, (t) => t.masterStartedS, way)}; worker started -> first step ` +
                `${gap((t) => t.firstStepS, (t) => t.workerStartedS, way)} (medians)`,
        );
    }
    return lines.join("\n");
}

async function main(): Promise<void> {
    const options = parse(process.argv.slice(2));
    if (findOnPath("pulumi") === undefined) throw new Error(PULUMI_MISSING);
    const image = await cpuImage();
    const driver = engineDriver();
    const timelines: Timeline[] = [];
    try {
        for (let round = 1; round <= options.rounds; round++) {
            const order = round % 2 === 1 ? (["ddpsim", "docker"] as const) : (["docker", "ddpsim"] as const);
            for (const way of order) {
                const t = way === "ddpsim" ? await throughDdpsim(driver, image, round) : await throughDocker(image, round);
                console.error(`bench:startup: round ${round} ${way}: first step after ${t.firstStepS.toFixed(2)} s (returned after ${t.returnedS.toFixed(2)} s)`);
                timelines.push(t);
            }
        }
    } finally {
        driver.close();
    }
    console.log(report(timelines, image));
    if (options.json !== undefined) fs.writeFileSync(options.json, JSON.stringify(timelines, null, 2) + "\n");
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(`bench:startup: ${err instanceof Error ? err.stack : String(err)}`);
        process.exit(1);
    },
);
