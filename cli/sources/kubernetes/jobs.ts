/**
 * A cluster on Kubernetes, found by its labels: the Job of a ddpsim stack (DdpKubernetesJob) and, per completion
 * index (a node's rank), its pods: the newest is the node now, the older ones are the attempts the Job replaced.
 */
import type * as K8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { JOB_LABEL, labelValue } from "../../../components/targets/kubernetesNames";
import { INDEX_ANNOTATION } from "../../../components/targets/kubernetes";
import { CliError } from "../../errors";
import { LABELS } from "../../../components/plan/labels";
import { ClusterNode, ClusterIdentity, NodePhase, NodeState } from "../source";
import { apiProblem, KubernetesApi, statusOf } from "./client";

export interface JobRef {
    namespace: string;
    name: string;
}

/** A node of a Job: its index; `id` is `<namespace>/<job>/<index>`. */
export function nodeOf(job: JobRef, index: number): ClusterNode {
    const host = `${job.name}-${index}`;
    return { id: `${job.namespace}/${job.name}/${index}`, name: host, node: host, rank: index, role: index === 0 ? "master" : "worker", gpus: [] };
}

export function jobOfNode(node: ClusterNode): JobRef {
    const [namespace, name] = node.id.split("/");
    return { namespace, name };
}

export function refSelector(ref: ClusterIdentity): string {
    return [
        `${LABELS.owner}=${labelValue(ref.owner)}`,
        `${LABELS.project}=${labelValue(ref.project)}`,
        `${LABELS.stack}=${labelValue(ref.stack)}`,
        `${LABELS.cluster}=${labelValue(ref.cluster)}`,
    ].join(",");
}

/** The cluster's Jobs: in every namespace the kubeconfig's user may list, else in the context's namespace. */
export async function findJobs(api: KubernetesApi, ref: ClusterIdentity): Promise<K8s.V1Job[]> {
    const labelSelector = refSelector(ref);
    try {
        return (await api.batch.listJobForAllNamespaces({ labelSelector })).items;
    } catch (err) {
        if (statusOf(err) !== 403) throw new CliError(apiProblem(err, api));
    }
    try {
        return (await api.batch.listNamespacedJob({ namespace: api.namespace, labelSelector })).items;
    } catch (err) {
        throw new CliError(apiProblem(err, api));
    }
}

/** The Job of the cluster (the newest, should there be several) and one node per completion index. */
export async function findNodes(api: KubernetesApi, ref: ClusterIdentity): Promise<{ job?: JobRef; nodes: ClusterNode[] }> {
    const jobs = await findJobs(api, ref);
    const created = (j: K8s.V1Job) => new Date(j.metadata?.creationTimestamp ?? 0).getTime();
    const newest = jobs.sort((a, b) => created(b) - created(a))[0];
    if (newest === undefined) return { nodes: [] };
    const job = { namespace: newest.metadata!.namespace!, name: newest.metadata!.name! };
    const count = newest.spec?.completions ?? 0;
    return { job, nodes: Array.from({ length: count }, (_, i) => nodeOf(job, i)) };
}

export async function readJob(api: KubernetesApi, job: JobRef): Promise<K8s.V1Job | undefined> {
    try {
        return await api.batch.readNamespacedJob({ name: job.name, namespace: job.namespace });
    } catch (err) {
        if (statusOf(err) === 404) return undefined;
        throw new CliError(apiProblem(err, api));
    }
}

/** The pods of one index, oldest first. */
export async function podsOf(api: KubernetesApi, node: ClusterNode): Promise<K8s.V1Pod[]> {
    const job = jobOfNode(node);
    const labelSelector = `${JOB_LABEL}=${job.name}`;
    let pods: K8s.V1Pod[];
    try {
        pods = (await api.core.listNamespacedPod({ namespace: job.namespace, labelSelector })).items;
    } catch (err) {
        throw new CliError(apiProblem(err, api));
    }
    const created = (p: K8s.V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
    return pods.filter((p) => p.metadata?.annotations?.[INDEX_ANNOTATION] === String(node.rank)).sort((a, b) => created(a) - created(b));
}

const ms = (t: Date | string | undefined) => (t === undefined ? undefined : new Date(t).getTime());

/** Whether the Job has ended (Complete or Failed): it starts no pod again. */
export function jobEnded(job: K8s.V1Job): boolean {
    return (job.status?.conditions ?? []).some((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
}

/**
 * A node's state in Docker's words: the newest pod's container, where a failed pod that the Job will replace is
 * "restarting" (as a container Docker restarts), and the replaced attempts count as restarts.
 */
export function nodeState(node: ClusterNode, job: K8s.V1Job, pods: K8s.V1Pod[]): NodeState {
    const restarts = Math.max(pods.length - 1, 0);
    const current = pods[pods.length - 1];
    const previous = pods[pods.length - 2];
    const terminatedOf = (p: K8s.V1Pod | undefined) => p?.status?.containerStatuses?.[0]?.state?.terminated;
    const lastCode = terminatedOf(previous)?.exitCode ?? 0;
    if (current === undefined) return { ...node, state: jobEnded(job) ? "exited" : "created", exitCode: lastCode, restarts };
    const container = current.status?.containerStatuses?.[0]?.state;
    const terminated = container?.terminated;
    let state: NodePhase;
    if (terminated !== undefined || current.status?.phase === "Succeeded" || current.status?.phase === "Failed") {
        const failed = (terminated?.exitCode ?? 0) !== 0 || current.status?.phase === "Failed";
        state = failed && !jobEnded(job) ? "restarting" : "exited";
    } else if (container?.running !== undefined) {
        state = current.metadata?.deletionTimestamp !== undefined ? "removing" : "running";
    } else {
        state = restarts > 0 ? "restarting" : "created";
    }
    return {
        ...node,
        name: current.metadata?.name ?? node.name,
        state,
        exitCode: terminated?.exitCode ?? lastCode,
        restarts,
        startedAtMs: ms(container?.running?.startedAt ?? terminated?.startedAt),
        finishedAtMs: ms(terminated?.finishedAt),
    };
}
