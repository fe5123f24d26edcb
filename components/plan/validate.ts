import * as path from "path";
import { DEFAULTS, LIMITS } from "./defaults";
import { gpuPoolProblem } from "./gpus";
import { AUTO_GPU_POOL, LocalGpuProbe } from "./gpuPool";
import { INTERCONNECT_PRESET_NAMES, InterconnectPreset, LINK_KEYS, LinkSpec, resolveInterconnect } from "./interconnect";
import { scriptArgsSetting, torchrunArgsProblems } from "./torchrunArgs";
import { ClusterSpec, CODE_MODES, CodeMode, IMAGE_MODES, ImageMode, PropertyError } from "./types";

/**
 * The arguments as they arrive, from TypeScript, another Pulumi language or stack config: anything may be
 * missing or of the wrong type. `image` may be left undefined by a caller that passes it as a Pulumi Output.
 */
export type RawClusterArgs = { [key: string]: unknown };

/** What `resolveClusterSpec` returns: a spec, or every problem found. */
export type SpecResult = { ok: true; spec: ClusterSpec } | { ok: false; errors: PropertyError[] };

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

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A GPU as nvidia-smi and Docker's device requests name it: an index, or a GPU / MIG UUID. */
const GPU_ID = /^(\d+|GPU-[0-9A-Fa-f-]+|MIG-[0-9A-Za-z/-]+)$/;
const USER_SPEC = /^([a-z_][a-z0-9_.-]*|\d+)(:([a-z_][a-z0-9_.-]*|\d+))?$/i;
/** [registry[:port]/]path[:tag][@digest], lower-case path components, as Docker's reference grammar has it. */
const IMAGE_REFERENCE =
    /^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$/;

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

/** A value as an error message quotes it. */
export function show(value: unknown): string {
    if (typeof value === "string") return JSON.stringify(value);
    if (value === undefined) return "undefined";
    try {
        return JSON.stringify(value) ?? String(value);
    } catch {
        return String(value);
    }
}

/** Collects errors while reading fields, so that all problems are reported at once. */
export class FieldReader {
    readonly errors: PropertyError[] = [];

    constructor(private readonly raw: RawClusterArgs) {}

    fail(key: string, reason: string): void {
        this.errors.push({ propertyPath: key, reason: `${key} ${reason}, got ${show(this.raw[key])}` });
    }

    integer(key: string, fallback: number, min: number, max: number): number {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            this.fail(key, `must be a whole number from ${min} to ${max}`);
            return fallback;
        }
        return value;
    }

    boolean(key: string, fallback: boolean): boolean {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "boolean") {
            this.fail(key, "must be true or false");
            return fallback;
        }
        return value;
    }

    nonEmptyString(key: string, fallback: string | undefined): string | undefined {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "string" || value.trim() === "") {
            this.fail(key, "must be a non-empty string");
            return fallback;
        }
        return value;
    }

    stringList(key: string, unique: boolean): string[] | undefined {
        const value = this.raw[key];
        if (value === undefined) return undefined;
        if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item.trim() === "")) {
            this.fail(key, "must be a list of non-empty strings");
            return undefined;
        }
        if (unique && new Set(value).size !== value.length) {
            this.fail(key, "must not list the same entry twice");
            return undefined;
        }
        return value as string[];
    }

    /** A list of whole numbers from min to max, each at most once. */
    integerList(key: string, fallback: readonly number[], min: number, max: number): number[] {
        const value = this.raw[key];
        if (value === undefined) return [...fallback];
        const valid =
            Array.isArray(value) &&
            value.every((v) => typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) &&
            new Set(value).size === value.length;
        if (!valid) {
            this.fail(key, `must be a list of distinct whole numbers from ${min} to ${max}`);
            return [...fallback];
        }
        return value as number[];
    }

    /** A number (`whole`: an integer) from min to max, or undefined when absent. */
    optionalNumber(key: string, min: number, max: number, whole: boolean): number | undefined {
        const value = this.raw[key];
        if (value === undefined) return undefined;
        const valid = typeof value === "number" && Number.isFinite(value) && (!whole || Number.isInteger(value));
        if (!valid || value < min || value > max) {
            this.fail(key, `must be a ${whole ? "whole number" : "number"} from ${min} to ${max}`);
            return undefined;
        }
        return value;
    }

    oneOf<T extends string>(key: string, fallback: T, allowed: readonly T[]): T {
        const value = this.raw[key];
        if (value === undefined) return fallback;
        if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
            this.fail(key, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
            return fallback;
        }
        return value as T;
    }

    envMap(key: string): Record<string, string> {
        const value = this.raw[key];
        if (value === undefined) return {};
        const isMap = typeof value === "object" && value !== null && !Array.isArray(value);
        const entries = isMap ? Object.entries(value as object) : [];
        const valid = isMap && entries.every(([name, v]) => ENV_NAME.test(name) && typeof v === "string");
        if (!valid) {
            this.fail(key, "must map variable names (letters, digits, _) to string values");
            return {};
        }
        return Object.fromEntries(entries) as Record<string, string>;
    }
}

/** The folder holding this package's training program; the default code folder. */
export function packageTrainingDir(): string {
    // components/plan (ts-node) or bin/components/plan (compiled): the package root is two or three levels up.
    const twoUp = path.resolve(__dirname, "..", "..");
    const root = path.basename(twoUp) === "bin" ? path.dirname(twoUp) : twoUp;
    return path.join(root, "training");
}

/**
 * Applies defaults and checks every field. Relative folders are resolved against `baseDir` (the program's
 * working directory). Never throws: returns the spec or every problem found.
 */
export function resolveClusterSpec(
    raw: RawClusterArgs,
    baseDir: string = process.cwd(),
    options: ResolveOptions = {},
): SpecResult {
    const read = new FieldReader(raw);
    const nodes = read.integer("nodes", DEFAULTS.nodes, 1, LIMITS.maxNodes);
    const gpusPerNode = read.integer("gpusPerNode", DEFAULTS.gpusPerNode, 0, LIMITS.maxGpusPerNode);
    const autoPool =
        raw.gpuIds === AUTO_GPU_POOL ||
        (Array.isArray(raw.gpuIds) && raw.gpuIds.length === 1 && raw.gpuIds[0] === AUTO_GPU_POOL);
    let gpuIds = autoPool ? undefined : read.stringList("gpuIds", true);
    if (gpuIds?.includes(AUTO_GPU_POOL)) {
        read.fail("gpuIds", `must be ["${AUTO_GPU_POOL}"] alone (this machine's GPUs) or a list of GPU ids`);
        gpuIds = undefined;
    } else if (gpuIds?.some((id) => !GPU_ID.test(id))) {
        const bad = gpuIds.filter((id) => !GPU_ID.test(id));
        read.fail("gpuIds", `must list GPU indexes (0, 1, ...) or UUIDs (GPU-..., MIG-...), not ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
        gpuIds = undefined;
    }
    const gpuSharing = read.boolean("gpuSharing", DEFAULTS.gpuSharing);
    const procsPerNode = read.integer("procsPerNode", Math.max(gpusPerNode, 1), 1, LIMITS.maxGpusPerNode);
    const imageMode: ImageMode = read.oneOf("imageMode", DEFAULTS.imageMode, IMAGE_MODES);
    const codeMode: CodeMode = read.oneOf("codeMode", DEFAULTS.codeMode, CODE_MODES);
    const image = read.nonEmptyString("image", DEFAULTS.image) ?? DEFAULTS.image;
    const imageContext = read.nonEmptyString("imageContext", undefined);
    const imageDockerfile = read.nonEmptyString("imageDockerfile", DEFAULTS.imageDockerfile) ?? DEFAULTS.imageDockerfile;
    const codeDir = read.nonEmptyString("codeDir", undefined);
    const script = read.nonEmptyString("script", DEFAULTS.script) ?? DEFAULTS.script;
    const module = read.nonEmptyString("module", undefined);
    const scriptArgs = read.stringList("scriptArgs", false) ?? [];
    const torchrunArgs = read.stringList("torchrunArgs", false) ?? [];
    const checkpointDirArg = read.nonEmptyString("checkpointDirArg", undefined);
    const dataDirArg = read.nonEmptyString("dataDirArg", undefined);
    const failFastExitCodes = read.integerList("failFastExitCodes", DEFAULTS.failFastExitCodes, 1, 255);
    const failFastRepeats = read.integer("failFastRepeats", DEFAULTS.failFastRepeats, 0, 100);
    const datasetDir = read.nonEmptyString("datasetDir", undefined);
    const datasetVolume = read.nonEmptyString("datasetVolume", undefined);
    const checkpointVolumeName = read.nonEmptyString("checkpointVolumeName", undefined);
    const owner = read.nonEmptyString("owner", undefined);
    const user = read.nonEmptyString("user", undefined);
    const allowSystemPaths = read.boolean("allowSystemPaths", DEFAULTS.allowSystemPaths);
    const retainCheckpoints = read.boolean("retainCheckpoints", DEFAULTS.retainCheckpoints);
    const masterPort = read.integer("masterPort", DEFAULTS.masterPort, 1, 65535);
    const maxRestarts = read.integer("maxRestarts", DEFAULTS.maxRestarts, 0, 100);
    const restartRetries = read.integer("restartRetries", DEFAULTS.restartRetries, 0, 100);
    const shmSizeMb = read.integer("shmSizeMb", DEFAULTS.shmSizeMb, LIMITS.minShmSizeMb, 1024 * 1024);
    const stopGraceSeconds = read.integer("stopGraceSeconds", DEFAULTS.stopGraceSeconds, 0, 3600);
    const collectiveTimeoutSeconds = read.integer("collectiveTimeoutSeconds", DEFAULTS.collectiveTimeoutSeconds, 5, 86_400);
    const minNodes = read.integer("minNodes", nodes, 1, LIMITS.maxNodes);
    if (raw.minNodes !== undefined && minNodes > nodes) read.fail("minNodes", `must not exceed nodes (${nodes})`);
    const checkHooks = read.boolean("checkHooks", DEFAULTS.checkHooks);
    const env = read.envMap("env");
    const preset: InterconnectPreset = read.oneOf("interconnect", DEFAULTS.interconnect, INTERCONNECT_PRESET_NAMES);
    const overrides: LinkSpec = {
        bandwidthMbit: read.optionalNumber(LINK_KEYS.bandwidthMbit, 0, 10_000_000, true),
        latencyMs: read.optionalNumber(LINK_KEYS.latencyMs, 0, 60_000, false),
        jitterMs: read.optionalNumber(LINK_KEYS.jitterMs, 0, 60_000, false),
        lossPercent: read.optionalNumber(LINK_KEYS.lossPercent, 0, 100, false),
    };
    const interconnect = resolveInterconnect(preset, overrides);
    if (interconnect.link.jitterMs !== undefined && interconnect.link.latencyMs === undefined) {
        if (raw[LINK_KEYS.jitterMs] !== undefined) {
            read.fail(LINK_KEYS.jitterMs, `needs a latency to vary: set ${LINK_KEYS.latencyMs} above 0`);
        } else {
            read.fail(
                LINK_KEYS.latencyMs,
                `cannot be 0 while interconnect "${preset}" varies the latency by ${interconnect.link.jitterMs} ms: ` +
                    `set ${LINK_KEYS.jitterMs} to 0 too`,
            );
        }
    }

    if (gpusPerNode > 0 && raw.procsPerNode !== undefined && procsPerNode > gpusPerNode) {
        read.fail("procsPerNode", `must not exceed gpusPerNode (${gpusPerNode}): NCCL refuses two ranks on one GPU of a node`);
    }
    const runtimeProblem = gpusPerNode > 0 ? options.gpuRuntimeProblem?.() : undefined;
    if (runtimeProblem !== undefined) {
        read.fail(
            "gpusPerNode",
            `asks for GPUs, but ${runtimeProblem}; or train on CPU: set gpusPerNode to 0 (the cpu stack: STACK=cpu npm run up)`,
        );
    }
    let autoProbe: LocalGpuProbe | undefined;
    // Without the nvidia runtime the pool cannot be read either: the error above already says why, once.
    if (autoPool && gpusPerNode > 0 && runtimeProblem === undefined) {
        const probe = options.localGpus?.() ?? {
            ok: false,
            reason: "this caller cannot read the machine's GPUs (the stack program and DdpCluster can)",
        };
        autoProbe = probe;
        if (probe.ok) gpuIds = probe.ids;
        else read.fail("gpuIds", `is ["${AUTO_GPU_POOL}"] (this machine's GPUs), but ${probe.reason}`);
    }
    if (gpuIds !== undefined) {
        const busy = autoPool && autoProbe?.ok ? autoProbe.busy ?? [] : [];
        const held = busy.length > 0 ? `; ${busy.length} more (${busy.join(", ")}) are held by running ddpsim containers` : "";
        const poolText = autoPool
            ? `is ["${AUTO_GPU_POOL}"], and this machine has ${gpuIds.length} free GPU(s) (${gpuIds.join(", ")})${held}`
            : undefined;
        const problem = gpuPoolProblem(nodes, gpusPerNode, gpuIds, gpuSharing, poolText);
        if (problem !== undefined) read.fail("gpuIds", problem);
    } else if (gpuSharing && gpusPerNode > 0 && !autoPool) {
        read.fail("gpuSharing", `needs gpuIds, the GPUs to share (or ["${AUTO_GPU_POOL}"] for this machine's)`);
    }
    for (const [key, name] of [["checkpointVolumeName", checkpointVolumeName], ["datasetVolume", datasetVolume]]) {
        if (name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
            read.fail(key as string, "must be a Docker volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)");
        }
    }
    if (datasetDir !== undefined && datasetVolume !== undefined) {
        read.fail("datasetVolume", `cannot be set together with datasetDir (${JSON.stringify(datasetDir)}): /data holds one of them`);
    }
    if (user !== undefined && !USER_SPEC.test(user)) {
        read.fail("user", "must be a user as Docker takes it: uid, uid:gid, name or name:group");
    }
    const folders = [["codeDir", codeDir], ["datasetDir", datasetDir], ["imageContext", imageMode === "build" ? imageContext : undefined]] as const;
    for (const [key, dir] of folders) {
        if (dir === undefined) continue;
        const where = systemPath(path.resolve(baseDir, dir));
        if (where !== undefined && !allowSystemPaths && key !== "imageContext") {
            read.fail(key, `must not be ${where}, which would hand the host's system files to every node (set allowSystemPaths to true if you mean it)`);
        } else if (options.pathExists !== undefined && !options.pathExists(path.resolve(baseDir, dir))) {
            read.fail(key, `must be a folder on the Docker host, and ${path.resolve(baseDir, dir)} does not exist`);
        }
    }
    let imageId: string | undefined;
    if (!IMAGE_REFERENCE.test(image)) {
        read.fail("image", "must be an image reference Docker accepts, like name, name:tag, registry/name:tag or name@sha256:digest");
    } else if (imageMode === "local" && options.localImage !== undefined) {
        const found = options.localImage(image);
        if (found?.ok === false) read.fail("image", found.reason);
        else if (found?.ok) imageId = found.id;
    }
    if (script.startsWith("-")) read.fail("script", "must be a file path, not a flag (torchrun flags go in torchrunArgs)");
    if (module !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(module)) {
        read.fail("module", "must be a dotted Python module name (pkg.train)");
    }
    // The real CLI passes Pulumi.yaml's default script along with a stack's module: only another script clashes.
    if (module !== undefined && raw.script !== undefined && raw.script !== DEFAULTS.script) {
        read.fail("module", `cannot be set together with script (${JSON.stringify(script)}): torchrun starts one of them`);
    }
    for (const problem of torchrunArgsProblems(torchrunArgs)) read.fail("torchrunArgs", `must not hold ${problem}`);
    for (const [key, flag] of [["checkpointDirArg", checkpointDirArg], ["dataDirArg", dataDirArg]] as const) {
        if (flag === undefined) continue;
        if (!/^--?[A-Za-z][A-Za-z0-9_-]*$/.test(flag)) {
            read.fail(key, "must be a flag such as --save-dir");
            continue;
        }
        const clash = scriptArgsSetting(flag, scriptArgs);
        if (clash.length > 0) {
            read.fail("scriptArgs", `must not set ${flag} (${clash.map((t) => JSON.stringify(t)).join(", ")}): ${key} passes it`);
        }
    }
    if (dataDirArg !== undefined && datasetDir === undefined && datasetVolume === undefined) {
        read.fail("dataDirArg", "needs a dataset to point at: set datasetDir or datasetVolume");
    }
    if (read.errors.length > 0) return { ok: false, errors: read.errors };

    const absolute = (dir: string) => path.resolve(baseDir, dir);
    const codePath = codeDir === undefined ? packageTrainingDir() : absolute(codeDir);
    const codeHash = codeMode === "mount" ? options.codeHash?.(codePath) : undefined;
    return {
        ok: true,
        spec: {
            nodes,
            gpusPerNode,
            gpuIds,
            gpuSharing,
            procsPerNode,
            image,
            imageId,
            imageMode,
            imageContext: imageContext === undefined ? packageTrainingDir() : absolute(imageContext),
            imageDockerfile,
            codeDir: codePath,
            ...(codeHash !== undefined ? { codeHash } : {}),
            codeMode,
            script,
            module,
            scriptArgs,
            torchrunArgs,
            checkpointDirArg,
            dataDirArg,
            failFastExitCodes,
            failFastRepeats,
            datasetDir: datasetDir === undefined ? undefined : absolute(datasetDir),
            datasetVolume,
            checkpointVolumeName,
            owner,
            user,
            allowSystemPaths,
            retainCheckpoints,
            masterPort,
            maxRestarts,
            restartRetries,
            shmSizeMb,
            stopGraceSeconds,
            collectiveTimeoutSeconds,
            minNodes,
            checkHooks,
            env,
            interconnect,
        },
    };
}
