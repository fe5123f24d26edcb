import { execFile } from "child_process";
import * as path from "path";
import { promisify } from "util";

const run = promisify(execFile);
const BUILD_SCRIPT = path.resolve(__dirname, "..", "..", "training", "cpu-image", "build.sh");

/** Builds the CPU training image if its recipe changed (reuses it otherwise) and returns its tag. */
export async function ensureCpuImage(): Promise<string> {
    const { stdout } = await run("bash", [BUILD_SCRIPT], { timeout: 900_000, maxBuffer: 64 * 1024 * 1024 });
    const lines = stdout.trim().split("\n");
    return lines[lines.length - 1];
}
