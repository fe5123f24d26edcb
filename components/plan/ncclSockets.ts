/**
 * NCCL's socket transport between simulated nodes. Pure.
 *
 * Every node has a hostname of its own, so NCCL treats the nodes as separate hosts and moves data between them
 * over TCP sockets (NET/Socket) instead of NVLink or PCIe peer-to-peer. NCCL's socket defaults (1 helper thread and
 * 1 socket per connection, 2 channels) are sized for a real NIC, and leave the host's own path (veth + bridge,
 * copied by the CPUs) far below what it can carry: measured on 2x H200 (32 CPUs, NCCL 2.28.9), the all-reduce bus
 * bandwidth at 256 MiB between two simulated nodes was about 22 Gbit/s with the defaults, 65-75 Gbit/s with 1-4
 * sockets x 2-4 threads, and 102-117 Gbit/s with 2 sockets x 4 threads on 4 channels (docs/performance-gpu.md;
 * training/gpu_node_bench.sh measures them). More threads than that were slower (2 x 8 threads: 60 Gbit/s;
 * 8 x 8 and 4 x 16, measured earlier: below the defaults).
 *
 * The gain needs CPUs: with every process of both nodes pinned to 16 CPUs these settings still gave 2.3x (53 vs 23
 * Gbit/s, medians of two alternating rounds), on 8 CPUs they were slower than the defaults (20 vs 23). So the node
 * agent applies them only when the node sees at least MIN_CPUS_FOR_TUNED_SOCKETS CPUs (its CPU affinity, which is
 * what NCCL's threads can use), and only to variables the node's environment does not set already: `env` wins.
 *
 * Only GPU nodes get these: CPU nodes use gloo, which has no such settings. Inside a node (gpusPerNode > 1) NCCL
 * keeps NVLink/P2P between its GPUs: the socket settings only apply to the network transport, and
 * NCCL_MIN_NCHANNELS is a floor that NVLink rings (usually 8 or more channels) already exceed.
 */

/** NCCL refuses more than this many sockets per connection (NCCL_NSOCKS_PERTHREAD x NCCL_SOCKET_NTHREADS). */
export const NCCL_MAX_SOCKETS_PER_CONNECTION = 64;

/** What every GPU node gets. Values are strings, as environment variables are. */
export const NCCL_SOCKET_SETTINGS = {
    /** Sockets each helper thread drives. */
    NCCL_NSOCKS_PERTHREAD: "2",
    /** Helper threads per connection (NCCL allows 1..16). */
    NCCL_SOCKET_NTHREADS: "4",
    /** Channels of every collective: each one is a connection between neighbouring nodes with its own threads. */
    NCCL_MIN_NCHANNELS: "4",
} as const;

/** Below this many CPUs per node the tuned settings were slower than NCCL's own (measured on 8 and 16). */
export const MIN_CPUS_FOR_TUNED_SOCKETS = 16;

/** What a node agent applies (see training/node_agent.py): the settings, and the CPUs a node needs for them. */
export interface NcclSocketDefaults {
    env: Record<string, string>;
    minCpus: number;
}

/** The NCCL socket defaults for a node with `gpusPerNode` GPUs; undefined for a CPU node. A new object each call. */
export function ncclSocketDefaults(gpusPerNode: number): NcclSocketDefaults | undefined {
    return gpusPerNode > 0 ? { env: { ...NCCL_SOCKET_SETTINGS }, minCpus: MIN_CPUS_FOR_TUNED_SOCKETS } : undefined;
}
