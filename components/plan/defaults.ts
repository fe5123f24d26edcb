/**
 * Fixed paths inside every node container. The working directory and the checkpoint directory are the same
 * volume (shared by all nodes, kept on destroy); the code is read-only and on the module search path.
 */
export const CONTAINER_PATHS = {
    workspace: "/workspace",
    code: "/code",
    checkpoints: "/checkpoints",
    data: "/data",
    /** Where node agents leave verdicts for each other, inside the shared working directory. */
    control: "/workspace/.ddpsim",
} as const;

/** The network interface of a container on its (only) cluster network. */
export const CONTAINER_INTERFACE = "eth0";

export const LIMITS = {
    maxNodes: 256,
    maxGpusPerNode: 64,
    minShmSizeMb: 64,
} as const;
