/**
 * Every setting of a cluster, once: its name, kind, default, range, description and the targets that take it. From
 * this table come the stack config reader's kinds (stackConfig.ts), DEFAULTS, the ranges the checks enforce
 * (validate.ts), Pulumi.yaml's config block and the configuration reference (`npm run docs` writes both), the keys each
 * target takes or refuses (targets/targetKeys.ts), and the Args doc comments, which a test holds to it
 * (tests/unit/settings.test.ts). docs/components.md says how to add a setting.
 */
import { LIMITS } from "./defaults";
import { INTERCONNECT_PRESET_NAMES } from "./interconnect";
import { CODE_MODES, IMAGE_MODES } from "./types";

/** How a setting's stack config text is read: a scalar, or JSON for lists and maps. */
export type SettingKind = "integer" | "number" | "string" | "boolean" | "list" | "integerList" | "map";

/** Where a cluster runs: docker (DdpCluster) or kubernetes (DdpKubernetesJob). */
export type Target = "docker" | "kubernetes";
export const TARGETS: readonly Target[] = ["docker", "kubernetes"];

export const ACCESS_MODES = ["ReadWriteMany", "ReadWriteOnce"] as const;

export interface Setting {
    kind: SettingKind;
    /** The value a cluster gets when the setting is absent; none: it is optional, or computed (see defaultText). */
    default?: string | number | boolean | readonly number[];
    /** What the Args doc comment's `@default` says where it is not `default` itself (a computed default). */
    defaultText?: string;
    /** integer, number, integerList: the smallest and largest value allowed. */
    range?: readonly [number, number];
    /** string: the values allowed. */
    values?: readonly string[];
    /** One line, in Pulumi.yaml, the configuration reference and (as its body) the Args doc comment. */
    description: string;
    /** The components that take it as an argument; none: the stack program's own (`target`). */
    targets: readonly Target[];
    /** Why Pulumi.yaml does not declare it although it has a default (the CLI would apply that to every stack). */
    undeclared?: string;
}

const BOTH: readonly Target[] = ["docker", "kubernetes"];
const DOCKER: readonly Target[] = ["docker"];
const KUBERNETES: readonly Target[] = ["kubernetes"];

export const SETTINGS = {
    nodes: {
        kind: "integer", default: 2, range: [1, LIMITS.maxNodes], targets: BOTH,
        description: "Number of simulated nodes, one container each on Docker, one pod of the Indexed Job each on Kubernetes.",
    },
    gpusPerNode: {
        kind: "integer", default: 0, range: [0, LIMITS.maxGpusPerNode], targets: BOTH,
        description: "GPUs of each node (on Kubernetes its nvidia.com/gpu limit); 0 makes a CPU cluster that trains with gloo.",
    },
    gpuIds: {
        kind: "list", defaultText: '["0", ..., nodes*gpusPerNode-1]', targets: DOCKER,
        description: "Host GPU ids or UUIDs handed out gpusPerNode per node, in order (default 0..nodes*gpusPerNode-1); [auto] reads this machine's GPUs with nvidia-smi -L.",
    },
    gpuSharing: {
        kind: "boolean", default: false, targets: DOCKER,
        description: "Let nodes share GPUs round-robin when gpuIds has fewer than nodes x gpusPerNode (a node never gets one GPU twice).",
    },
    procsPerNode: {
        kind: "integer", defaultText: "gpusPerNode, or 1 on CPU", range: [1, LIMITS.maxGpusPerNode], targets: BOTH,
        description: "Training processes per node (torchrun --nproc-per-node); defaults to gpusPerNode, or 1 on CPU.",
    },
    image: {
        kind: "string", default: "ddpsim-cpu:latest", targets: BOTH,
        description: "Training image, a registry reference, the tag to build, or an image already on the host; on Kubernetes a reference the cluster's nodes pull, with the code at /code.",
    },
    imageMode: {
        kind: "string", default: "local", values: IMAGE_MODES, targets: BOTH,
        description: "How to get the image, registry (pull; kept on destroy), build (imageContext), or local (use as is); on Kubernetes only registry (the nodes pull it).",
    },
    imageContext: {
        kind: "string", default: "training", defaultText: "this package's training/", targets: DOCKER,
        description: "Dockerfile folder for imageMode build.",
    },
    imageDockerfile: {
        kind: "string", default: "Dockerfile", targets: DOCKER,
        description: "Dockerfile path inside imageContext.",
    },
    codeDir: {
        kind: "string", defaultText: "this package's training/", targets: DOCKER,
        description: "Host folder of the training code, at /code in every node, read-only and on PYTHONPATH (default this project's training folder; not on Kubernetes, where the code is in the image).",
    },
    codeMode: {
        kind: "string", default: "mount", values: CODE_MODES, targets: DOCKER,
        description: "How the code reaches the nodes - mount (codeDir bind-mounted read-only; edit and rerun) or image (copied into an image layer tagged by its content, so previews from any checkout agree).",
    },
    script: {
        kind: "string", default: "train_ddp.py", targets: BOTH,
        undeclared: "the Pulumi CLI applies a project default to every stack, so `module` in a stack file would always meet a `script` too (a real `pulumi up` refused it)",
        description: "Script that torchrun starts, relative to /code (codeDir on Docker, the image's /code on Kubernetes).",
    },
    module: {
        kind: "string", targets: BOTH,
        description: "A module that torchrun starts as python -m (instead of script), found on /code.",
    },
    scriptArgs: {
        kind: "list", defaultText: "[]", targets: BOTH,
        description: "The script's arguments, passed exactly as given.",
    },
    torchrunArgs: {
        kind: "list", defaultText: "[]", targets: BOTH,
        description: "Extra torchrun flags (e.g. --rdzv-conf join_timeout=900, --tee 3); flags the cluster sets are refused.",
    },
    checkpointDirArg: {
        kind: "string", targets: BOTH,
        description: "A flag of the script that takes the checkpoint directory (e.g. --save-dir); the cluster appends it with /checkpoints.",
    },
    dataDirArg: {
        kind: "string", targets: BOTH,
        description: "A flag of the script that takes the dataset directory; the cluster appends it with /data.",
    },
    failFastExitCodes: {
        kind: "integerList", default: [2, 3], range: [1, 255], targets: BOTH,
        description: "Worker exit codes that stop the cluster at the first occurrence, without restarts (2 is a usage error, 3 our trainer's ranks-disagree).",
    },
    failFastRepeats: {
        kind: "integer", default: 2, range: [0, 100], targets: BOTH,
        description: "The same error this many times in a row on one node stops the cluster (0 never does); signals and network errors do not count.",
    },
    datasetDir: {
        kind: "string", targets: DOCKER,
        description: "Host folder mounted read-only at /data (DDPSIM_DATA_DIR).",
    },
    datasetVolume: {
        kind: "string", targets: BOTH,
        description: "A named volume mounted read-only at /data (instead of datasetDir) - a Docker volume, or on Kubernetes a PersistentVolumeClaim.",
    },
    checkpointVolumeName: {
        kind: "string", defaultText: "<project>-<stack>-<cluster>-<owner hash>-checkpoints, on Kubernetes <job>-checkpoints", targets: BOTH,
        description: "Name of the run volume, the shared working directory /workspace, also mounted at /checkpoints - a Docker volume, or on Kubernetes a PersistentVolumeClaim (default <project>-<stack>-<cluster>-<owner hash>-checkpoints).",
    },
    owner: {
        kind: "string", defaultText: "the OS user name", targets: BOTH,
        description: "Who the cluster belongs to, part of every Docker name and of the Kubernetes Job's, so that two people's stacks never share one (default the OS user name).",
    },
    user: {
        kind: "string", defaultText: "the image's user", targets: BOTH,
        description: "The user the training runs as (uid, uid:gid or a name; on Kubernetes uid or uid:gid; default the image's user).",
    },
    allowSystemPaths: {
        kind: "boolean", default: false, targets: DOCKER,
        description: "Allow system folders (/, /etc, /proc, the Docker socket, ...) as codeDir or datasetDir.",
    },
    dockerHost: {
        kind: "string", defaultText: "the `docker:host` config, else DOCKER_HOST", targets: DOCKER,
        description: "The Docker host (unix://, ssh://, tcp://) the cluster is created on and whose GPUs [auto] reads (default docker:host, else DOCKER_HOST).",
    },
    retainCheckpoints: {
        kind: "boolean", default: true, targets: BOTH,
        description: "Keep the checkpoint volume (on Kubernetes its claim) on pulumi destroy.",
    },
    masterPort: {
        kind: "integer", default: 29500, range: [1, 65535], targets: BOTH,
        description: "Rendezvous port of the master node, inside the cluster network (nothing is published on the host).",
    },
    maxRestarts: {
        kind: "integer", default: 3, range: [0, 100], targets: BOTH,
        description: "torchrun --max-restarts, worker-group restarts after a failure.",
    },
    restartRetries: {
        kind: "integer", default: 5, range: [0, 100], targets: BOTH,
        description: "Docker restarts of a failed container (restart policy on-failure); on Kubernetes the Job's backoffLimit, pod failures of all nodes together.",
    },
    shmSizeMb: {
        kind: "integer", default: 2048, range: [LIMITS.minShmSizeMb, 1024 * 1024], targets: BOTH,
        description: "Size of /dev/shm in MB; Docker's 64 MB default breaks DataLoader workers and NCCL.",
    },
    stopGraceSeconds: {
        kind: "integer", default: 60, range: [0, 3600], targets: BOTH,
        description: "Seconds between SIGTERM and SIGKILL on stop or destroy, so a checkpoint can finish.",
    },
    collectiveTimeoutSeconds: {
        kind: "integer", default: 30, range: [5, 86_400], targets: BOTH,
        description: "Process group timeout handed to scripts (DDPSIM_COLLECTIVE_TIMEOUT_SECONDS, our trainer's --timeout-seconds); a hung or cut-off peer is noticed after this long.",
    },
    minNodes: {
        kind: "integer", defaultText: "nodes (not elastic)", range: [1, LIMITS.maxNodes], targets: DOCKER,
        description: "Elastic training, the fewest nodes the run continues with (torchrun --nnodes minNodes:nodes); defaults to nodes (not elastic).",
    },
    checkHooks: {
        kind: "boolean", default: false, targets: DOCKER,
        description: "Run the script through ddpsim check's launcher (training/check_launcher.py, runpy, the script unchanged), which prints each rank's checksums of its DistributedDataParallel modules at the end; set by ddpsim check (docs/check.md).",
    },
    interconnect: {
        kind: "string", default: "ideal", values: INTERCONNECT_PRESET_NAMES, targets: DOCKER,
        description: "Link between nodes, shaped with tc in each node - ideal (unshaped), 100mbit, 1gbe, 10gbe, 25gbe, 100gbe (bandwidth only), congested, wan (also latency, jitter, loss; need netem).",
    },
    linkBandwidthMbit: {
        kind: "integer", defaultText: "the profile's", range: [0, 10_000_000], targets: DOCKER,
        description: "Egress bandwidth of each node in Mbit/s (tc tbf), replacing the profile's; 0 removes the limit.",
    },
    linkLatencyMs: {
        kind: "number", defaultText: "the profile's", range: [0, 60_000], targets: DOCKER,
        description: "Delay added to each packet a node sends, in ms (one way; tc netem), replacing the profile's.",
    },
    linkJitterMs: {
        kind: "number", defaultText: "the profile's", range: [0, 60_000], targets: DOCKER,
        description: "+/- variation of that delay, in ms (needs netem and a latency), replacing the profile's.",
    },
    linkLossPercent: {
        kind: "number", defaultText: "the profile's", range: [0, 100], targets: DOCKER,
        description: "Packets each node drops, in percent (needs netem), replacing the profile's.",
    },
    env: {
        kind: "map", defaultText: "{}", targets: BOTH,
        description: "Extra environment variables for every node; a secret value (pulumi config set --secret, pulumi.secret) stays secret down to the containers (on Kubernetes in a Secret the pods reference).",
    },
    target: {
        kind: "string", default: "docker", values: TARGETS, targets: [],
        description: "Where the cluster runs - docker (containers on one Docker host, DdpCluster) or kubernetes (an Indexed Job on a cluster, DdpKubernetesJob; see docs/kubernetes.md).",
    },
    namespace: {
        kind: "string", defaultText: "the Kubernetes provider's namespace", targets: KUBERNETES,
        description: "Kubernetes only - the namespace of the Job, Service and claim (default the Kubernetes provider's namespace, or kubectl's for the export).",
    },
    imagePullSecrets: {
        kind: "list", defaultText: "[]", targets: KUBERNETES,
        description: "Kubernetes only - Secrets the pods pull the image with.",
    },
    nodeSelector: {
        kind: "map", defaultText: "{}", targets: KUBERNETES,
        description: "Kubernetes only - node label keys and the values the pods' nodes must have (e.g. nvidia.com/gpu.present: \"true\").",
    },
    tolerations: {
        kind: "list", defaultText: "[]", targets: KUBERNETES,
        description: "Kubernetes only - taints the pods tolerate, written KEY[=VALUE][:EFFECT] as kubectl writes taints, e.g. nvidia.com/gpu:NoSchedule.",
    },
    serviceAccountName: {
        kind: "string", targets: KUBERNETES,
        description: "Kubernetes only - the pods' ServiceAccount (without one the pods get no API token).",
    },
    checkpointStorageClass: {
        kind: "string", defaultText: "the cluster's default class", targets: KUBERNETES,
        description: "Kubernetes only - StorageClass of the run volume's PersistentVolumeClaim (default the cluster's default class).",
    },
    checkpointSize: {
        kind: "string", default: "10Gi", targets: KUBERNETES,
        description: "Kubernetes only - storage the run volume's PersistentVolumeClaim requests.",
    },
    checkpointAccessMode: {
        kind: "string", default: "ReadWriteMany", values: ACCESS_MODES, targets: KUBERNETES,
        description: "Kubernetes only - access mode of the run volume's claim, ReadWriteMany (pods on any machine) or ReadWriteOnce (all pods on one machine, as on kind or k3d with local-path storage).",
    },
} as const satisfies Record<string, Setting>;

export type SettingName = keyof typeof SETTINGS;
export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

type Table = typeof SETTINGS;
type DefaultName = { [K in SettingName]: Table[K] extends { default: unknown } ? K : never }[SettingName];
type Widen<T> = T extends string ? T : T extends number ? number : T extends boolean ? boolean : T;

/** The defaults of the settings that have one (the others are optional or computed). */
export const DEFAULTS = Object.fromEntries(
    SETTING_NAMES.flatMap((name) => {
        const setting: Setting = SETTINGS[name];
        return setting.default === undefined ? [] : [[name, setting.default]];
    }),
) as { readonly [K in DefaultName]: Widen<Table[K] extends { default: infer D } ? D : never> };

/** A setting's range, for the checks. */
export function rangeOf(name: SettingName): readonly [number, number] {
    const range = (SETTINGS[name] as Setting).range;
    if (range === undefined) throw new Error(`the setting ${name} has no range`);
    return range;
}

/** The settings a target takes (the arguments of its component), in the table's order. */
export function settingsOf(target: Target): SettingName[] {
    return SETTING_NAMES.filter((name) => (SETTINGS[name].targets as readonly Target[]).includes(target));
}

/** The settings that only `target` takes. */
export function onlyFor(target: Target): SettingName[] {
    return settingsOf(target).filter((name) => SETTINGS[name].targets.length === 1);
}

/** The settings no component takes: the stack program's own. */
export const STACK_ONLY_SETTINGS: SettingName[] = SETTING_NAMES.filter((name) => SETTINGS[name].targets.length === 0);

/** The type of a setting as the configuration reference names it. */
export function typeText(kind: SettingKind): string {
    const types: Record<SettingKind, string> = {
        integer: "integer",
        number: "number",
        string: "string",
        boolean: "boolean",
        list: "list of string",
        integerList: "list of integer",
        map: "map of string",
    };
    return types[kind];
}

/** A default as a TypeScript reader writes it: `2`, `"local"`, `[2, 3]`, `true`. */
export function defaultText(setting: Setting): string {
    if (setting.defaultText !== undefined) return setting.defaultText;
    const value = setting.default;
    if (value === undefined) return "none";
    if (Array.isArray(value)) return `[${value.join(", ")}]`;
    return JSON.stringify(value);
}

/**
 * The settings Pulumi.yaml does not declare: those without a default, and those whose default the CLI must not apply
 * (`undeclared`). The Pulumi CLI treats a key declared without a default as required ("Stack is missing configuration
 * values"), so the program alone reads and checks them.
 */
export const UNDECLARED_SETTINGS: SettingName[] = SETTING_NAMES.filter((name) => {
    const setting: Setting = SETTINGS[name];
    return setting.default === undefined || setting.undeclared !== undefined;
});
