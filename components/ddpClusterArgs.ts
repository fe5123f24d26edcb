import { DdpCommonArgs } from "./ddpCommonArgs";

/**
 * Arguments of a {@link DdpCluster}: the common ones and those of a Docker host. Every field is optional; see each
 * default. The descriptions are the settings table's (components/plan/settings.ts): a test holds them to it.
 */
export interface DdpClusterArgs extends DdpCommonArgs {
    /**
     * Host GPU ids or UUIDs handed out gpusPerNode per node, in order (default 0..nodes*gpusPerNode-1); [auto] reads
     * this machine's GPUs with nvidia-smi -L.
     * @default ["0", ..., nodes*gpusPerNode-1]
     */
    gpuIds?: string[];
    /**
     * Let nodes share GPUs round-robin when gpuIds has fewer than nodes x gpusPerNode (a node never gets one GPU
     * twice).
     * @default false
     */
    gpuSharing?: boolean;
    /** Dockerfile folder for imageMode build. @default this package's training/ */
    imageContext?: string;
    /** Dockerfile path inside imageContext. @default "Dockerfile" */
    imageDockerfile?: string;
    /**
     * Host folder of the training code, at /code in every node, read-only and on PYTHONPATH (default this project's
     * training folder; not on Kubernetes, where the code is in the image).
     * @default this package's training/
     */
    codeDir?: string;
    /**
     * How the code reaches the nodes - mount (codeDir bind-mounted read-only; edit and rerun) or image (copied into an
     * image layer tagged by its content, so previews from any checkout agree).
     * @default "mount"
     */
    codeMode?: string;
    /** Host folder mounted read-only at /data (DDPSIM_DATA_DIR). @default none */
    datasetDir?: string;
    /** Allow system folders (/, /etc, /proc, the Docker socket, ...) as codeDir or datasetDir. @default false */
    allowSystemPaths?: boolean;
    /**
     * The Docker host (unix://, ssh://, tcp://) the cluster is created on and whose GPUs [auto] reads (default
     * docker:host, else DOCKER_HOST).
     * @default the `docker:host` config, else DOCKER_HOST
     */
    dockerHost?: string;
    /**
     * Elastic training, the fewest nodes the run continues with (torchrun --nnodes minNodes:nodes); defaults to nodes
     * (not elastic).
     * @default nodes (not elastic)
     */
    minNodes?: number;
    /**
     * Run the script through ddpsim check's launcher (training/check_launcher.py, runpy, the script unchanged), which
     * prints each rank's checksums of its DistributedDataParallel modules at the end; set by ddpsim check
     * (docs/check.md).
     * @default false
     */
    checkHooks?: boolean;
    /**
     * Link between nodes, shaped with tc in each node - ideal (unshaped), 100mbit, 1gbe, 10gbe, 25gbe, 100gbe
     * (bandwidth only), congested, wan (also latency, jitter, loss; need netem).
     * @default "ideal"
     */
    interconnect?: string;
    /**
     * Egress bandwidth of each node in Mbit/s (tc tbf), replacing the profile's; 0 removes the limit.
     * @default the profile's
     */
    linkBandwidthMbit?: number;
    /**
     * Delay added to each packet a node sends, in ms (one way; tc netem), replacing the profile's.
     * @default the profile's
     */
    linkLatencyMs?: number;
    /**
     * +/- variation of that delay, in ms (needs netem and a latency), replacing the profile's.
     * @default the profile's
     */
    linkJitterMs?: number;
    /** Packets each node drops, in percent (needs netem), replacing the profile's. @default the profile's */
    linkLossPercent?: number;
}
