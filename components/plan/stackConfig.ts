import { RawClusterArgs, resolveClusterSpec, ResolveOptions } from "./validate";
import { ClusterSpec, PropertyError } from "./types";

/** The kind of each stack config key; the keys are DdpCluster's argument names. */
export const STACK_CONFIG_KEYS = {
    nodes: "integer",
    gpusPerNode: "integer",
    gpuIds: "list",
    gpuSharing: "boolean",
    procsPerNode: "integer",
    image: "string",
    imageMode: "string",
    imageContext: "string",
    imageDockerfile: "string",
    codeDir: "string",
    codeMode: "string",
    script: "string",
    module: "string",
    scriptArgs: "list",
    torchrunArgs: "list",
    checkpointDirArg: "string",
    dataDirArg: "string",
    failFastExitCodes: "integerList",
    failFastRepeats: "integer",
    datasetDir: "string",
    datasetVolume: "string",
    checkpointVolumeName: "string",
    owner: "string",
    user: "string",
    allowSystemPaths: "boolean",
    dockerHost: "string",
    retainCheckpoints: "boolean",
    masterPort: "integer",
    maxRestarts: "integer",
    restartRetries: "integer",
    shmSizeMb: "integer",
    stopGraceSeconds: "integer",
    collectiveTimeoutSeconds: "integer",
    minNodes: "integer",
    checkHooks: "boolean",
    interconnect: "string",
    linkBandwidthMbit: "integer",
    linkLatencyMs: "number",
    linkJitterMs: "number",
    linkLossPercent: "number",
    env: "map",
    // Where the cluster runs (components/targets/targetKeys.ts), and the keys of the Kubernetes target alone.
    target: "string",
    namespace: "string",
    imagePullSecrets: "list",
    nodeSelector: "map",
    tolerations: "list",
    serviceAccountName: "string",
    checkpointStorageClass: "string",
    checkpointSize: "string",
    checkpointAccessMode: "string",
} as const;

export type StackConfigKey = keyof typeof STACK_CONFIG_KEYS;

function parseValue(kind: (typeof STACK_CONFIG_KEYS)[StackConfigKey], text: string): unknown {
    switch (kind) {
        case "string":
            return text;
        case "integer":
        case "number":
            // Keep anything that is not a number as text, so validation can show the user's exact value.
            return /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(text) ? Number(text) : text;
        case "boolean":
            return text === "true" ? true : text === "false" ? false : text;
        case "list":
        case "integerList":
        case "map":
            try {
                return JSON.parse(text);
            } catch {
                return text;
            }
        default: {
            const never: never = kind;
            return never;
        }
    }
}

/**
 * Reads the stack config (raw strings, as Pulumi stores them; structured values as JSON) into DdpCluster
 * arguments. Unknown keys in the namespace are reported, since a typo would otherwise be ignored silently.
 */
export function readStackConfig(
    get: (key: string) => string | undefined,
    presentKeys: string[] = [],
): { args: RawClusterArgs; errors: PropertyError[] } {
    const args: RawClusterArgs = {};
    for (const key of Object.keys(STACK_CONFIG_KEYS) as StackConfigKey[]) {
        const text = get(key);
        if (text !== undefined) args[key] = parseValue(STACK_CONFIG_KEYS[key], text);
    }
    const known = new Set<string>(Object.keys(STACK_CONFIG_KEYS));
    const errors = presentKeys
        .filter((key) => !known.has(key))
        .map((key) => ({
            propertyPath: key,
            reason: `${key} is not a known setting; known settings: ${[...known].join(", ")}`,
        }));
    return { args, errors };
}

/** Prefixes each error's key with the config namespace (`ddpsim:nodes`), as the user typed it. */
export function inNamespace(namespace: string, errors: PropertyError[]): PropertyError[] {
    return errors.map((e) => ({
        propertyPath: `${namespace}:${e.propertyPath}`,
        reason: `${namespace}:${e.reason}`,
    }));
}

/** One message listing every problem, for errors whose structured form may not be printed. */
export function describeErrors(title: string, errors: PropertyError[]): string {
    return [title, ...errors.map((e) => `  - ${e.reason}`)].join("\n");
}

export type StackCheck =
    | { ok: true; args: RawClusterArgs; spec: ClusterSpec }
    | { ok: false; errors: PropertyError[]; message: string };

/**
 * Reads and checks a stack's config as the stack program does: unknown keys, `extraErrors` from the caller, then
 * every invalid value, all named with the namespace (`ddpsim:nodes`) and listed in one message.
 */
export function checkStackConfig(input: {
    namespace: string;
    stack: string;
    get: (key: string) => string | undefined;
    presentKeys: string[];
    baseDir: string;
    options?: ResolveOptions;
    extraErrors?: PropertyError[];
}): StackCheck {
    const { args, errors: unknownKeys } = readStackConfig(input.get, input.presentKeys);
    const checked = resolveClusterSpec(args, input.baseDir, input.options);
    const errors = inNamespace(input.namespace, [
        ...unknownKeys,
        ...(input.extraErrors ?? []),
        ...(checked.ok ? [] : checked.errors),
    ]);
    if (errors.length > 0 || !checked.ok) {
        return { ok: false, errors, message: describeErrors(`Invalid stack config for stack "${input.stack}":`, errors) };
    }
    return { ok: true, args, spec: checked.spec };
}
