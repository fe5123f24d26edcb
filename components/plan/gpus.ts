/**
 * Gives each node its GPUs: node r gets pool[r*g .. r*g+g-1], wrapping around the pool when it is shorter
 * (sharing, round-robin: with one GPU, every node gets it). The pool defaults to ids 0..nodes*g-1.
 * Callers validate beforehand (`gpuPoolProblem`) that the pool is large enough or sharing is allowed.
 */
export function allocateGpus(nodes: number, gpusPerNode: number, pool?: string[]): string[][] {
    const ids = pool ?? Array.from({ length: nodes * gpusPerNode }, (_, i) => String(i));
    return Array.from({ length: nodes }, (_, rank) =>
        Array.from({ length: gpusPerNode }, (_, i) => ids[(rank * gpusPerNode + i) % ids.length]),
    );
}

/**
 * Why a pool cannot serve the cluster, or undefined. A node never gets one GPU twice (NCCL refuses a GPU
 * duplicated within a host); nodes share GPUs only when `sharing` allows it (each node is a host of its own,
 * so NCCL accepts two nodes on one GPU).
 */
export function gpuPoolProblem(
    nodes: number,
    gpusPerNode: number,
    pool: string[],
    sharing: boolean,
    poolText = `lists ${pool.length} GPU(s)`,
): string | undefined {
    if (gpusPerNode === 0) return undefined;
    const needed = nodes * gpusPerNode;
    if (gpusPerNode > pool.length) {
        return (
            `${poolText}, fewer than gpusPerNode (${gpusPerNode}): a node cannot use one GPU twice ` +
            `(NCCL refuses a GPU duplicated within a host)`
        );
    }
    if (needed > pool.length && !sharing) {
        return (
            `${poolText} but nodes (${nodes}) x gpusPerNode (${gpusPerNode}) needs ${needed}; ` +
            `set gpuSharing to true to share them between nodes round-robin`
        );
    }
    return undefined;
}
