import { CONTAINER_PATHS } from "./defaults";
import { ClusterSpec, HealthcheckPlan } from "./types";

/**
 * The torchrun command of every node. The c10d rendezvous retries until the master's store answers, so no
 * node sleeps before it starts; `--max-restarts` lets torchrun restart the workers after a failure.
 */
export function torchrunCommand(spec: ClusterSpec, masterEndpoint: string, rendezvousId: string): string[] {
    const dataArgs = spec.datasetDir === undefined && spec.datasetVolume === undefined ? [] : ["--data-dir", CONTAINER_PATHS.data];
    return [
        "torchrun",
        "--nnodes", String(spec.nodes),
        "--nproc-per-node", String(spec.procsPerNode),
        "--rdzv-backend", "c10d",
        "--rdzv-endpoint", masterEndpoint,
        "--rdzv-id", rendezvousId,
        "--max-restarts", String(spec.maxRestarts),
        spec.script,
        "--checkpoint-dir", CONTAINER_PATHS.checkpoints,
        ...dataArgs,
        ...spec.scriptArgs,
    ];
}

/** Healthy once the master's rendezvous store accepts connections; workers are created only then. */
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
