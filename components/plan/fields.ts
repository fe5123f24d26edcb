/** The shapes the check of a cluster's arguments works with (validate.ts reads the fields, rules.ts checks them). */
import { LocalGpuProbe } from "./gpuPool";
import { ClusterSpec } from "./types";

/** What `resolveClusterSpec` may read beyond the arguments. */
export interface ResolveOptions {
    /**
     * Reads this machine's GPUs for `gpuIds: ["auto"]` (components/hostProbe.ts). Without it, "auto" is
     * refused: pure callers cannot read the machine.
     */
    localGpus?: () => LocalGpuProbe;
    /** Whether a host folder exists, when the Docker host is this machine; without it folders are not checked. */
    pathExists?: (absolutePath: string) => boolean;
    /**
     * Why the Docker host cannot run GPU containers (no nvidia runtime), or undefined when it can or cannot be asked.
     */
    gpuRuntimeProblem?: () => string | undefined;
    /**
     * A local image's id (imageMode "local"), or why it cannot be used; undefined when the engine cannot be asked.
     * Without it, images are referenced by name.
     */
    localImage?: (name: string) => { ok: true; id: string } | { ok: false; reason: string } | undefined;
    /** A content hash of the code folder (codeMode "mount"), so that a code change is a change the nodes show. */
    codeHash?: (absoluteDir: string) => string;
}

/**
 * Every setting read on its own: its kind, default and range from the settings table (validate.ts). The spec's
 * fields, less what is resolved from the host (image id, code hash), with the folders not yet made absolute.
 */
export type Fields = Omit<ClusterSpec, "imageId" | "codeHash" | "imageContext" | "codeDir"> & {
    /** `gpuIds: ["auto"]`: this machine's GPUs, read by a rule. */
    autoPool: boolean;
    imageContext?: string;
    codeDir?: string;
};

/** What the rules find out while they check, for the spec. */
export interface Found {
    /** Why the Docker host cannot run GPU containers, when GPUs are asked for. */
    runtimeProblem?: string;
    /** The local GPU pool, for `gpuIds: ["auto"]`. */
    autoProbe?: LocalGpuProbe;
    /** A local image's id. */
    imageId?: string;
}
