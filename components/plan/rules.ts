/**
 * The checks that need more than one setting, or the machine: each a named rule that reads the fields already read on
 * their own (validate.ts) and reports through the same FieldReader, so that every problem is listed at once. A rule
 * may complete what it checked (the GPUs of `gpuIds: ["auto"]`, a local image's id) in `found`.
 */
import * as path from "path";
import { FieldReader, RawClusterArgs } from "./fieldReader";
import { Fields, Found, ResolveOptions } from "./fields";
import { gpuPoolProblem } from "./gpus";
import { AUTO_GPU_POOL } from "./gpuPool";
import { LINK_KEYS } from "./interconnect";
import { scriptArgsSetting, torchrunArgsProblems } from "./torchrunArgs";

export interface RuleContext {
    read: FieldReader;
    raw: RawClusterArgs;
    baseDir: string;
    options: ResolveOptions;
    found: Found;
}

export interface Rule {
    name: string;
    check(fields: Fields, context: RuleContext): void;
}

/** A GPU as nvidia-smi and Docker's device requests name it: an index, or a GPU / MIG UUID. */
export const GPU_ID = /^(\d+|GPU-[0-9A-Fa-f-]+|MIG-[0-9A-Za-z/-]+)$/;
const USER_SPEC = /^([a-z_][a-z0-9_.-]*|\d+)(:([a-z_][a-z0-9_.-]*|\d+))?$/i;
/** [registry[:port]/]path[:tag][@digest], lower-case path components, as Docker's reference grammar has it. */
const IMAGE_REFERENCE =
    /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const FLAG = /^--?[A-Za-z][A-Za-z0-9_-]*$/;

/** System folders that never belong in a node: the whole host, its config, kernel interfaces, Docker itself. */
const SYSTEM_PREFIXES = ["/etc", "/proc", "/sys", "/dev", "/boot", "/run", "/var/run", "/var/lib/docker"];
const SYSTEM_EXACT = ["/", "/root", "/home", "/usr", "/var", "/bin", "/sbin", "/lib"];

/** How to name a system path, or undefined when the path is an ordinary folder. */
export function systemPath(absolute: string): string | undefined {
    if (SYSTEM_EXACT.includes(absolute)) return absolute === "/" ? "the host's root folder /" : `the system folder ${absolute}`;
    const prefix = SYSTEM_PREFIXES.find((p) => absolute === p || absolute.startsWith(`${p}/`));
    if (prefix === undefined) return undefined;
    return absolute.endsWith("docker.sock") ? `the Docker socket ${absolute}` : `inside the system folder ${prefix}`;
}

const minNodesWithinNodes: Rule = {
    name: "minNodes within nodes",
    check(f, { read, raw }) {
        if (raw.minNodes !== undefined && f.minNodes > f.nodes) read.fail("minNodes", `must not exceed nodes (${f.nodes})`);
    },
};

const jitterNeedsLatency: Rule = {
    name: "a jitter needs a latency",
    check(f, { read, raw }) {
        const link = f.interconnect.link;
        if (link.jitterMs === undefined || link.latencyMs !== undefined) return;
        if (raw[LINK_KEYS.jitterMs] !== undefined) {
            read.fail(LINK_KEYS.jitterMs, `needs a latency to vary: set ${LINK_KEYS.latencyMs} above 0`);
        } else {
            read.fail(
                LINK_KEYS.latencyMs,
                `cannot be 0 while interconnect "${f.interconnect.preset}" varies the latency by ${link.jitterMs} ms: ` +
                    `set ${LINK_KEYS.jitterMs} to 0 too`,
            );
        }
    },
};

const procsWithinGpus: Rule = {
    name: "procsPerNode within gpusPerNode",
    check(f, { read, raw }) {
        if (f.gpusPerNode > 0 && raw.procsPerNode !== undefined && f.procsPerNode > f.gpusPerNode) {
            read.fail("procsPerNode", `must not exceed gpusPerNode (${f.gpusPerNode}): NCCL refuses two ranks on one GPU of a node`);
        }
    },
};

const gpuRuntime: Rule = {
    name: "GPUs need the nvidia runtime",
    check(f, { read, options, found }) {
        found.runtimeProblem = f.gpusPerNode > 0 ? options.gpuRuntimeProblem?.() : undefined;
        if (found.runtimeProblem === undefined) return;
        read.fail(
            "gpusPerNode",
            `asks for GPUs, but ${found.runtimeProblem}; or train on CPU: set gpusPerNode to 0 (the cpu stack: STACK=cpu npm run up)`,
        );
    },
};

const autoGpuPool: Rule = {
    name: `gpuIds ["${AUTO_GPU_POOL}"] reads this machine's GPUs`,
    check(f, { read, options, found }) {
        // Without the nvidia runtime the pool cannot be read either: the error above already says why, once.
        if (!f.autoPool || f.gpusPerNode === 0 || found.runtimeProblem !== undefined) return;
        const probe = options.localGpus?.() ?? {
            ok: false,
            reason: "this caller cannot read the machine's GPUs (the stack program and DdpCluster can)",
        };
        found.autoProbe = probe;
        if (probe.ok) f.gpuIds = probe.ids;
        else read.fail("gpuIds", `is ["${AUTO_GPU_POOL}"] (this machine's GPUs), but ${probe.reason}`);
    },
};

const gpuPool: Rule = {
    name: "enough GPUs for the nodes",
    check(f, { read, found }) {
        if (f.gpuIds === undefined) {
            if (f.gpuSharing && f.gpusPerNode > 0 && !f.autoPool) {
                read.fail("gpuSharing", `needs gpuIds, the GPUs to share (or ["${AUTO_GPU_POOL}"] for this machine's)`);
            }
            return;
        }
        const probe = found.autoProbe;
        const busy = f.autoPool && probe?.ok ? probe.busy ?? [] : [];
        const held = busy.length > 0 ? `; ${busy.length} more (${busy.join(", ")}) are held by running ddpsim containers` : "";
        const poolText = f.autoPool
            ? `is ["${AUTO_GPU_POOL}"], and this machine has ${f.gpuIds.length} free GPU(s) (${f.gpuIds.join(", ")})${held}`
            : undefined;
        const problem = gpuPoolProblem(f.nodes, f.gpusPerNode, f.gpuIds, f.gpuSharing, poolText);
        if (problem !== undefined) read.fail("gpuIds", problem);
    },
};

const volumeNames: Rule = {
    name: "volume names",
    check(f, { read }) {
        for (const [key, name] of [["checkpointVolumeName", f.checkpointVolumeName], ["datasetVolume", f.datasetVolume]] as const) {
            if (name !== undefined && !VOLUME_NAME.test(name)) read.fail(key, "must be a Docker volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)");
        }
    },
};

const oneDataset: Rule = {
    name: "one dataset at /data",
    check(f, { read }) {
        if (f.datasetDir !== undefined && f.datasetVolume !== undefined) {
            read.fail("datasetVolume", `cannot be set together with datasetDir (${JSON.stringify(f.datasetDir)}): /data holds one of them`);
        }
    },
};

const userSpec: Rule = {
    name: "a user Docker takes",
    check(f, { read }) {
        if (f.user !== undefined && !USER_SPEC.test(f.user)) read.fail("user", "must be a user as Docker takes it: uid, uid:gid, name or name:group");
    },
};

const hostFolders: Rule = {
    name: "host folders: no system folder, present on the Docker host",
    check(f, { read, baseDir, options }) {
        const folders = [["codeDir", f.codeDir], ["datasetDir", f.datasetDir], ["imageContext", f.imageMode === "build" ? f.imageContext : undefined]] as const;
        for (const [key, dir] of folders) {
            if (dir === undefined) continue;
            const absolute = path.resolve(baseDir, dir);
            const where = systemPath(absolute);
            if (where !== undefined && !f.allowSystemPaths && key !== "imageContext") {
                read.fail(key, `must not be ${where}, which would hand the host's system files to every node (set allowSystemPaths to true if you mean it)`);
            } else if (options.pathExists !== undefined && !options.pathExists(absolute)) {
                read.fail(key, `must be a folder on the Docker host, and ${absolute} does not exist`);
            }
        }
    },
};

const imageReference: Rule = {
    name: "an image reference, and a local image the host has",
    check(f, { read, options, found }) {
        if (!IMAGE_REFERENCE.test(f.image)) {
            read.fail("image", "must be an image reference Docker accepts, like name, name:tag, registry/name:tag or name@sha256:digest");
        } else if (f.imageMode === "local" && options.localImage !== undefined) {
            const local = options.localImage(f.image);
            if (local?.ok === false) read.fail("image", local.reason);
            else if (local?.ok) found.imageId = local.id;
        }
    },
};

const scriptOrModule: Rule = {
    name: "a script file or a module, not both",
    check(f, { read, raw }) {
        if (f.script.startsWith("-")) read.fail("script", "must be a file path, not a flag (torchrun flags go in torchrunArgs)");
        if (f.module !== undefined && !MODULE_NAME.test(f.module)) read.fail("module", "must be a dotted Python module name (pkg.train)");
        if (f.module !== undefined && raw.script !== undefined) {
            read.fail("module", `cannot be set together with script (${JSON.stringify(f.script)}): torchrun starts one of them`);
        }
    },
};

const torchrunFlagsOwned: Rule = {
    name: "no torchrun flag the cluster sets",
    check(f, { read }) {
        for (const problem of torchrunArgsProblems(f.torchrunArgs)) read.fail("torchrunArgs", `must not hold ${problem}`);
    },
};

const directoryFlags: Rule = {
    name: "directory flags: flags, not also in scriptArgs, a dataset for dataDirArg",
    check(f, { read }) {
        for (const [key, flag] of [["checkpointDirArg", f.checkpointDirArg], ["dataDirArg", f.dataDirArg]] as const) {
            if (flag === undefined) continue;
            if (!FLAG.test(flag)) {
                read.fail(key, "must be a flag such as --save-dir");
                continue;
            }
            const clash = scriptArgsSetting(flag, f.scriptArgs);
            if (clash.length > 0) read.fail("scriptArgs", `must not set ${flag} (${clash.map((t) => JSON.stringify(t)).join(", ")}): ${key} passes it`);
        }
        if (f.dataDirArg !== undefined && f.datasetDir === undefined && f.datasetVolume === undefined) {
            read.fail("dataDirArg", "needs a dataset to point at: set datasetDir or datasetVolume");
        }
    },
};

/** The rules, in the order their errors are listed. */
export const CROSS_FIELD_RULES: readonly Rule[] = [
    minNodesWithinNodes,
    jitterNeedsLatency,
    procsWithinGpus,
    gpuRuntime,
    autoGpuPool,
    gpuPool,
    volumeNames,
    oneDataset,
    userSpec,
    hostFolders,
    imageReference,
    scriptOrModule,
    torchrunFlagsOwned,
    directoryFlags,
];
