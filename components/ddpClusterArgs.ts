import * as pulumi from "@pulumi/pulumi";

/** Arguments of a {@link DdpCluster}. Every field is optional; see each default. */
export interface DdpClusterArgs {
    /** Number of simulated nodes (one container each). Plain: it decides how many containers exist. @default 2 */
    nodes?: number;
    /** GPUs bound to each node; 0 makes a CPU cluster (gloo). @default 0 */
    gpusPerNode?: number;
    /**
     * Host GPU ids or UUIDs to hand out, `gpusPerNode` per node in order; `["auto"]` reads this machine's GPUs
     * (`nvidia-smi -L`; the Docker engine must be local and list the nvidia runtime). @default ["0", ..., nodes*gpusPerNode-1]
     */
    gpuIds?: string[];
    /** Let nodes share GPUs round-robin when gpuIds has fewer than nodes x gpusPerNode (never twice in one node). @default false */
    gpuSharing?: boolean;
    /** Training processes per node (torchrun `--nproc-per-node`). @default gpusPerNode, or 1 on CPU */
    procsPerNode?: number;
    /** Image name: a registry reference, the tag to build, or an image already on the host. @default "ddpsim-cpu:latest" */
    image?: pulumi.Input<string>;
    /** "registry" pulls `image` (kept on destroy), "build" builds `imageContext`, "local" uses `image` as it is. @default "local" */
    imageMode?: string;
    /** Dockerfile folder for imageMode "build", relative to the working directory. @default this package's training/ */
    imageContext?: string;
    /** Dockerfile path inside `imageContext`. @default "Dockerfile" */
    imageDockerfile?: string;
    /** Host folder of the training code, mounted read-only at /code and put on PYTHONPATH. @default this package's training/ */
    codeDir?: string;
    /**
     * How the code reaches the nodes: "mount" bind-mounts codeDir read-only (edit and rerun), "image" copies it into
     * an image layer on top of `image`, tagged by its content, so that a preview from another checkout (a CI runner)
     * shows changes only when the code or the config changed. @default "mount"
     */
    codeMode?: string;
    /** Script that torchrun starts, relative to codeDir. @default "train_ddp.py" */
    script?: string;
    /** A module that torchrun starts as `python -m module` (instead of script), found in codeDir. @default none */
    module?: string;
    /** The script's arguments, passed exactly as given. @default [] */
    scriptArgs?: string[];
    /** Extra torchrun flags such as `--rdzv-conf join_timeout=900` or `--tee 3`; flags the cluster sets are refused. @default [] */
    torchrunArgs?: string[];
    /** A flag of the script that takes the checkpoint directory (e.g. "--save-dir"): the cluster appends `<flag> /checkpoints`. @default none */
    checkpointDirArg?: string;
    /** A flag of the script that takes the dataset directory: the cluster appends `<flag> /data`. @default none */
    dataDirArg?: string;
    /** Host folder mounted read-only at /data (DDPSIM_DATA_DIR). @default none */
    datasetDir?: string;
    /** A named Docker volume mounted read-only at /data (not with datasetDir). @default none */
    datasetVolume?: string;
    /** Name of the run volume: the shared working directory /workspace, also mounted at /checkpoints. @default "<project>-<stack>-<name>-checkpoints" */
    checkpointVolumeName?: string;
    /** Keep the checkpoint volume on `pulumi destroy`. @default true */
    retainCheckpoints?: boolean;
    /**
     * Who the cluster belongs to: part of every host-level name, so that two people's stacks of the same name never
     * share a volume. @default the OS user name
     */
    owner?: string;
    /**
     * The Docker host (`unix:///var/run/docker.sock`, `ssh://user@gpu-box`, `tcp://...`): the cluster creates its
     * own docker provider for it, and reads that host's GPUs for `gpuIds: ["auto"]`. @default the `docker:host` config, else DOCKER_HOST
     */
    dockerHost?: string;
    /** The user the training runs as (uid, uid:gid or a name). @default the image's user */
    user?: string;
    /** Allow system folders (/, /etc, /proc, the Docker socket, ...) as codeDir or datasetDir. @default false */
    allowSystemPaths?: boolean;
    /** Rendezvous port of the master node (inside the cluster network; nothing is published). @default 29500 */
    masterPort?: number;
    /** torchrun `--max-restarts`: worker-group restarts after a failure. @default 3 */
    maxRestarts?: number;
    /** Docker restarts of a failed container (restart policy on-failure). @default 5 */
    restartRetries?: number;
    /** Size of /dev/shm in MB (Docker's default of 64 MB breaks DataLoader and NCCL). @default 2048 */
    shmSizeMb?: number;
    /** Seconds between SIGTERM and SIGKILL on stop or destroy, so a checkpoint can finish. @default 60 */
    stopGraceSeconds?: number;
    /**
     * The process group timeout handed to scripts as DDPSIM_COLLECTIVE_TIMEOUT_SECONDS (our trainer's default
     * `--timeout-seconds`): a peer that hangs or is cut off is noticed after this long, and torchrun restarts the
     * workers. Raise it when one rank works alone for longer (a long evaluation on rank 0). @default 30
     */
    collectiveTimeoutSeconds?: number;
    /**
     * Elastic training: the fewest nodes the run continues with (torchrun `--nnodes minNodes:nodes`). When a node is
     * lost, the others rendezvous again and continue at the smaller world size from the last checkpoint; when it
     * returns, the cluster grows back. Plain: it decides the rendezvous. @default nodes (not elastic)
     */
    minNodes?: number;
    /**
     * Run the script through ddpsim check's launcher (training/check_launcher.py, with runpy): the script is
     * unchanged; at its end every rank prints the checksums of the modules it wrapped in DistributedDataParallel.
     * `ddpsim check` sets it (docs/check.md). @default false
     */
    checkHooks?: boolean;
    /** Worker exit codes that stop the cluster at the first occurrence, without restarts (2: usage error). @default [2, 3] */
    failFastExitCodes?: number[];
    /** The same error this many times in a row on one node stops the cluster; 0 never does. @default 2 */
    failFastRepeats?: number;
    /**
     * Extra environment variables for every node. Values may be Pulumi Inputs: a secret (`pulumi.secret(...)`,
     * `config.requireSecret(...)`) stays secret in the containers' inputs, the state and previews. @default {}
     */
    env?: Record<string, pulumi.Input<string>>;
    /**
     * Link between nodes, applied with tc on each node's interface before torchrun starts: "ideal" (unshaped),
     * "100mbit", "1gbe", "10gbe", "25gbe", "100gbe" (bandwidth only), "congested", "wan" (also latency,
     * jitter and loss, which need the kernel's netem). @default "ideal"
     */
    interconnect?: string;
    /** Egress bandwidth of each node in Mbit/s, replacing the profile's; 0 removes the limit. @default the profile's */
    linkBandwidthMbit?: number;
    /** Delay added to each packet a node sends, in ms (one way; needs netem). @default the profile's */
    linkLatencyMs?: number;
    /** +/- variation of that delay, in ms (needs netem and a latency). @default the profile's */
    linkJitterMs?: number;
    /** Packets dropped, in percent (needs netem). @default the profile's */
    linkLossPercent?: number;
}
