/**
 * The Pulumi CLI as a child process: `pulumi <args>` in a project folder, its output collected (and passed on as it
 * comes), stopped with SIGINT on abort (Pulumi then cancels the operation cleanly; a second abort is SIGKILL).
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";

export const PULUMI_MISSING =
    "the Pulumi CLI (`pulumi`) is not on PATH: install it (https://www.pulumi.com/docs/install/), or in a checkout " +
    'of ddpsim build it with `export PATH="$(bash scripts/pulumi-toolchain.sh):$PATH"`';

/** The first `binary` in the folders of `envPath`, or undefined. */
export function findOnPath(binary: string, envPath: string | undefined = process.env.PATH): string | undefined {
    for (const dir of (envPath ?? "").split(path.delimiter)) {
        if (dir === "") continue;
        const candidate = path.join(dir, binary);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}

export interface PulumiRun {
    /** Exit code; null when the process was killed. */
    code: number | null;
    stdout: string;
    stderr: string;
    /** stdout and stderr interleaved as they came. */
    output: string;
    seconds: number;
}

export interface PulumiRunOptions {
    cwd: string;
    env: NodeJS.ProcessEnv;
    /** Receives the output as it comes (stdout and stderr). */
    onOutput?: (text: string) => void;
    signal?: AbortSignal;
    /** Killed after this long (SIGKILL). */
    timeoutMs?: number;
}

/** Runs `pulumi <args> --non-interactive`; resolves (never rejects) when it exits. */
export function runPulumi(args: string[], options: PulumiRunOptions): Promise<PulumiRun> {
    const started = Date.now();
    return new Promise((resolve) => {
        const child = spawn("pulumi", [...args, "--non-interactive"], { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        let output = "";
        const collect = (into: "stdout" | "stderr") => (data: Buffer) => {
            const text = data.toString();
            if (into === "stdout") stdout += text;
            else stderr += text;
            output += text;
            options.onOutput?.(text);
        };
        child.stdout.on("data", collect("stdout"));
        child.stderr.on("data", collect("stderr"));
        let interrupted = false;
        const onAbort = () => {
            child.kill(interrupted ? "SIGKILL" : "SIGINT");
            interrupted = true;
        };
        options.signal?.addEventListener("abort", onAbort);
        if (options.signal?.aborted) onAbort();
        const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
        const finish = (code: number | null, extra = "") => {
            if (timer !== undefined) clearTimeout(timer);
            options.signal?.removeEventListener("abort", onAbort);
            resolve({ code, stdout, stderr: stderr + extra, output: output + extra, seconds: (Date.now() - started) / 1000 });
        };
        child.on("error", (err) => finish(-1, err.message));
        child.on("close", (code) => finish(code));
    });
}
