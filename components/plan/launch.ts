import { launcherEntry } from "./checkLauncher";
import { CONTAINER_PATHS } from "./defaults";
import { rendezvousFlags } from "./rendezvous";
import { ClusterSpec, HealthcheckPlan } from "./types";

/** Where the script lives inside the node: relative paths are under the code folder. */
export function scriptPath(script: string): string {
    return script.startsWith("/") ? script : `${CONTAINER_PATHS.code}/${script}`;
}

/** The script's arguments: exactly what the user configured, plus the directories they asked to get as flags. */
export function scriptArguments(spec: ClusterSpec): string[] {
    const hasData = spec.datasetDir !== undefined || spec.datasetVolume !== undefined;
    return [
        ...spec.scriptArgs,
        ...(spec.checkpointDirArg !== undefined ? [spec.checkpointDirArg, CONTAINER_PATHS.checkpoints] : []),
        ...(spec.dataDirArg !== undefined && hasData ? [spec.dataDirArg, CONTAINER_PATHS.data] : []),
    ];
}

/**
 * The torchrun command of every node. The c10d rendezvous retries until the master's store answers, so no
 * node sleeps before it starts; `--max-restarts` lets torchrun restart the workers after a failure. With
 * `checkHooks` torchrun starts ddpsim check's launcher (a node file), which runs the script or module.
 */
export function torchrunCommand(spec: ClusterSpec, masterEndpoint: string, rendezvousId: string): string[] {
    const target: { module: string } | { path: string } = spec.module !== undefined ? { module: spec.module } : { path: scriptPath(spec.script) };
    let entry: string[];
    if (spec.checkHooks) entry = launcherEntry(target);
    else entry = "module" in target ? ["-m", target.module] : [target.path];
    const elastic = spec.minNodes < spec.nodes;
    const rendezvous = rendezvousFlags(spec.torchrunArgs, elastic);
    return [
        "torchrun",
        "--nnodes", elastic ? `${spec.minNodes}:${spec.nodes}` : String(spec.nodes),
        "--nproc-per-node", String(spec.procsPerNode),
        "--rdzv-backend", "c10d",
        "--rdzv-endpoint", masterEndpoint,
        "--rdzv-id", rendezvousId,
        "--max-restarts", String(spec.maxRestarts),
        ...rendezvous.flags,
        ...rendezvous.rest,
        ...entry,
        ...scriptArguments(spec),
    ];
}

/** Healthy once the master's rendezvous store accepts connections. */
export function masterHealthcheck(port: number): HealthcheckPlan {
    const probe = `import socket; socket.create_connection(("127.0.0.1", ${port}), timeout=2).close()`;
    return {
        tests: ["CMD", "python3", "-c", probe],
        interval: "2s",
        timeout: "3s",
        startPeriod: "2s",
        retries: 60,
    };
}
