/**
 * Runs the stack under an interconnect profile and reads what the training program measured: `--bench` all-reduce
 * bandwidth and latency, and the step time of a short training run. Used by scripts/bench.ts, which brings each
 * cluster up through the real Pulumi engine (scripts/engineDriver.ts, the path of `ddpsim run`), and by
 * tests/e2e/interconnect.test.ts, which passes the tests' `pulumi up` driver (benchRuns.ts runs one cluster).
 */
import { describeLink, INTERCONNECT_PRESETS, InterconnectPreset, LinkSpec, resolveInterconnect } from "../components/plan";
import { ClusterDriver, ClusterRun, median, runCluster } from "./benchRuns";

export { cpuImage, runCluster } from "./benchRuns";
export type { ClusterDriver, ClusterRun, DriverUp, RunOptions } from "./benchRuns";

/** One `DDPSIM_BENCH` line of train_ddp.py --bench. */
export interface BenchRow {
    bytes: number;
    latency_us: number;
    algbw_gbps: number;
    busbw_gbps: number;
    world_size: number;
    backend: string;
}

export function benchRows(log: string): BenchRow[] {
    return log
        .split("\n")
        .filter((l) => l.startsWith("DDPSIM_BENCH "))
        .map((l) => JSON.parse(l.slice("DDPSIM_BENCH ".length)) as BenchRow);
}

export function trainingResult(log: string): Record<string, any> | undefined {
    const line = log.split("\n").find((l) => l.startsWith("DDPSIM_RESULT "));
    return line === undefined ? undefined : JSON.parse(line.slice("DDPSIM_RESULT ".length));
}

/** The lines the shaping script printed (`ddpsim: interconnect ...`). */
export function interconnectLines(log: string): string[] {
    return log.split("\n").filter((l) => l.startsWith("ddpsim: interconnect"));
}

/** Sizes measured: small for latency, large (8 MiB) for bandwidth, where tbf's burst no longer shows. */
export const BENCH_SIZES = "1K,64K,1M,8M";
export const BENCH_ITERS = 20;
/** The training run whose step time is compared: an MLP with ~0.55M parameters (2.2 MB of gradients per step). */
export const TRAIN_ARGS = ["--steps", "50", "--hidden", "512", "--log-every", "10", "--checkpoint-every", "1000"];

/** What one profile measured. */
export interface ProfileResult {
    profile: string;
    overrides: LinkSpec;
    configured: LinkSpec;
    description: string;
    /** The all-reduce at the largest size: bus bandwidth in Mbit/s. */
    busbwMbit?: number;
    /** The all-reduce at the smallest size: microseconds. */
    smallLatencyUs?: number;
    smallBytes?: number;
    largeBytes?: number;
    stepTimeMs?: number;
    /** Why the profile could not run (the node's one line), if it could not. */
    failure?: string;
    rows: BenchRow[];
}

/** Stack config keys for a profile and explicit overrides. */
export function profileConfig(profile: string, overrides: LinkSpec): Record<string, unknown> {
    const config: Record<string, unknown> = { interconnect: profile };
    if (overrides.bandwidthMbit !== undefined) config.linkBandwidthMbit = overrides.bandwidthMbit;
    if (overrides.latencyMs !== undefined) config.linkLatencyMs = overrides.latencyMs;
    if (overrides.jitterMs !== undefined) config.linkJitterMs = overrides.jitterMs;
    if (overrides.lossPercent !== undefined) config.linkLossPercent = overrides.lossPercent;
    return config;
}

function failureOf(run: ClusterRun): string {
    const line = run.logs.flatMap(interconnectLines).find((l) => !/ on eth\d+: /.test(l));
    if (line !== undefined) return line;
    const tail = (run.logs[0] ?? "").trim().split("\n").slice(-3).join(" | ");
    const error = run.upError === "" ? "" : `; ${run.upOk ? "" : "up failed: "}${run.upError.split("\n")[0]}`;
    return `exit codes ${run.exitCodes.join(",") || "none"}${error}: ${tail} (logs: ${run.logDir})`;
}

/** `--bench` under a profile: bandwidth at the largest size, latency at the smallest. */
export async function benchProfile(
    image: string,
    profile: string,
    overrides: LinkSpec,
    options: { driver: ClusterDriver; sizes?: string; iters?: number; timeoutMs?: number; train?: boolean },
): Promise<ProfileResult> {
    const plan = resolveInterconnect(profile as InterconnectPreset, overrides);
    const result: ProfileResult = {
        profile,
        overrides,
        configured: plan.link,
        description: describeLink(plan.link),
        rows: [],
    };
    const bench = await runCluster({
        image,
        driver: options.driver,
        label: profile,
        config: profileConfig(profile, overrides),
        scriptArgs: [
            "--bench",
            "--bench-sizes", options.sizes ?? BENCH_SIZES,
            "--bench-iters", String(options.iters ?? BENCH_ITERS),
            "--bench-warmup", "2",
        ],
        timeoutMs: options.timeoutMs ?? 300_000,
    });
    if (!bench.upOk || bench.upError !== "" || bench.exitCodes.some((c) => c !== 0)) {
        result.failure = failureOf(bench);
        return result;
    }
    result.rows = benchRows(bench.logs[0]);
    const small = result.rows[0];
    const large = result.rows[result.rows.length - 1];
    if (small === undefined || large === undefined) {
        result.failure = "no DDPSIM_BENCH line in the master's log";
        return result;
    }
    result.busbwMbit = large.busbw_gbps * 1000;
    result.largeBytes = large.bytes;
    result.smallLatencyUs = small.latency_us;
    result.smallBytes = small.bytes;
    if (options.train !== false) {
        const training = await runCluster({
            image,
            driver: options.driver,
            label: `train-${profile}`,
            config: profileConfig(profile, overrides),
            scriptArgs: TRAIN_ARGS,
            timeoutMs: options.timeoutMs ?? 300_000,
        });
        const outcome = trainingResult(training.logs[0] ?? "");
        // The median over the steps after the first (which sets DDP's buckets up): robust to a busy host's hiccups.
        const steps = training.metrics.filter((m) => m.step > 1).map((m) => Number(m.step_time_s));
        if (outcome !== undefined && steps.length > 0) result.stepTimeMs = median(steps) * 1000;
        else result.failure = `training: ${failureOf(training)}`;
    }
    return result;
}

function bytesText(bytes: number | undefined): string {
    if (bytes === undefined) return "";
    return bytes >= 1 << 20 ? `${bytes / (1 << 20)} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function rateText(mbit: number | undefined): string {
    if (mbit === undefined) return "-";
    return mbit >= 1000 ? `${(mbit / 1000).toFixed(2)} Gbit/s` : `${mbit.toFixed(1)} Mbit/s`;
}

/** A Markdown table: configured next to measured, and the step time next to `ideal`'s. */
export function resultTable(results: ProfileResult[]): string {
    const ideal = results.find((r) => r.profile === "ideal" && Object.keys(r.overrides).length === 0);
    const large = bytesText(results.find((r) => r.largeBytes !== undefined)?.largeBytes);
    const small = bytesText(results.find((r) => r.smallBytes !== undefined)?.smallBytes);
    const header = [
        "profile",
        "configured",
        `all-reduce bus bandwidth (${large || "largest"})`,
        "measured / configured",
        `${small || "smallest"} all-reduce time`,
        "training step, median (MLP, 2.2 MB gradients)",
        "step vs ideal",
    ];
    const rows = results.map((r) => {
        const name = Object.keys(r.overrides).length === 0 ? r.profile : `${r.profile} + overrides`;
        if (r.failure !== undefined && r.busbwMbit === undefined) {
            const missing = /needs the (\w+) qdisc .*\(module (\S+), (\S+)\)/.exec(r.failure);
            const why = missing
                ? `not run: the kernel lacks ${missing[1]} (${missing[2]}, ${missing[3]}); nodes exited 78 before training`
                : `failed: ${r.failure}`;
            return [name, r.description, why, "-", "-", "-", "-"];
        }
        const bw = r.configured.bandwidthMbit;
        const ratio = bw !== undefined && r.busbwMbit !== undefined ? `${((100 * r.busbwMbit) / bw).toFixed(0)}%` : "-";
        const latency = r.smallLatencyUs === undefined ? "-" : `${(r.smallLatencyUs / 1000).toFixed(2)} ms`;
        const step = r.stepTimeMs === undefined ? "-" : `${r.stepTimeMs.toFixed(1)} ms`;
        const versus =
            r.stepTimeMs !== undefined && ideal?.stepTimeMs !== undefined ? `${(r.stepTimeMs / ideal.stepTimeMs).toFixed(2)}x` : "-";
        return [name, r.description, rateText(r.busbwMbit), ratio, latency, step, versus];
    });
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export const PROFILE_NAMES = Object.keys(INTERCONNECT_PRESETS);
