import * as pulumi from "@pulumi/pulumi";

/**
 * Arguments of a {@link DdpKubernetesJob}. Every field is optional; see each default. The common fields mean what they
 * mean for DdpCluster; DdpCluster's keys that have no meaning on a cluster (gpuIds, codeDir, datasetDir, dockerHost,
 * the interconnect) are not taken.
 */
export interface DdpKubernetesJobArgs {
    /** Number of nodes: pods of the Indexed Job (completions and parallelism). Plain: it shapes the Job. @default 2 */
    nodes?: number;
    /** GPUs of each pod (the nvidia.com/gpu limit); 0 makes a CPU cluster (gloo). @default 0 */
    gpusPerNode?: number;
    /** Training processes per node (torchrun `--nproc-per-node`). @default gpusPerNode, or 1 on CPU */
    procsPerNode?: number;
    /** Image reference the cluster's nodes pull (pull policy IfNotPresent), with the code at /code. @default "ddpsim-cpu:latest" */
    image?: pulumi.Input<string>;
    /** How the image is obtained: only "registry" on Kubernetes (the nodes pull it); "local" and "build" are refused. @default "registry" */
    imageMode?: string;
    /** Script that torchrun starts, relative to /code in the image. @default "train_ddp.py" */
    script?: string;
    /** A module that torchrun starts as `python -m module` (instead of script), found on /code. @default none */
    module?: string;
    /** The script's arguments, passed exactly as given. @default [] */
    scriptArgs?: string[];
    /** Extra torchrun flags such as `--rdzv-conf join_timeout=900`; flags the cluster sets are refused. @default [] */
    torchrunArgs?: string[];
    /** A flag of the script that takes the checkpoint directory (e.g. "--save-dir"): the cluster appends `<flag> /checkpoints`. @default none */
    checkpointDirArg?: string;
    /** A flag of the script that takes the dataset directory: the cluster appends `<flag> /data`. @default none */
    dataDirArg?: string;
    /** A PersistentVolumeClaim of this namespace mounted read-only at /data (DDPSIM_DATA_DIR); the cluster never creates or deletes it. @default none */
    datasetVolume?: string;
    /** Name of the run volume's PersistentVolumeClaim: /workspace and /checkpoints of every pod. @default "<job>-checkpoints" */
    checkpointVolumeName?: string;
    /** Keep the run volume's claim on `pulumi destroy` (retainOnDelete). @default true */
    retainCheckpoints?: boolean;
    /** Who the cluster belongs to: part of the Job's name, so that two people's stacks never share a Job. @default the OS user name */
    owner?: string;
    /** The ids the training runs as: uid or uid:gid (runAsUser, runAsGroup, fsGroup). @default the image's user */
    user?: string;
    /** Rendezvous port of node 0. @default 29500 */
    masterPort?: number;
    /** torchrun `--max-restarts`: worker-group restarts after a failure. @default 3 */
    maxRestarts?: number;
    /** Pod failures the Job retries, all nodes together (backoffLimit). @default 5 */
    restartRetries?: number;
    /** Size of /dev/shm in MiB, an in-memory emptyDir. @default 2048 */
    shmSizeMb?: number;
    /** Seconds between SIGTERM and SIGKILL when a pod stops (terminationGracePeriodSeconds). @default 60 */
    stopGraceSeconds?: number;
    /** The process group timeout handed to scripts (DDPSIM_COLLECTIVE_TIMEOUT_SECONDS): a hung or cut-off peer is noticed after this long. @default 30 */
    collectiveTimeoutSeconds?: number;
    /** Worker exit codes that stop the cluster at once: the node agent stops, and the Job fails (podFailurePolicy FailJob). @default [2, 3] */
    failFastExitCodes?: number[];
    /** The same error this many times in a row on one node stops the cluster; 0 never does. @default 2 */
    failFastRepeats?: number;
    /** Extra environment variables for every node; Input values (secrets) go to a Secret, referenced by the pods. @default {} */
    env?: Record<string, pulumi.Input<string>>;
    /** The namespace of every object. @default the Kubernetes provider's namespace */
    namespace?: string;
    /** Secrets the pods pull the image with (imagePullSecrets). @default [] */
    imagePullSecrets?: string[];
    /** Node labels a pod's node must have, e.g. {"nvidia.com/gpu.present": "true"}. @default {} */
    nodeSelector?: Record<string, string>;
    /** Taints the pods tolerate, as KEY[=VALUE][:EFFECT], e.g. "nvidia.com/gpu:NoSchedule". @default [] */
    tolerations?: string[];
    /** The pods' ServiceAccount; without one the pods get no API token. @default none */
    serviceAccountName?: string;
    /** StorageClass of the run volume's claim. @default the cluster's default class */
    checkpointStorageClass?: string;
    /** Size the run volume's claim requests. @default "10Gi" */
    checkpointSize?: string;
    /** "ReadWriteMany" (pods on any machine) or "ReadWriteOnce" (all pods on one machine: kind, k3d, local-path). @default "ReadWriteMany" */
    checkpointAccessMode?: string;
}
