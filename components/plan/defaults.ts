/** Defaults of DdpCluster's arguments; Pulumi.yaml's config schema repeats them (a test keeps the two equal). */
export const DEFAULTS = {
    nodes: 2,
    gpusPerNode: 0,
    gpuSharing: false,
    imageMode: "local",
    image: "ddpsim-cpu:latest",
    imageContext: "training",
    imageDockerfile: "Dockerfile",
    script: "train_ddp.py",
    retainCheckpoints: true,
    masterPort: 29500,
    maxRestarts: 3,
    restartRetries: 5,
    shmSizeMb: 2048,
    stopGraceSeconds: 60,
    interconnect: "ideal",
} as const;

/** Fixed paths inside every node container. */
export const CONTAINER_PATHS = {
    workspace: "/workspace",
    checkpoints: "/checkpoints",
    data: "/data",
} as const;

/** The network interface of a container on its (only) cluster network. */
export const CONTAINER_INTERFACE = "eth0";

export const LIMITS = {
    maxNodes: 256,
    maxGpusPerNode: 64,
    minShmSizeMb: 64,
} as const;
