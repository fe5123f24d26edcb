/**
 * The check of a cluster's arguments: every setting read on its own (kind, default and range from the settings table,
 * settings.ts), then the named rules that need more than one (rules.ts), then the spec. Never throws: every problem
 * found is returned at once.
 */
import * as path from "path";
import { FieldReader, RawClusterArgs } from "./fieldReader";
import { AUTO_GPU_POOL } from "./gpuPool";
import { INTERCONNECT_PRESET_NAMES, InterconnectPreset, LINK_KEYS, resolveInterconnect } from "./interconnect";
import { Fields, Found, ResolveOptions } from "./fields";
import { CROSS_FIELD_RULES, GPU_ID, RuleContext } from "./rules";
import { DEFAULTS, rangeOf, SettingName } from "./settings";
import { ClusterSpec, CODE_MODES, IMAGE_MODES, PropertyError } from "./types";

/** What `resolveClusterSpec` returns: a spec, or every problem found. */
export type SpecResult = { ok: true; spec: ClusterSpec } | { ok: false; errors: PropertyError[] };

/** The folder holding this package's training program; the default code folder. */
export function packageTrainingDir(): string {
    // components/plan (ts-node) or bin/components/plan (compiled): the package root is two or three levels up.
    const twoUp = path.resolve(__dirname, "..", "..");
    const root = path.basename(twoUp) === "bin" ? path.dirname(twoUp) : twoUp;
    return path.join(root, "training");
}

/** `gpuIds`: a list of GPU ids or UUIDs, or `["auto"]` (this machine's, read by a rule). */
function readGpuIds(read: FieldReader, raw: RawClusterArgs): { autoPool: boolean; gpuIds?: string[] } {
    const autoPool =
        raw.gpuIds === AUTO_GPU_POOL || (Array.isArray(raw.gpuIds) && raw.gpuIds.length === 1 && raw.gpuIds[0] === AUTO_GPU_POOL);
    if (autoPool) return { autoPool };
    const gpuIds = read.stringList("gpuIds", true);
    if (gpuIds?.includes(AUTO_GPU_POOL)) {
        read.fail("gpuIds", `must be ["${AUTO_GPU_POOL}"] alone (this machine's GPUs) or a list of GPU ids`);
        return { autoPool };
    }
    const bad = (gpuIds ?? []).filter((id) => !GPU_ID.test(id));
    if (bad.length > 0) {
        read.fail("gpuIds", `must list GPU indexes (0, 1, ...) or UUIDs (GPU-..., MIG-...), not ${bad.map((b) => JSON.stringify(b)).join(", ")}`);
        return { autoPool };
    }
    return { autoPool, gpuIds };
}

/** Every setting on its own, with the table's defaults and ranges; a bad value is reported and its default kept. */
export function readFields(read: FieldReader, raw: RawClusterArgs): Fields {
    const nodes = read.integer("nodes", DEFAULTS.nodes, ...rangeOf("nodes"));
    const gpusPerNode = read.integer("gpusPerNode", DEFAULTS.gpusPerNode, ...rangeOf("gpusPerNode"));
    const { autoPool, gpuIds } = readGpuIds(read, raw);
    const number = (key: string, whole: boolean) => read.optionalNumber(key, ...rangeOf(key as SettingName), whole);
    const fields: Omit<Fields, "minNodes" | "env" | "interconnect"> = {
        nodes,
        gpusPerNode,
        autoPool,
        gpuIds,
        gpuSharing: read.boolean("gpuSharing", DEFAULTS.gpuSharing),
        procsPerNode: read.integer("procsPerNode", Math.max(gpusPerNode, 1), ...rangeOf("procsPerNode")),
        imageMode: read.oneOf("imageMode", DEFAULTS.imageMode, IMAGE_MODES),
        codeMode: read.oneOf("codeMode", DEFAULTS.codeMode, CODE_MODES),
        image: read.nonEmptyString("image", DEFAULTS.image) ?? DEFAULTS.image,
        imageContext: read.nonEmptyString("imageContext", undefined),
        imageDockerfile: read.nonEmptyString("imageDockerfile", DEFAULTS.imageDockerfile) ?? DEFAULTS.imageDockerfile,
        codeDir: read.nonEmptyString("codeDir", undefined),
        script: read.nonEmptyString("script", DEFAULTS.script) ?? DEFAULTS.script,
        module: read.nonEmptyString("module", undefined),
        scriptArgs: read.stringList("scriptArgs", false) ?? [],
        torchrunArgs: read.stringList("torchrunArgs", false) ?? [],
        checkpointDirArg: read.nonEmptyString("checkpointDirArg", undefined),
        dataDirArg: read.nonEmptyString("dataDirArg", undefined),
        failFastExitCodes: read.integerList("failFastExitCodes", DEFAULTS.failFastExitCodes, ...rangeOf("failFastExitCodes")),
        failFastRepeats: read.integer("failFastRepeats", DEFAULTS.failFastRepeats, ...rangeOf("failFastRepeats")),
        datasetDir: read.nonEmptyString("datasetDir", undefined),
        datasetVolume: read.nonEmptyString("datasetVolume", undefined),
        checkpointVolumeName: read.nonEmptyString("checkpointVolumeName", undefined),
        owner: read.nonEmptyString("owner", undefined),
        user: read.nonEmptyString("user", undefined),
        allowSystemPaths: read.boolean("allowSystemPaths", DEFAULTS.allowSystemPaths),
        retainCheckpoints: read.boolean("retainCheckpoints", DEFAULTS.retainCheckpoints),
        masterPort: read.integer("masterPort", DEFAULTS.masterPort, ...rangeOf("masterPort")),
        maxRestarts: read.integer("maxRestarts", DEFAULTS.maxRestarts, ...rangeOf("maxRestarts")),
        restartRetries: read.integer("restartRetries", DEFAULTS.restartRetries, ...rangeOf("restartRetries")),
        shmSizeMb: read.integer("shmSizeMb", DEFAULTS.shmSizeMb, ...rangeOf("shmSizeMb")),
        stopGraceSeconds: read.integer("stopGraceSeconds", DEFAULTS.stopGraceSeconds, ...rangeOf("stopGraceSeconds")),
        collectiveTimeoutSeconds: read.integer("collectiveTimeoutSeconds", DEFAULTS.collectiveTimeoutSeconds, ...rangeOf("collectiveTimeoutSeconds")),
        checkHooks: read.boolean("checkHooks", DEFAULTS.checkHooks),
    };
    return {
        ...fields,
        minNodes: read.integer("minNodes", nodes, ...rangeOf("minNodes")),
        env: read.envMap("env"),
        interconnect: resolveInterconnect(read.oneOf<InterconnectPreset>("interconnect", DEFAULTS.interconnect, INTERCONNECT_PRESET_NAMES), {
            bandwidthMbit: number(LINK_KEYS.bandwidthMbit, true),
            latencyMs: number(LINK_KEYS.latencyMs, false),
            jitterMs: number(LINK_KEYS.jitterMs, false),
            lossPercent: number(LINK_KEYS.lossPercent, false),
        }),
    };
}

/** The spec of fields that passed every check; relative folders resolved against `baseDir`. */
function specOf(f: Fields, found: Found, baseDir: string, options: ResolveOptions): ClusterSpec {
    const absolute = (dir: string) => path.resolve(baseDir, dir);
    const codePath = f.codeDir === undefined ? packageTrainingDir() : absolute(f.codeDir);
    const codeHash = f.codeMode === "mount" ? options.codeHash?.(codePath) : undefined;
    const { autoPool: _auto, imageContext, codeDir: _code, datasetDir, ...same } = f;
    return {
        ...same,
        imageId: found.imageId,
        imageContext: imageContext === undefined ? packageTrainingDir() : absolute(imageContext),
        codeDir: codePath,
        ...(codeHash !== undefined ? { codeHash } : {}),
        datasetDir: datasetDir === undefined ? undefined : absolute(datasetDir),
    };
}

/**
 * Applies defaults and checks every field. Relative folders are resolved against `baseDir` (the program's
 * working directory). Never throws: returns the spec or every problem found.
 */
export function resolveClusterSpec(raw: RawClusterArgs, baseDir: string = process.cwd(), options: ResolveOptions = {}): SpecResult {
    const read = new FieldReader(raw);
    const fields = readFields(read, raw);
    const context: RuleContext = { read, raw, baseDir, options, found: {} };
    for (const rule of CROSS_FIELD_RULES) rule.check(fields, context);
    if (read.errors.length > 0) return { ok: false, errors: read.errors };
    return { ok: true, spec: specOf(fields, context.found, baseDir, options) };
}
