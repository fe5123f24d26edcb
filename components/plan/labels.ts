/**
 * The labels ddpsim puts on what it creates: the contract between a target and the CLI (docs/cli.md, "Labels"). The
 * Docker target, the Compose export and the Kubernetes target write them (plan.ts), the CLI finds a cluster's nodes by
 * them (cli/sources/), the GPU probe reads them (hostProbe.ts), the benches and tests clean up by them. The table is
 * here, once; a key is never spelt out elsewhere.
 */
import { ClusterIdentity } from "./types";

export const LABEL_PREFIX = "ddpsim";

export const LABELS = {
    // Every object of a cluster: whose it is and which (ClusterIdentity).
    owner: `${LABEL_PREFIX}.owner`,
    project: `${LABEL_PREFIX}.project`,
    stack: `${LABEL_PREFIX}.stack`,
    cluster: `${LABEL_PREFIX}.cluster`,
    // Every node.
    rank: `${LABEL_PREFIX}.rank`,
    role: `${LABEL_PREFIX}.role`,
    node: `${LABEL_PREFIX}.node`,
    nodes: `${LABEL_PREFIX}.nodes`,
    gpus: `${LABEL_PREFIX}.gpus`,
    /** Elastic clusters only (minNodes < nodes). */
    minNodes: `${LABEL_PREFIX}.minNodes`,
    /** A content hash of the bind-mounted code folder (codeMode "mount"). */
    code: `${LABEL_PREFIX}.code`,
    /** A content hash of the node agent's files (/opt/ddpsim): an agent change is a change of every node. */
    agent: `${LABEL_PREFIX}.agent`,
    /** A local image's name, on Docker nodes whose image goes by its id (imageMode "local"). */
    image: `${LABEL_PREFIX}.image`,
    /** Kubernetes: ties a Job's objects and pods to it. */
    job: `${LABEL_PREFIX}.job`,
    /** Short-lived containers the CLI starts for a purpose (a fault, a plot, a reference run). */
    helper: `${LABEL_PREFIX}.helper`,
} as const;

/** The labels that name one cluster, on every object it has. */
export function identityLabels(identity: ClusterIdentity): Record<string, string> {
    return {
        [LABELS.owner]: identity.owner,
        [LABELS.project]: identity.project,
        [LABELS.stack]: identity.stack,
        [LABELS.cluster]: identity.cluster,
    };
}

/** The identity a set of labels names, or undefined when it names none (a project label is the least it needs). */
export function identityOfLabels(labels: Record<string, string | undefined>): ClusterIdentity | undefined {
    const project = labels[LABELS.project];
    if (project === undefined) return undefined;
    return { owner: labels[LABELS.owner] ?? "", project, stack: labels[LABELS.stack] ?? "", cluster: labels[LABELS.cluster] ?? "" };
}

/** Whether `labels` are those of `identity`'s objects. */
export function hasIdentity(labels: Record<string, string | undefined>, identity: ClusterIdentity): boolean {
    return Object.entries(identityLabels(identity)).every(([key, value]) => labels[key] === value);
}
