/**
 * The benches' clusters through the real Pulumi engine: the same driver as `ddpsim run` (cli/stack/stackDriver.ts: the
 * Pulumi CLI on PATH, the program on disk through its language host), on this repository's project, with the bench's
 * own state in a temporary file backend (empty passphrase) so that its throw-away stacks never reach the user's backend.
 */
import Docker from "dockerode";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { StackDriver } from "../cli/stack/stackDriver";
import { LABELS } from "../components/plan/labels";
import { ClusterDriver, DriverUp } from "./benchRuns";

const REPO_ROOT = path.resolve(__dirname, "..");

export interface EngineDriver extends ClusterDriver {
    /** The open driver of a stack that is up (to time its parts). */
    driverOf(stack: string): StackDriver | undefined;
    /** Creates the stack (as a user has, before `pulumi up`) without bringing it up; resolves to the seconds it took. */
    open(stack: string, config: Record<string, unknown>): Promise<number>;
    /** Removes the temporary state backend. */
    close(): void;
}

/** Every Docker object labelled with the stack (project ddpsim): what a failed destroy may have left, and the volume. */
export async function purgeLabelled(docker: Docker, project: string, stack: string): Promise<void> {
    const filters = { label: [`${LABELS.project}=${project}`, `${LABELS.stack}=${stack}`] };
    const ignore = () => undefined;
    for (const c of await docker.listContainers({ all: true, filters })) await docker.getContainer(c.Id).remove({ force: true }).catch(ignore);
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove().catch(ignore);
    for (const v of (await docker.listVolumes({ filters })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(ignore);
}

export function engineDriver(options: { projectDir?: string; onOutput?: (text: string) => void } = {}): EngineDriver {
    const projectDir = options.projectDir ?? REPO_ROOT;
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-bench-state-"));
    const env = { PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "" };
    const drivers = new Map<string, StackDriver>();
    const docker = new Docker();

    const open = async (stack: string, config: Record<string, unknown>): Promise<number> => {
        const started = Date.now();
        const driver = await StackDriver.open({ projectDir, stack, config, env, onOutput: options.onOutput });
        drivers.set(stack, driver);
        await driver.ensureStack();
        return (Date.now() - started) / 1000;
    };

    return {
        driverOf: (stack) => drivers.get(stack),
        open,
        async up(stack, config, timeoutMs): Promise<DriverUp> {
            if (!drivers.has(stack)) await open(stack, config);
            const up = await drivers.get(stack)!.up(AbortSignal.timeout(timeoutMs));
            return { ok: up.ok, outputs: up.outputs, error: up.ok ? "" : up.error.join("\n") };
        },
        async remove(stack) {
            const driver = drivers.get(stack);
            drivers.delete(stack);
            if (driver !== undefined) await driver.destroy();
            await purgeLabelled(docker, "ddpsim", stack);
            if (driver !== undefined) {
                await driver.removeStack(true).catch(() => undefined);
                driver.dispose();
            }
        },
        close() {
            fs.rmSync(state, { recursive: true, force: true });
        },
    };
}
