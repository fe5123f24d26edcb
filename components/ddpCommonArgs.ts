import * as pulumi from "@pulumi/pulumi";

/**
 * The arguments both components take, DdpCluster (Docker) and DdpKubernetesJob (Kubernetes), with the same meaning.
 * Every field is optional; see each default. The descriptions are the settings table's (components/plan/settings.ts):
 * a test holds them to it.
 */
export interface DdpCommonArgs {
    /**
     * Number of simulated nodes, one container each on Docker, one pod of the Indexed Job each on Kubernetes.
     * @default 2
     */
    nodes?: number;
    /**
     * GPUs of each node (on Kubernetes its nvidia.com/gpu limit); 0 makes a CPU cluster that trains with gloo.
     * @default 0
     */
    gpusPerNode?: number;
    /**
     * Training processes per node (torchrun --nproc-per-node); defaults to gpusPerNode, or 1 on CPU.
     * @default gpusPerNode, or 1 on CPU
     */
    procsPerNode?: number;
    /**
     * Training image, a registry reference, the tag to build, or an image already on the host; on Kubernetes a
     * reference the cluster's nodes pull, with the code at /code.
     * @default "ddpsim-cpu:latest"
     */
    image?: pulumi.Input<string>;
    /**
     * How to get the image, registry (pull; kept on destroy), build (imageContext), or local (use as is); on Kubernetes
     * only registry (the nodes pull it).
     * @default "local"
     */
    imageMode?: string;
    /**
     * Script that torchrun starts, relative to /code (codeDir on Docker, the image's /code on Kubernetes).
     * @default "train_ddp.py"
     */
    script?: string;
    /** A module that torchrun starts as python -m (instead of script), found on /code. @default none */
    module?: string;
    /** The script's arguments, passed exactly as given. @default [] */
    scriptArgs?: string[];
    /**
     * Extra torchrun flags (e.g. --rdzv-conf join_timeout=900, --tee 3); flags the cluster sets are refused.
     * @default []
     */
    torchrunArgs?: string[];
    /**
     * A flag of the script that takes the checkpoint directory (e.g. --save-dir); the cluster appends it with
     * /checkpoints.
     * @default none
     */
    checkpointDirArg?: string;
    /** A flag of the script that takes the dataset directory; the cluster appends it with /data. @default none */
    dataDirArg?: string;
    /**
     * Worker exit codes that stop the cluster at the first occurrence, without restarts (2 is a usage error, 3 our
     * trainer's ranks-disagree).
     * @default [2, 3]
     */
    failFastExitCodes?: number[];
    /**
     * The same error this many times in a row on one node stops the cluster (0 never does); signals and network errors
     * do not count.
     * @default 2
     */
    failFastRepeats?: number;
    /**
     * A named volume mounted read-only at /data (instead of datasetDir) - a Docker volume, or on Kubernetes a
     * PersistentVolumeClaim.
     * @default none
     */
    datasetVolume?: string;
    /**
     * Name of the run volume, the shared working directory /workspace, also mounted at /checkpoints - a Docker volume,
     * or on Kubernetes a PersistentVolumeClaim (default <project>-<stack>-<cluster>-<owner hash>-checkpoints).
     * @default <project>-<stack>-<cluster>-<owner hash>-checkpoints, on Kubernetes <job>-checkpoints
     */
    checkpointVolumeName?: string;
    /**
     * Who the cluster belongs to, part of every Docker name and of the Kubernetes Job's, so that two people's stacks
     * never share one (default the OS user name).
     * @default the OS user name
     */
    owner?: string;
    /**
     * The user the training runs as (uid, uid:gid or a name; on Kubernetes uid or uid:gid; default the image's user).
     * @default the image's user
     */
    user?: string;
    /** Keep the checkpoint volume (on Kubernetes its claim) on pulumi destroy. @default true */
    retainCheckpoints?: boolean;
    /**
     * Rendezvous port of the master node, inside the cluster network (nothing is published on the host).
     * @default 29500
     */
    masterPort?: number;
    /** torchrun --max-restarts, worker-group restarts after a failure. @default 3 */
    maxRestarts?: number;
    /**
     * Docker restarts of a failed container (restart policy on-failure); on Kubernetes the Job's backoffLimit, pod
     * failures of all nodes together.
     * @default 5
     */
    restartRetries?: number;
    /** Size of /dev/shm in MB; Docker's 64 MB default breaks DataLoader workers and NCCL. @default 2048 */
    shmSizeMb?: number;
    /** Seconds between SIGTERM and SIGKILL on stop or destroy, so a checkpoint can finish. @default 60 */
    stopGraceSeconds?: number;
    /**
     * Process group timeout handed to scripts (DDPSIM_COLLECTIVE_TIMEOUT_SECONDS, our trainer's --timeout-seconds); a
     * hung or cut-off peer is noticed after this long.
     * @default 30
     */
    collectiveTimeoutSeconds?: number;
    /**
     * Extra environment variables for every node; a secret value (pulumi config set --secret, pulumi.secret) stays
     * secret down to the containers (on Kubernetes in a Secret the pods reference).
     * @default {}
     */
    env?: Record<string, pulumi.Input<string>>;
}
