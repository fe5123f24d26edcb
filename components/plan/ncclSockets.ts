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
 * The rule depends only on whether a node has GPUs: the plan does not know the Docker host's CPU count, and the gain
 * needs CPUs (with both nodes on 8 CPUs it was gone: 22 vs 26 Gbit/s). Users of small hosts override it in `env`.
 *
 * Only GPU nodes get these: CPU nodes use gloo, which has no such settings. The plan puts them before the user's
 * `env`, so any of them can be overridden there. Inside a node (gpusPerNode > 1) NCCL keeps NVLink/P2P between
 * its GPUs: the socket settings only apply to the network transport, and NCCL_MIN_NCHANNELS is a floor that NVLink
 * rings (usually 8 or more channels) already exceed.
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

/**
 * The NCCL environment of a node with `gpusPerNode` GPUs: NCCL_SOCKET_SETTINGS for a GPU node, nothing for a CPU
 * node. A new object each call, for the caller to merge (user values spread after it win).
 */
export function ncclSocketEnv(gpusPerNode: number): Record<string, string> {
    return gpusPerNode > 0 ? { ...NCCL_SOCKET_SETTINGS } : {};
}
