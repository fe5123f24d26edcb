/**
 * What the fault tests share: stacks brought up under the harness, the `ddpsim` command with a private fault-record
 * folder, the undisturbed reference run (one container, the same world size: bit for bit what an undisturbed cluster
 * ends with), and the timings a fault's run shows (through the CLI's own analysis).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import Docker from "dockerode";
import { analyseFault, demuxAll, FaultEvent, FaultOutcome, LogLine, mergeByTime, parseResult, readLogs } from "../../../cli";
import { docker } from "../../support/dockerObjects";
import { logsOf, metricsOf, resultOf, stackConfig, TrainingResult, uniqueStack, upStack, waitForExit } from "../../support/clusterRuns";
import { REPO_ROOT } from "../../support/stackFiles";
import { waitFor } from "../../support/wait";
import { CliResult, ddpsim } from "../cli/cliProcess";

/** Every fault run trains this, slowed down so that a fault lands mid-run; sleeping changes no arithmetic. */
export const STEPS = 40;
export const TRAIN = ["--steps", String(STEPS), "--checkpoint-every", "5", "--log-every", "5"];
export const SLOW = [...TRAIN, "--step-sleep", "0.3"];
/** Short enough that a hung or cut-off peer is noticed quickly, long enough for a loaded 2-core machine. */
export const COLLECTIVE_TIMEOUT = 20;

export interface LabStack {
    stack: string;
    names: string[];
    volume: string;
    outputs: Record<string, any>;
}

export class FaultLab {
    readonly stacks: string[] = [];
    readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-fault-records-"));

    constructor(readonly image: string) {}

    async up(label: string, settings: Record<string, unknown> = {}): Promise<LabStack> {
        const stack = uniqueStack(label);
        this.stacks.push(stack);
        const config = stackConfig("cpu", {
            "ddpsim:image": this.image,
            "ddpsim:collectiveTimeoutSeconds": COLLECTIVE_TIMEOUT,
            "ddpsim:scriptArgs": SLOW,
            ...settings,
        });
        const up = await upStack(stack, config);
        assert.ok(up.ok, `up failed: ${up.stderr}`);
        return { stack, names: up.outputs.containerNames, volume: up.outputs.checkpointVolumeName, outputs: up.outputs };
    }

    /** `ddpsim <args> --stack <stack>`, the fault records in this lab's folder. */
    cli(stack: string, args: string[], timeoutMs = 300_000): Promise<CliResult> {
        return ddpsim([...args, "--stack", stack], { env: { ...process.env, DDPSIM_STATE_DIR: this.stateDir, NO_COLOR: "1" }, timeoutMs });
    }

    async cliOk(stack: string, args: string[]): Promise<CliResult> {
        const r = await this.cli(stack, args);
        assert.strictEqual(r.code, 0, `ddpsim ${args.join(" ")}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
        return r;
    }

    /** Waits for every node to exit; all 0, ranks agree, one world of `nodes`. */
    async finish(s: LabStack, nodes = 2, timeoutMs = 420_000): Promise<TrainingResult & Record<string, any>> {
        const codes = await waitForExit(s.names, timeoutMs);
        if (codes.some((c) => c !== 0)) {
            const logs = await Promise.all(s.names.map(logsOf));
            assert.fail(`exit codes ${codes}:\n${logs.join("\n-----\n").slice(-6000)}`);
        }
        const result = await resultOf(s.volume);
        assert.strictEqual(result.agree, true, "every rank ends with the same parameters");
        assert.strictEqual(result.world_size, nodes);
        return result as TrainingResult & Record<string, any>;
    }

    /** The CLI's analysis of one fault on this stack's run: time to detect and recover, steps redone. */
    async measure(s: LabStack, event: Omit<FaultEvent, "index" | "trigger">): Promise<FaultOutcome> {
        const perNode: LogLine[][] = await Promise.all(
            s.names.map(async (name, rank) => {
                const info = await docker.getContainer(name).inspect();
                return readLogs(docker, { id: info.Id, node: info.Config.Hostname, rank, tty: false });
            }),
        );
        const metrics = await metricsOf(s.volume);
        const input = { startMs: event.startMs ?? 0, endMs: Date.now(), faults: [], metrics, logs: mergeByTime(perNode), restarts: [], verdict: { status: "", text: "" } };
        return analyseFault({ index: 1, trigger: "", ...event }, input, Infinity);
    }

    async inspect(name: string): Promise<Docker.ContainerInspectInfo> {
        return docker.getContainer(name).inspect();
    }

    async statusJson(stack: string): Promise<any> {
        return JSON.parse((await this.cliOk(stack, ["status", "-o", "json"])).stdout);
    }
}

/** Waits for a log line of `name` matching `pattern`; returns it. */
export async function waitForLine(name: string, pattern: RegExp, timeoutMs: number): Promise<string> {
    return waitFor(`${pattern} in ${name}'s log`, timeoutMs, async () => (await logsOf(name)).split("\n").find((l) => pattern.test(l)), 1000);
}

/** `docker exec -u 0 <name> <cmd>`'s stdout. */
export async function execOut(name: string, cmd: string[]): Promise<string> {
    const exec = await docker.getContainer(name).exec({ Cmd: cmd, User: "0", AttachStdout: true, AttachStderr: true });
    const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", resolve);
        stream.on("error", reject);
    });
    return demuxAll(Buffer.concat(chunks), true).map((l) => l.line).join("\n");
}

/**
 * The undisturbed reference: our trainer with TRAIN in one container with `world` processes (torchrun --standalone),
 * which ends bit for bit where an undisturbed cluster of that world size ends.
 */
export async function referenceRun(image: string, world = 2): Promise<{ checksum: string; seconds: number }> {
    const started = Date.now();
    const container = await docker.createContainer({
        Image: image,
        Cmd: ["torchrun", "--standalone", "--nproc-per-node", String(world), "/code/train_ddp.py", ...TRAIN],
        Env: ["DDPSIM_CHECKPOINT_DIR=/tmp/reference", "GLOO_SOCKET_IFNAME=lo", "PYTHONPATH=/code", "TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1"],
        WorkingDir: "/tmp",
        Hostname: "localhost",
        Labels: { "ddpsim.helper": "e2e-reference" },
        HostConfig: {
            NetworkMode: "none",
            ShmSize: 512 * 1024 * 1024,
            Mounts: [{ Type: "bind", Source: path.join(REPO_ROOT, "training"), Target: "/code", ReadOnly: true }],
        },
    });
    try {
        await container.start();
        const done = (await container.wait()) as { StatusCode: number };
        const lines = demuxAll((await container.logs({ stdout: true, stderr: true })) as unknown as Buffer, true).map((l) => l.line);
        const result = lines.map(parseResult).find((r) => r !== undefined);
        assert.ok(done.StatusCode === 0 && result !== undefined, `reference run failed (${done.StatusCode}):\n${lines.slice(-20).join("\n")}`);
        return { checksum: result.checksum as string, seconds: (Date.now() - started) / 1000 };
    } finally {
        await container.remove({ force: true }).catch(() => undefined);
    }
}

/** `+12.3 s` or `-`. */
export const secs = (s: number | undefined) => (s === undefined ? "-" : `${s.toFixed(1)} s`);

let reference: Promise<{ checksum: string; seconds: number }> | undefined;

/** One reference run per test process, shared by every fault test. */
export function sharedReference(image: string): Promise<{ checksum: string; seconds: number }> {
    reference ??= referenceRun(image).then((r) => {
        console.log(`      figure: undisturbed reference run (2 processes, one container): ${r.seconds.toFixed(0)} s, checksum ${r.checksum}`);
        return r;
    });
    return reference;
}
