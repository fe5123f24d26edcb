/**
 * `ddpsim run`, for CI: `pulumi up` of a stack through the Pulumi CLI (stackDriver.ts), wait for the run as
 * `wait` does, say how it ended (the verdict; each failed node's last lines), `pulumi destroy`, and exit with the
 * verdict. The checkpoint volume is kept unless `purge`: then it is removed after the destroy (with Docker, by the
 * cluster's labels), so no second `up` is needed to flip retainCheckpoints.
 *
 * Signals: the first SIGINT/SIGTERM stops the up or the wait and tears the cluster down (said on stderr); a second
 * one stops the teardown too. Either way the exit code is 130/143.
 */
import Docker from "dockerode";
import { defaultOwner } from "../../components/owner";
import { clusterFilters } from "../sources/docker/cluster";
import { connectDocker } from "../sources/docker/connect";
import { DockerSource } from "../sources/docker/source";
import { identityOfLabels, LABELS } from "../../components/plan/labels";
import { afterKubernetesDestroy } from "../sources/kubernetes/claims";
import { connectKubernetes, KubernetesApi } from "../sources/kubernetes/client";
import { KubernetesSource } from "../sources/kubernetes/source";
import { ClusterNode, ClusterIdentity, ClusterSource } from "../sources/source";
import { formatDuration } from "../durations";
import { CliError, EXIT } from "../errors";
import { useColour, verdictText } from "../format";
import { watchWithLiveLine } from "../watch/liveWatch";
import { DEFAULT_CLUSTER } from "../options";
import { report } from "../watch/report";
import { ClusterTracker } from "../watch/snapshot";
import { StackDriver } from "./stackDriver";

export interface RunStackOptions {
    projectDir: string;
    stack: string;
    /** `key=value` overrides for this run only (the value read as JSON when it parses, else as text). */
    config: Record<string, unknown>;
    purge: boolean;
    timeoutS?: number;
    stallAfterS: number;
    quiet: boolean;
}

/** `key=value` as a config override: the value as JSON when it is JSON (`3`, `true`, `["--steps","5"]`), else the text. */
export function parseConfigPair(text: string): [string, unknown] {
    const eq = text.indexOf("=");
    if (eq <= 0) throw new CliError(`--config takes key=value (ddpsim:nodes=3, scriptArgs='["--steps","5"]'), got ${JSON.stringify(text)}`);
    const key = text.slice(0, eq).trim();
    const raw = text.slice(eq + 1);
    if (!/^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?$/.test(key)) throw new CliError(`--config: ${JSON.stringify(key)} is not a config key`);
    try {
        return [key, JSON.parse(raw)];
    } catch {
        return [key, raw];
    }
}

/** SIGINT/SIGTERM while a run is going: the first stops the run (then the teardown runs), the second the teardown. */
class Interrupts {
    readonly run = new AbortController();
    readonly teardown = new AbortController();
    code: number | undefined;
    private readonly handlers: [NodeJS.Signals, () => void][] = [];

    constructor(private readonly say: (line: string) => void) {
        for (const [name, exit] of [["SIGINT", EXIT.sigint], ["SIGTERM", EXIT.sigterm]] as const) {
            const handler = () => {
                if (!this.run.signal.aborted) {
                    this.code = exit;
                    this.say(`${name}: stopping the run; the cluster will be torn down (${name === "SIGINT" ? "Ctrl-C" : name} again to skip the teardown)`);
                    this.run.abort();
                } else if (!this.teardown.signal.aborted) {
                    this.say(`${name} again: stopping the teardown`);
                    this.teardown.abort();
                }
            };
            process.on(name, handler);
            this.handlers.push([name, handler]);
        }
    }

    remove(): void {
        for (const [name, handler] of this.handlers) process.off(name, handler);
    }
}

/** The cluster `up` made: read from its first container's labels, else from the stack's config. */
async function clusterRef(docker: Docker, driver: StackDriver, outputs: Record<string, unknown>): Promise<ClusterIdentity> {
    const names = outputs.containerNames;
    if (Array.isArray(names) && typeof names[0] === "string") {
        const labels = (await docker.getContainer(names[0]).inspect()).Config.Labels ?? {};
        const identity = labels[LABELS.stack] !== undefined ? identityOfLabels(labels) : undefined;
        if (identity !== undefined) return identity;
    }
    return fallbackRef(driver);
}

function fallbackRef(driver: StackDriver): ClusterIdentity {
    const owner = driver.configValue("owner");
    return {
        owner: typeof owner === "string" && owner !== "" ? owner : defaultOwner(),
        project: driver.project,
        stack: driver.stackName.split("/").pop() ?? driver.stackName,
        cluster: DEFAULT_CLUSTER,
    };
}

/** Waits as `wait` does and says how the run ended; resolves to the exit code. */
async function waitForVerdict(
    source: ClusterSource,
    nodes: ClusterNode[],
    options: RunStackOptions,
    signal: AbortSignal,
    interrupts: Interrupts,
    say: (line: string) => void,
): Promise<number> {
    const tracker = new ClusterTracker(source, nodes, options.stallAfterS);
    const end = await watchWithLiveLine(tracker, options.timeoutS, signal);
    switch (end.end) {
        case "done":
            return report(source, end.snap);
        case "timeout":
            say(`timed out after ${formatDuration(options.timeoutS ?? 0)}; verdict now: ${verdictText(end.snap.verdict)}`);
            return EXIT.timeout;
        case "aborted":
            return interrupts.code ?? EXIT.sigint;
        default: {
            const never: never = end;
            throw new Error(`unknown end ${JSON.stringify(never)}`);
        }
    }
}

/** The claim of the run volume, kept (retainOnDelete) or removed with --purge. */
async function afterKubernetesRun(api: KubernetesApi, outputs: Record<string, unknown>, purge: boolean, say: (line: string) => void) {
    const claim = outputs.checkpointVolumeName;
    const namespace = outputs.kubernetesNamespace;
    if (typeof claim !== "string") return;
    await afterKubernetesDestroy(api, claim, typeof namespace === "string" ? namespace : "", purge, say);
}

/** Removes the cluster's volumes left after the destroy (purge), or says which one is kept. */
async function afterDestroy(docker: Docker, ref: ClusterIdentity, outputs: Record<string, unknown>, purge: boolean, say: (line: string) => void) {
    const byLabel = (await docker.listVolumes({ filters: clusterFilters(ref) })).Volumes ?? [];
    const names = new Set(byLabel.map((v) => v.Name));
    const named = outputs.checkpointVolumeName;
    if (typeof named === "string" && (await docker.getVolume(named).inspect().then(() => true, () => false))) names.add(named);
    for (const name of names) {
        if (purge) {
            await docker.getVolume(name).remove();
            say(`removed the checkpoint volume ${name} (--purge)`);
        } else {
            say(`kept the checkpoint volume ${name} (the next up resumes from it; --purge or \`docker volume rm ${name}\` removes it)`);
        }
    }
}

/** The whole run; resolves to the exit code. */
export async function runStack(options: RunStackOptions): Promise<number> {
    const say = (text: string) => process.stderr.write(`ddpsim: ${text}\n`);
    const echo = options.quiet ? undefined : (text: string) => process.stderr.write(text);
    const driver = await StackDriver.open({
        projectDir: options.projectDir,
        stack: options.stack,
        config: options.config,
        onOutput: echo,
        color: useColour(process.stderr),
    });
    // A kubernetes stack's run is read through the cluster's API (the kubeconfig's), a docker stack's through Docker.
    const onKubernetes = driver.configValue("target") === "kubernetes";
    const kubernetes = onKubernetes ? await connectKubernetes() : undefined;
    const docker = onKubernetes ? undefined : await connectDocker();
    const interrupts = new Interrupts(say);
    const backend = process.env.PULUMI_BACKEND_URL ?? "the project's backend (Pulumi.yaml backend.url, else the one you are logged in to)";
    try {
        say(
            `pulumi up of stack ${driver.stackName} (project ${driver.project} in ${driver.projectDir}; ` +
                `state in ${backend})${Object.keys(options.config).length > 0 ? `, config for this run: ${JSON.stringify(options.config)}` : ""}`,
        );
        const up = await driver.up(interrupts.run.signal);
        let code: number;
        let outputs = up.outputs;
        let ref: ClusterIdentity | undefined;
        if (interrupts.code !== undefined) {
            code = interrupts.code;
        } else if (!up.ok) {
            say(`pulumi up failed after ${up.seconds.toFixed(1)} s:\n${up.error.map((l) => `  ${l}`).join("\n")}`);
            code = EXIT.error;
        } else {
            say(`pulumi up returned after ${up.seconds.toFixed(1)} s; waiting for the run`);
            try {
                ref = docker !== undefined ? await clusterRef(docker, driver, up.outputs) : fallbackRef(driver);
                const source = docker !== undefined ? new DockerSource(docker, ref) : new KubernetesSource(kubernetes!, ref);
                const nodes = await source.nodes();
                if (nodes.length === 0) {
                    say(`pulumi up created no node ${docker !== undefined ? "container" : "Job"} of cluster ${ref.cluster} (owner ${ref.owner}, stack ${ref.stack})`);
                    code = EXIT.error;
                } else {
                    code = await waitForVerdict(source, nodes, options, interrupts.run.signal, interrupts, say);
                }
            } catch (err) {
                // Whatever went wrong while waiting, the cluster still comes down.
                say(`${err instanceof Error ? err.message : String(err)}`);
                code = EXIT.error;
            }
        }
        if (!up.ok) outputs = await driver.outputs();
        ref ??= fallbackRef(driver);

        say(`tearing the cluster down (pulumi destroy of stack ${driver.stackName})${interrupts.code !== undefined ? " after the interrupt" : ""}`);
        const destroyed = await driver.destroy(interrupts.teardown.signal);
        if (!destroyed.ok) {
            const how = `\`pulumi destroy --stack ${driver.stackName}\` in ${driver.projectDir} removes what is left`;
            say(
                interrupts.teardown.signal.aborted
                    ? `teardown stopped: the cluster may be partly up; ${how}`
                    : `pulumi destroy failed:\n${destroyed.error.map((l) => `  ${l}`).join("\n")}\nddpsim: ${how}`,
            );
            return interrupts.code ?? (code === EXIT.ok ? EXIT.error : code);
        }
        say(`pulumi destroy took ${destroyed.seconds.toFixed(1)} s`);
        if (docker !== undefined) await afterDestroy(docker, ref, outputs, options.purge, say);
        else await afterKubernetesRun(kubernetes!, outputs, options.purge, say);
        return interrupts.code ?? code;
    } finally {
        interrupts.remove();
        driver.dispose();
    }
}
