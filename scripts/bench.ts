/**
 * npm run bench -- [--profile 100mbit,1gbe] [--bandwidth-mbit N] [--latency-ms N] [--jitter-ms N] [--loss-percent N]
 *                  [--sizes 1K,64K,1M,8M] [--iters 10] [--no-train] [--json FILE]
 *
 * For each interconnect profile, brings a 2-node CPU cluster up through the real Pulumi engine (the driver of
 * `ddpsim run`: the Pulumi CLI, its language host and the docker provider on PATH; its state in a temporary file backend),
 * runs train_ddp.py --bench and a short training run, and prints a Markdown table: configured link next to the
 * measured all-reduce bus bandwidth and small-message latency, and the training step time next to the `ideal`
 * profile's (always measured too). The overrides apply to every profile given. Needs Docker, the Pulumi CLI and
 * the docker provider (`PATH="$(bash scripts/pulumi-toolchain.sh):$PATH"` builds them here) and the CPU image
 * (built when missing).
 */
import * as fs from "fs";
import * as os from "os";
import { INTERCONNECT_PRESET_NAMES, LinkSpec } from "../components/plan";
import { findOnPath, PULUMI_MISSING } from "../cli/stack/stackDriver";
import { benchProfile, BENCH_ITERS, BENCH_SIZES, cpuImage, ProfileResult, resultTable } from "./benchCluster";
import { engineDriver } from "./engineDriver";

interface Options {
    profiles: string[];
    overrides: LinkSpec;
    sizes: string;
    iters: number;
    train: boolean;
    json?: string;
}

const USAGE =
    "usage: npm run bench -- [--profile ideal,100mbit,...] [--bandwidth-mbit N] [--latency-ms N] " +
    "[--jitter-ms N] [--loss-percent N] [--sizes 1K,64K,1M,8M] [--iters N] [--no-train] [--json FILE]";

function usage(message: string): never {
    console.error(`bench: ${message}`);
    console.error(USAGE);
    console.error(`profiles: ${INTERCONNECT_PRESET_NAMES.join(", ")}`);
    process.exit(2);
}

function help(): never {
    console.log(USAGE);
    console.log(`profiles: ${INTERCONNECT_PRESET_NAMES.join(", ")} (default 100mbit; ideal is always measured too, for the step time)`);
    console.log("Brings each cluster up through the Pulumi CLI on PATH (pulumi up of the program on disk), its state in a temporary file backend.");
    process.exit(0);
}

function parse(argv: string[]): Options {
    const options: Options = { profiles: ["100mbit"], overrides: {}, sizes: BENCH_SIZES, iters: BENCH_ITERS, train: true };
    const number = (flag: string, text: string | undefined): number => {
        const value = Number(text);
        if (text === undefined || !Number.isFinite(value) || value < 0) usage(`${flag} needs a number >= 0, got ${text}`);
        return value;
    };
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        const value = argv[i + 1];
        switch (flag) {
            case "--profile":
            case "--profiles":
                options.profiles = (value ?? "").split(",").filter((p) => p !== "");
                i++;
                break;
            case "--bandwidth-mbit":
                options.overrides.bandwidthMbit = number(flag, value);
                i++;
                break;
            case "--latency-ms":
                options.overrides.latencyMs = number(flag, value);
                i++;
                break;
            case "--jitter-ms":
                options.overrides.jitterMs = number(flag, value);
                i++;
                break;
            case "--loss-percent":
                options.overrides.lossPercent = number(flag, value);
                i++;
                break;
            case "--sizes":
                options.sizes = value ?? usage("--sizes needs a list");
                i++;
                break;
            case "--iters":
                options.iters = number(flag, value);
                i++;
                break;
            case "--no-train":
                options.train = false;
                break;
            case "--json":
                options.json = value ?? usage("--json needs a file");
                i++;
                break;
            case "--help":
            case "-h":
                help();
            default:
                usage(`unknown argument ${flag}`);
        }
    }
    const unknown = options.profiles.filter((p) => !(INTERCONNECT_PRESET_NAMES as string[]).includes(p));
    if (options.profiles.length === 0 || unknown.length > 0) usage(`unknown profile(s): ${unknown.join(", ")}`);
    return options;
}

async function main(): Promise<void> {
    const options = parse(process.argv.slice(2));
    if (findOnPath("pulumi") === undefined) throw new Error(PULUMI_MISSING);
    const image = await cpuImage();
    const driver = engineDriver();
    const cpus = os.cpus();
    console.error(`bench: image ${image}; host ${cpus.length} x ${cpus[0]?.model ?? "cpu"}, kernel ${os.release()}`);
    const results: ProfileResult[] = [];
    const measure = async (profile: string, overrides: LinkSpec) => {
        console.error(`bench: ${profile}${Object.keys(overrides).length > 0 ? ` + ${JSON.stringify(overrides)}` : ""} ...`);
        const started = Date.now();
        const result = await benchProfile(image, profile, overrides, {
            driver,
            sizes: options.sizes,
            iters: options.iters,
            train: options.train,
        });
        console.error(`bench: ${profile} done in ${((Date.now() - started) / 1000).toFixed(0)} s${result.failure ? `: ${result.failure}` : ""}`);
        results.push(result);
    };
    try {
        if (options.train && !(options.profiles.includes("ideal") && Object.keys(options.overrides).length === 0)) {
            await measure("ideal", {});
        }
        for (const profile of options.profiles) await measure(profile, options.overrides);
    } finally {
        driver.close();
    }
    console.log(resultTable(results));
    if (options.json !== undefined) fs.writeFileSync(options.json, JSON.stringify(results, null, 2) + "\n");
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(`bench: ${err instanceof Error ? err.stack : String(err)}`);
        process.exit(1);
    },
);
