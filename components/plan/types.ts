import { InterconnectPlan } from "./interconnect";
import type { NodeFile } from "./nodeAgent";

/** How the training image is obtained. */
export type ImageMode = "registry" | "build" | "local";
export const IMAGE_MODES: readonly ImageMode[] = ["registry", "build", "local"];

/** How the code reaches the nodes: bind-mounted from the host, or in an image layer built from codeDir. */
export type CodeMode = "mount" | "image";
export const CODE_MODES: readonly CodeMode[] = ["mount", "image"];

/** The cluster description after defaults are applied and validation passed. */
export interface ClusterSpec {
    nodes: number;
    gpusPerNode: number;
    /** Host GPU ids (or UUIDs) that nodes are bound to; undefined means 0..nodes*gpusPerNode-1. ["auto"] is resolved. */
    gpuIds?: string[];
    /** Whether nodes may share GPUs round-robin when the pool is smaller than nodes x gpusPerNode. */
    gpuSharing: boolean;
    procsPerNode: number;
    image: string;
    /** The local image's id, when imageMode is "local" and the Docker host could be asked. */
    imageId?: string;
    imageMode: ImageMode;
    /** Absolute path of the Dockerfile folder (imageMode "build"). */
    imageContext: string;
    /** Dockerfile path relative to imageContext. */
    imageDockerfile: string;
    /** Absolute host path of the training code, at /code in every node (read-only). */
    codeDir: string;
    /** "mount": codeDir bind-mounted (edit and rerun); "image": copied into an image layer tagged by its content. */
    codeMode: CodeMode;
    /** codeMode "mount": a hash of codeDir's content, carried by the nodes so that a code change is a new run. */
    codeHash?: string;
    /** The script torchrun starts, relative to /code (or absolute inside the image). */
    script: string;
    /** A module torchrun starts as `python -m module` instead of `script`. */
    module?: string;
    /** The script's arguments, exactly as configured. */
    scriptArgs: string[];
    /** Extra torchrun flags (never one the cluster sets). */
    torchrunArgs: string[];
    /** A flag the script reads its checkpoint directory from (`--save-dir`): passed as `<flag> /checkpoints`. */
    checkpointDirArg?: string;
    /** A flag the script reads its dataset directory from: passed as `<flag> /data` when a dataset is mounted. */
    dataDirArg?: string;
    /** Worker exit codes that stop the cluster at once (no restart). */
    failFastExitCodes: number[];
    /** The same error this many times in a row on a node stops the cluster (0: never). */
    failFastRepeats: number;
    /** Absolute host path of a dataset folder, bind-mounted read-only at /data. */
    datasetDir?: string;
    /** A named Docker volume mounted read-only at /data (instead of datasetDir). */
    datasetVolume?: string;
    checkpointVolumeName?: string;
    /** Who owns the cluster's host-level names; undefined means the caller's default (the OS user). */
    owner?: string;
    /** The user the training runs as (`uid[:gid]` or a name); undefined is the image's default user. */
    user?: string;
    /** Allow system folders (/, /etc, /proc, the Docker socket, ...) as codeDir or datasetDir. */
    allowSystemPaths: boolean;
    retainCheckpoints: boolean;
    masterPort: number;
    maxRestarts: number;
    restartRetries: number;
    shmSizeMb: number;
    stopGraceSeconds: number;
    /** The process group timeout scripts are told (DDPSIM_COLLECTIVE_TIMEOUT_SECONDS): how soon a hung peer is noticed. */
    collectiveTimeoutSeconds: number;
    /** The fewest nodes training continues with (torchrun `--nnodes minNodes:nodes`); equal to nodes: not elastic. */
    minNodes: number;
    /** Run the script through ddpsim check's launcher (training/check_launcher.py); the script itself is unchanged. */
    checkHooks: boolean;
    env: Record<string, string>;
    /** The link between nodes: a preset merged with explicit overrides. */
    interconnect: InterconnectPlan;
}

/**
 * How a target names its nodes. The default (the Docker targets') gives every cluster its own network, on which node
 * `rank` is `<name>-node-<rank>`, zero-padded past ten nodes; a target whose nodes live in a shared name space (a
 * Kubernetes namespace) gives its own names.
 */
export interface NodeNaming {
    /** The host name node `rank` has: DDPSIM_NODE, the node agent's name, the `ddpsim.node` label. */
    hostname(rank: number): string;
    /** Where the other nodes reach node `rank`; the master's is MASTER_ADDR and the rendezvous endpoint's host. */
    address(rank: number): string;
}

/** Whose cluster it is and where it lives; together these make every Docker name unique on one host. */
export interface ClusterIdentity {
    /** Who deploys it (`owner`, by default the OS user name): two people's `dev` stacks on one host never share. */
    owner: string;
    project: string;
    stack: string;
    /** The cluster's name: the Pulumi resource name of its component (`ddp` in the stack program). */
    cluster: string;
}

export interface MountPlan {
    type: "bind" | "volume";
    source: string;
    target: string;
    readOnly: boolean;
}

export interface NodePlan {
    rank: number;
    role: "master" | "worker";
    /** Pulumi resource name of the container. */
    resourceName: string;
    /** Docker container name before the per-stack random suffix is appended. */
    containerNameBase: string;
    /** Container hostname, also its alias on the cluster network. */
    hostname: string;
    gpuIds: string[];
    env: Record<string, string>;
    command: string[];
    /** ddpsim's own files the node needs (the node agent), which each target ships its own way, read-only. */
    files: NodeFile[];
    mounts: MountPlan[];
    labels: Record<string, string>;
    /** Linux capabilities: every node drops ALL and adds back only these. */
    capabilities: { adds: string[]; drops: string[] };
    /** The container's user (`uid[:gid]` or a name); undefined is the image's default user. */
    user?: string;
    /** Docker security options (no-new-privileges). */
    securityOpts: string[];
    /** The node's working directory (the shared, writable workspace). */
    workingDir: string;
}

export interface HealthcheckPlan {
    tests: string[];
    interval: string;
    timeout: string;
    startPeriod: string;
    retries: number;
}

export interface ClusterPlan {
    spec: ClusterSpec;
    identity: ClusterIdentity;
    /** `project-stack-name-<hash of owner, project, stack, name>`: every Docker name of the cluster starts with it. */
    namePrefix: string;
    networkNameBase: string;
    checkpointVolumeName: string;
    masterHost: string;
    masterEndpoint: string;
    rendezvousId: string;
    /** The environment variable each target sets to its own id of one deployment (verdicts are scoped to it). */
    runIdVariable: string;
    /** Labels shared by every Docker object of the cluster. */
    labels: Record<string, string>;
    masterHealthcheck: HealthcheckPlan;
    nodes: NodePlan[];
}

/** One invalid input: the key, the value and what is allowed. */
export interface PropertyError {
    propertyPath: string;
    reason: string;
}
