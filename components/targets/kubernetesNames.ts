/**
 * The names of a cluster on Kubernetes: the Job's (also its Service's), the pods' host names and addresses, label
 * values, and the kubectl command that follows the pods' logs.
 */
import { agentFiles, ClusterIdentity, ClusterPlan, ClusterSpec, identityTag, LABELS, NodeNaming, packageNodeFile, planCluster } from "../plan";

/** `<job>-<index>`, a pod's host name, stays a 63-character DNS label up to index 255. */
export const MAX_JOB_NAME = 59;
/** training/indexed_node.py, a node file on Kubernetes: the pod's first program, which makes it node JOB_COMPLETION_INDEX. */
export const INDEXED_NODE_FILE = "indexed_node.py";
/** The label that ties a Job's pods to its Service. */
export const JOB_LABEL = LABELS.job;

/**
 * The Job's name, also its Service's: project, stack and cluster name, and the six hex digits of the identity
 * (owner included), so that two stacks, or two people's, never share a Job in one namespace. A DNS label that
 * starts with a letter (a Service name must), at most MAX_JOB_NAME characters.
 */
export function kubernetesJobName(identity: ClusterIdentity): string {
    const tag = identityTag(identity.owner, identity.project, identity.stack, identity.cluster);
    const readable = [identity.project, identity.stack, identity.cluster]
        .join("-")
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-+/g, "-")
        .replace(/^[^a-z]+/, "")
        .replace(/-+$/, "");
    const head = readable.slice(0, MAX_JOB_NAME - tag.length - 1).replace(/-+$/, "");
    return head === "" ? `d-${tag}` : `${head}-${tag}`;
}

/** Pods of an Indexed Job: host name `<job>-<i>`, reached at `<job>-<i>.<service>` through the headless Service. */
export function kubernetesNaming(job: string, service: string): NodeNaming {
    return { hostname: (rank) => `${job}-${rank}`, address: (rank) => `${job}-${rank}.${service}` };
}

/**
 * The plan of a cluster on Kubernetes: its names, the run volume's claim `<job>-checkpoints` unless named, and the node
 * files with indexed_node.py, which makes a pod of the Indexed Job its node (kubernetes.ts).
 */
export function planForKubernetes(spec: ClusterSpec, identity: ClusterIdentity): ClusterPlan {
    const job = kubernetesJobName(identity);
    const claimed: ClusterSpec = { ...spec, checkpointVolumeName: spec.checkpointVolumeName ?? `${job}-checkpoints` };
    return planCluster(claimed, identity, kubernetesNaming(job, job), [...agentFiles(), packageNodeFile(INDEXED_NODE_FILE)]);
}

/** A label value Kubernetes accepts: at most 63 of letters, digits, `-`, `_`, `.`, starting and ending alphanumeric. */
export function labelValue(value: string): string {
    return value.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** Labels as Kubernetes takes them, and the one that ties the objects and pods to their Job. */
export function kubernetesLabels(labels: Record<string, string>, job: string): Record<string, string> {
    return { ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, labelValue(v)])), [JOB_LABEL]: job };
}

/** `kubectl logs` of every pod of the Job, from the start, followed, each line prefixed with its pod and container. */
export function kubectlLogsCommand(namespace: string, job: string, nodes: number): string {
    const ns = namespace === "" ? "" : ` -n ${namespace}`;
    return `kubectl logs${ns} -l ${JOB_LABEL}=${job} --prefix -f --tail=-1 --max-log-requests=${Math.max(nodes, 5)}`;
}
