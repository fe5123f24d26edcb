/**
 * A cluster's containers, found by their labels (docs/cli.md, "Labels"), and Docker's state of each: how the
 * Docker source (source.ts) reaches a running cluster.
 */
import Docker from "dockerode";
import { CliError } from "../../errors";
import { identityOfLabels, LABELS } from "../../../components/plan/labels";
import { ClusterNode, ClusterIdentity, NodePhase, NodeState } from "../source";

/** A node's container and Docker's state of it now. */
export interface ContainerNodeState extends NodeState {
    /** The container has a TTY: its log stream is raw, not multiplexed. */
    tty: boolean;
}

export function clusterFilters(ref: ClusterIdentity): { label: string[] } {
    return {
        label: [
            `${LABELS.owner}=${ref.owner}`,
            `${LABELS.project}=${ref.project}`,
            `${LABELS.stack}=${ref.stack}`,
            `${LABELS.cluster}=${ref.cluster}`,
        ],
    };
}

/** Every (owner, project, stack, cluster) with containers on this Docker host, of one owner and project. */
export async function listClusters(docker: Docker, owner: string, project?: string): Promise<ClusterIdentity[]> {
    const label = [`${LABELS.owner}=${owner}`, project === undefined ? LABELS.project : `${LABELS.project}=${project}`];
    const containers = await docker.listContainers({ all: true, filters: { label } });
    const seen = new Map<string, ClusterIdentity>();
    for (const c of containers) {
        const ref = identityOfLabels({ ...c.Labels, [LABELS.owner]: owner });
        if (ref !== undefined) seen.set(JSON.stringify(ref), ref);
    }
    return [...seen.values()].sort((a, b) => a.stack.localeCompare(b.stack) || a.cluster.localeCompare(b.cluster));
}

/** The cluster's node containers, by rank. */
export async function findNodes(docker: Docker, ref: ClusterIdentity): Promise<ClusterNode[]> {
    const containers = await docker.listContainers({ all: true, filters: clusterFilters(ref) });
    return containers
        .map((c) => {
            const rank = Number.parseInt(c.Labels[LABELS.rank] ?? "", 10);
            const name = (c.Names[0] ?? c.Id).replace(/^\//, "");
            return {
                id: c.Id,
                name,
                node: c.Labels[LABELS.node] || name,
                rank: Number.isNaN(rank) ? Number.MAX_SAFE_INTEGER : rank,
                role: c.Labels[LABELS.role] ?? "",
                gpus: (c.Labels[LABELS.gpus] ?? "").split(",").filter((g) => g !== ""),
                ...(c.Labels[LABELS.minNodes] ? { minNodes: Number(c.Labels[LABELS.minNodes]) } : {}),
            };
        })
        .sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name));
}

function timeOf(text: string | undefined): number | undefined {
    if (text === undefined || text.startsWith("0001-")) return undefined;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
}

/** Docker's state of one node's container now. */
export async function inspectNode(docker: Docker, node: ClusterNode): Promise<ContainerNodeState> {
    let info: Docker.ContainerInspectInfo;
    try {
        info = await docker.getContainer(node.id).inspect();
    } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) {
            throw new CliError(`the container of ${node.node} (${node.name}) is gone: was the stack destroyed?`);
        }
        throw err;
    }
    const hostname = info.Config.Hostname;
    return {
        ...node,
        node: node.node === node.name && hostname ? hostname : node.node,
        state: info.State.Status as NodePhase,
        exitCode: info.State.ExitCode,
        restarts: info.RestartCount,
        startedAtMs: timeOf(info.State.StartedAt),
        finishedAtMs: info.State.Running ? undefined : timeOf(info.State.FinishedAt),
        tty: info.Config.Tty === true,
    };
}

const listOf = (refs: ClusterIdentity[], key: "stack" | "cluster") => [...new Set(refs.map((r) => r[key]))].join(", ");

/**
 * The cluster the flags name. With no `stack`, the only stack of that project and cluster on this host (and a
 * note saying so); CliErrors name what is missing and list what exists.
 */
export async function resolveCluster(
    docker: Docker,
    want: { owner: string; project: string; cluster: string; stack?: string },
): Promise<{ ref: ClusterIdentity; note?: string }> {
    const all = await listClusters(docker, want.owner, want.project);
    const where = `project ${want.project} (owner ${want.owner})`;
    if (want.stack !== undefined) {
        const ofStack = all.filter((r) => r.stack === want.stack);
        if (ofStack.some((r) => r.cluster === want.cluster)) return { ref: { ...want, stack: want.stack } };
        if (ofStack.length > 0) {
            throw new CliError(`stack ${want.stack} (${where}) has no cluster ${want.cluster}; its clusters: ${listOf(ofStack, "cluster")}`);
        }
        const stacks = all.length > 0 ? `stacks on this host: ${listOf(all, "stack")}` : `no stack of ${where} has containers here`;
        throw new CliError(`no stack ${want.stack} of ${where} on this Docker host; ${stacks}`);
    }
    const matching = all.filter((r) => r.cluster === want.cluster);
    if (matching.length === 1) {
        return { ref: matching[0], note: `using stack ${matching[0].stack} (the only stack of ${where}, cluster ${want.cluster}, on this host)` };
    }
    if (matching.length > 1) {
        throw new CliError(`several stacks of ${where} have a cluster ${want.cluster} here (${listOf(matching, "stack")}): pick one with --stack`);
    }
    if (all.length > 0) {
        throw new CliError(`no cluster ${want.cluster} in any stack of ${where} on this host; clusters: ${all.map((r) => `${r.stack}/${r.cluster}`).join(", ")}`);
    }
    throw new CliError(`no stack of ${where} has containers on this Docker host (is the stack up? is --project right?)`);
}
