/**
 * The settings with no default, which Pulumi.yaml cannot declare: the real Pulumi CLI treats every key that the
 * project file declares with a type and no default as required ("Stack is missing configuration values ..."), so
 * these are read and checked by the program alone, like the fractional link keys and `env`. Their descriptions live
 * here, for the configuration reference (scripts/gen-config-docs.ts); a test keeps this list, Pulumi.yaml and
 * STACK_CONFIG_KEYS in step.
 */
export const UNDECLARED_SETTINGS: Record<string, { type: string; description: string }> = {
    codeDir: {
        type: "string",
        description: "Host folder of the training code, at /code in every node, read-only and on PYTHONPATH (default this project's training folder; not on Kubernetes, where the code is in the image).",
    },
    namespace: {
        type: "string",
        description: "Kubernetes only - the namespace of the Job, Service and claim (default the Kubernetes provider's namespace, or kubectl's for the export).",
    },
    imagePullSecrets: {
        type: "list of string",
        description: "Kubernetes only - Secrets the pods pull the image with.",
    },
    tolerations: {
        type: "list of string",
        description: "Kubernetes only - taints the pods tolerate, written KEY[=VALUE][:EFFECT] as kubectl writes taints, e.g. nvidia.com/gpu:NoSchedule.",
    },
    serviceAccountName: {
        type: "string",
        description: "Kubernetes only - the pods' ServiceAccount (without one the pods get no API token).",
    },
    checkpointStorageClass: {
        type: "string",
        description: "Kubernetes only - StorageClass of the run volume's PersistentVolumeClaim (default the cluster's default class).",
    },
    nodeSelector: {
        type: "map of string",
        description: "Kubernetes only - node label keys and the values the pods' nodes must have (e.g. nvidia.com/gpu.present: \"true\").",
    },
    gpuIds: {
        type: "list of string",
        description: "Host GPU ids or UUIDs handed out gpusPerNode per node, in order (default 0..nodes*gpusPerNode-1); [auto] reads this machine's GPUs with nvidia-smi -L.",
    },
    procsPerNode: {
        type: "integer",
        description: "Training processes per node (torchrun --nproc-per-node); defaults to gpusPerNode, or 1 on CPU.",
    },
    // Not declared with its default: the Pulumi CLI applies a project default to every stack, so `module` in a stack
    // file would always meet a `script` too (a real `pulumi up` refused it).
    script: {
        type: "string",
        description: "Script that torchrun starts, relative to codeDir (default train_ddp.py).",
    },
    module: {
        type: "string",
        description: "A module that torchrun starts as python -m (instead of script), found in codeDir.",
    },
    scriptArgs: {
        type: "list of string",
        description: "The script's arguments, passed exactly as given.",
    },
    torchrunArgs: {
        type: "list of string",
        description: "Extra torchrun flags (e.g. --rdzv-conf join_timeout=900, --tee 3); flags the cluster sets are refused.",
    },
    checkpointDirArg: {
        type: "string",
        description: "A flag of the script that takes the checkpoint directory (e.g. --save-dir); the cluster appends it with /checkpoints.",
    },
    dataDirArg: {
        type: "string",
        description: "A flag of the script that takes the dataset directory; the cluster appends it with /data.",
    },
    datasetDir: {
        type: "string",
        description: "Host folder mounted read-only at /data (DDPSIM_DATA_DIR).",
    },
    datasetVolume: {
        type: "string",
        description: "A named volume mounted read-only at /data (instead of datasetDir) - a Docker volume, or on Kubernetes a PersistentVolumeClaim.",
    },
    checkpointVolumeName: {
        type: "string",
        description: "Name of the run volume, the shared working directory /workspace, also mounted at /checkpoints - a Docker volume, or on Kubernetes a PersistentVolumeClaim (default <project>-<stack>-<cluster>-<owner hash>-checkpoints).",
    },
    owner: {
        type: "string",
        description: "Who the cluster belongs to, part of every Docker name so that two people's stacks never share one (default the OS user name).",
    },
    dockerHost: {
        type: "string",
        description: "The Docker host (unix://, ssh://, tcp://) the cluster is created on and whose GPUs [auto] reads (default docker:host, else DOCKER_HOST).",
    },
    user: {
        type: "string",
        description: "The user the training runs as (uid, uid:gid or a name; default the image's user).",
    },
    linkBandwidthMbit: {
        type: "integer",
        description: "Egress bandwidth of each node in Mbit/s (tc tbf), replacing the profile's; 0 removes the limit.",
    },
    linkLatencyMs: {
        type: "number",
        description: "Delay added to each packet a node sends, in ms (one way; tc netem), replacing the profile's.",
    },
    linkJitterMs: {
        type: "number",
        description: "+/- variation of that delay, in ms (needs netem and a latency), replacing the profile's.",
    },
    linkLossPercent: {
        type: "number",
        description: "Packets each node drops, in percent (needs netem), replacing the profile's.",
    },
    minNodes: {
        type: "integer",
        description: "Elastic training, the fewest nodes the run continues with (torchrun --nnodes minNodes:nodes); defaults to nodes (not elastic).",
    },
    env: {
        type: "map of string",
        description: "Extra environment variables for every node; a secret value (pulumi config set --secret) stays secret down to the containers.",
    },
};
