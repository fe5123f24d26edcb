import { DdpCommonArgs } from "./ddpCommonArgs";

/**
 * Arguments of a {@link DdpKubernetesJob}: the common ones and those of a Kubernetes cluster. Every field is optional;
 * see each default. DdpCluster's keys that have no meaning on a cluster (gpuIds, codeDir, datasetDir, dockerHost, the
 * interconnect) are not taken. The descriptions are the settings table's (components/plan/settings.ts): a test holds
 * them to it.
 */
export interface DdpKubernetesJobArgs extends DdpCommonArgs {
    /**
     * Kubernetes only - the namespace of the Job, Service and claim (default the Kubernetes provider's namespace, or
     * kubectl's for the export).
     * @default the Kubernetes provider's namespace
     */
    namespace?: string;
    /** Kubernetes only - Secrets the pods pull the image with. @default [] */
    imagePullSecrets?: string[];
    /**
     * Kubernetes only - node label keys and the values the pods' nodes must have (e.g. nvidia.com/gpu.present: "true").
     * @default {}
     */
    nodeSelector?: Record<string, string>;
    /**
     * Kubernetes only - taints the pods tolerate, written KEY[=VALUE][:EFFECT] as kubectl writes taints, e.g.
     * nvidia.com/gpu:NoSchedule.
     * @default []
     */
    tolerations?: string[];
    /** Kubernetes only - the pods' ServiceAccount (without one the pods get no API token). @default none */
    serviceAccountName?: string;
    /**
     * Kubernetes only - StorageClass of the run volume's PersistentVolumeClaim (default the cluster's default class).
     * @default the cluster's default class
     */
    checkpointStorageClass?: string;
    /** Kubernetes only - storage the run volume's PersistentVolumeClaim requests. @default "10Gi" */
    checkpointSize?: string;
    /**
     * Kubernetes only - access mode of the run volume's claim, ReadWriteMany (pods on any machine) or ReadWriteOnce
     * (all pods on one machine, as on kind or k3d with local-path storage).
     * @default "ReadWriteMany"
     */
    checkpointAccessMode?: string;
}
