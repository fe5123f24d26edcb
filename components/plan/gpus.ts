/**
 * Gives each node its own GPUs: node r gets pool[r*g .. r*g+g-1]. The pool defaults to ids 0..nodes*g-1.
 * Callers validate beforehand that the pool is large enough.
 */
export function allocateGpus(nodes: number, gpusPerNode: number, pool?: string[]): string[][] {
    const ids = pool ?? Array.from({ length: nodes * gpusPerNode }, (_, i) => String(i));
    return Array.from({ length: nodes }, (_, rank) => ids.slice(rank * gpusPerNode, (rank + 1) * gpusPerNode));
}
