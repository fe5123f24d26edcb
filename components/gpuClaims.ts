import { ClusterPlan, PropertyError } from "./plan";

type Claims = Map<string, Map<string, { cluster: string; sharing: boolean }>>;

/**
 * GPUs that clusters of this program have bound, per Docker host: GPU id -> the cluster that binds it, and whether it
 * shares. Kept on the global object, so that every copy of this package loaded into the program sees the same claims.
 */
const claims: Claims = ((globalThis as any)[Symbol.for("ddpsim.gpuClaims")] ??= new Map());

/**
 * Records the GPUs a cluster binds, or says why it cannot have them: another DdpCluster of the same program binds
 * them on the same Docker host, and they do not both allow sharing. Two clusters left at the default gpuIds would
 * otherwise both train on GPUs 0..N-1 without a word.
 */
export function claimGpus(dockerHost: string, cluster: string, plan: ClusterPlan): PropertyError | undefined {
    const onHost = claims.get(dockerHost) ?? new Map<string, { cluster: string; sharing: boolean }>();
    const sharing = plan.spec.gpuSharing;
    const wanted = [...new Set(plan.nodes.flatMap((n) => n.gpuIds))];
    const taken = wanted.filter((id) => {
        const holder = onHost.get(id);
        return holder !== undefined && holder.cluster !== cluster && !(holder.sharing && sharing);
    });
    if (taken.length > 0) {
        const holders = [...new Set(taken.map((id) => onHost.get(id)!.cluster))].map((c) => `"${c}"`).join(", ");
        return {
            propertyPath: "gpuIds",
            reason:
                `gpuIds: GPU(s) ${taken.join(", ")} are already bound to DdpCluster ${holders} in this program; give ` +
                `"${cluster}" other gpuIds, or set gpuSharing to true on both clusters, got ${JSON.stringify(wanted)}`,
        };
    }
    for (const id of wanted) onHost.set(id, { cluster, sharing });
    claims.set(dockerHost, onHost);
    return undefined;
}

/** Forgets every claim (a new program run: tests declare many programs in one process). */
export function resetGpuClaims(): void {
    claims.clear();
}
