/**
 * Where a stack runs (`ddpsim:target`: docker, the default, or kubernetes), and the keys that only one target
 * understands. A key set for the other target is refused with one error that names the key, its value and what to do
 * instead; it is never dropped. Keys whose default asks for nothing (`gpuSharing: false`, `interconnect: ideal`,
 * `checkpointSize: 10Gi`) are refused only when set to something else.
 */
import {
    ClusterSpec,
    DEFAULTS,
    LINK_KEYS,
    onlyFor,
    PropertyError,
    RawClusterArgs,
    resolveClusterSpec,
    ResolveOptions,
    SETTINGS,
    show,
    STACK_ONLY_SETTINGS,
    Target,
    TARGETS,
} from "../plan";

export { Target, TARGETS } from "../plan";
export const DEFAULT_TARGET: Target = DEFAULTS.target;

/** Keys that only the Kubernetes target reads (DdpKubernetesJob's arguments that DdpCluster lacks): the settings table's. */
export const KUBERNETES_ONLY_KEYS: readonly string[] = onlyFor("kubernetes");

/** Defaults of the Kubernetes target's own keys. */
export const KUBERNETES_DEFAULTS: Record<string, unknown> = Object.fromEntries(
    KUBERNETES_ONLY_KEYS.flatMap((key) => {
        const value = (SETTINGS[key as keyof typeof SETTINGS] as { default?: unknown }).default;
        return value === undefined ? [] : [[key, value]];
    }),
);

/** Keys the stack program reads that no component takes. */
export const STACK_ONLY_KEYS: readonly string[] = STACK_ONLY_SETTINGS;

/** DdpCluster's arguments that DdpKubernetesJob does not take: each is refused on Kubernetes when it asks for something. */
export const DOCKER_ONLY_KEYS: readonly string[] = onlyFor("docker");

interface Refusal {
    key: string;
    /** Whether this value asks for something the target cannot do. */
    applies(value: unknown): boolean;
    /** Why, and what to do instead. */
    reason(value: unknown): string;
}

const isSet = (value: unknown) => value !== undefined;
const ON_KUBERNETES = 'cannot be used with target "kubernetes"';

const linkRefusal = (key: string): Refusal => ({
    key,
    applies: isSet,
    reason: () => `${ON_KUBERNETES}: it shapes the link between nodes with tc, and the pods of a cluster talk over its own network, which ddpsim does not shape; remove it`,
});

/** Keys with no meaning on Kubernetes, when they ask for something. */
const KUBERNETES_REFUSALS: Refusal[] = [
    {
        key: "gpuIds",
        applies: isSet,
        reason: () => `${ON_KUBERNETES}: the scheduler picks each pod's GPUs, and gpusPerNode says how many (the nvidia.com/gpu limit); remove gpuIds`,
    },
    {
        key: "gpuSharing",
        applies: (v) => v === true,
        reason: () => `${ON_KUBERNETES}: a pod's nvidia.com/gpu limit is whole GPUs of its own (sharing is the device plugin's time-slicing or MIG, set up on the cluster); remove it`,
    },
    {
        key: "imageMode",
        applies: (v) => v === "local" || v === "build",
        reason: (v) =>
            v === "local"
                ? `${ON_KUBERNETES} as "local", an image of the Docker host, which the cluster's nodes cannot see: set imageMode to "registry" and image to a reference the cluster can pull (on kind or k3d, load it into the nodes first: kind load docker-image, k3d image import)`
                : `${ON_KUBERNETES} as "build", which builds on the Docker host: build and push the image yourself, then set imageMode to "registry" and image to its reference`,
    },
    {
        key: "codeDir",
        applies: isSet,
        reason: () => `${ON_KUBERNETES}: it is a folder of the Docker host, bind-mounted at /code, and a pod mounts no host folders; put the code at /code in the image (COPY <codeDir> /code) and remove codeDir`,
    },
    {
        key: "codeMode",
        applies: (v) => v === "image",
        reason: () => `${ON_KUBERNETES} as "image", a layer built on the Docker host from codeDir; put the code at /code in the image you push (COPY <codeDir> /code) and remove codeMode`,
    },
    {
        key: "datasetDir",
        applies: isSet,
        reason: () => `${ON_KUBERNETES}: it is a folder of the Docker host; set datasetVolume to the name of a PersistentVolumeClaim that holds the data (mounted read-only at /data), or put the data in the image`,
    },
    {
        key: "dockerHost",
        applies: isSet,
        reason: () => `${ON_KUBERNETES}: the cluster is the Kubernetes provider's (kubeconfig, or pulumi config set kubernetes:context NAME); remove it`,
    },
    {
        key: "allowSystemPaths",
        applies: (v) => v === true,
        reason: () => `${ON_KUBERNETES}: it only concerns folders of the Docker host, which a pod does not mount; remove it`,
    },
    {
        key: "interconnect",
        applies: (v) => v !== undefined && v !== "ideal",
        reason: () => `${ON_KUBERNETES}: the pods talk over the cluster's network, which ddpsim does not shape (tc would need NET_ADMIN in every pod); set it to "ideal" or remove it`,
    },
    linkRefusal(LINK_KEYS.bandwidthMbit),
    linkRefusal(LINK_KEYS.latencyMs),
    linkRefusal(LINK_KEYS.jitterMs),
    linkRefusal(LINK_KEYS.lossPercent),
    {
        key: "minNodes",
        applies: isSet,
        reason: () => `${ON_KUBERNETES}: an Indexed Job gives every pod a fixed completion index and recreates a lost pod, so the rendezvous never shrinks; remove it`,
    },
    {
        key: "checkHooks",
        applies: (v) => v === true,
        reason: () => `${ON_KUBERNETES}: ddpsim check runs its nodes on a Docker host; remove it`,
    },
    {
        key: "user",
        applies: (v) => typeof v === "string" && v.trim() !== "" && !/^\d+(:\d+)?$/.test(v),
        reason: () => `${ON_KUBERNETES} as a name: a pod runs as numeric ids (runAsUser, runAsGroup); set user to uid or uid:gid`,
    },
];

const ON_DOCKER = 'is a setting of target "kubernetes"';

/** Keys of the Kubernetes target, refused on Docker when they ask for something. */
const DOCKER_REFUSALS: Refusal[] = KUBERNETES_ONLY_KEYS.map((key) => ({
    key,
    applies: (v: unknown) =>
        v !== undefined && (!(key in KUBERNETES_DEFAULTS) || v !== KUBERNETES_DEFAULTS[key]),
    reason: () => `${ON_DOCKER}, and this stack's target is "docker": set target to "kubernetes", or remove it`,
}));

function refuse(refusals: Refusal[], raw: RawClusterArgs): PropertyError[] {
    return refusals
        .filter((r) => r.applies(raw[r.key]))
        .map((r) => ({ propertyPath: r.key, reason: `${r.key} ${r.reason(raw[r.key])}, got ${show(raw[r.key])}` }));
}

/** The keys among `raw` that have no meaning on `target`, each with what to do instead. */
export function targetProblems(target: Target, raw: RawClusterArgs): PropertyError[] {
    return refuse(target === "kubernetes" ? KUBERNETES_REFUSALS : DOCKER_REFUSALS, raw);
}

/** Reads `target`: the target, or the error naming the value. */
export function readTarget(value: unknown): { ok: true; target: Target } | { ok: false; error: PropertyError } {
    if (value === undefined) return { ok: true, target: DEFAULT_TARGET };
    if (typeof value === "string" && (TARGETS as readonly string[]).includes(value)) return { ok: true, target: value as Target };
    return {
        ok: false,
        error: {
            propertyPath: "target",
            reason: `target must be one of ${TARGETS.map((t) => `"${t}"`).join(", ")}, got ${show(value)}`,
        },
    };
}

/** What a target's check of a cluster's arguments gives: the spec, or every problem. */
export type CommonCheck = { ok: true; spec: ClusterSpec } | { ok: false; errors: PropertyError[] };

/**
 * The part of every target's check that they share: the keys `target` refuses, then the common keys
 * (plan/validate.ts, with the host readings in `options` where the target is a Docker host). Each problem is reported
 * once: a refused key is left out of the common checks.
 */
export function checkCommonArgs(target: Target, raw: RawClusterArgs, baseDir: string, options: ResolveOptions = {}): CommonCheck {
    const refused = targetProblems(target, raw);
    const dropped = new Set<string>([...refused.map((e) => e.propertyPath), ...KUBERNETES_ONLY_KEYS, ...STACK_ONLY_KEYS]);
    const common = Object.fromEntries(Object.entries(raw).filter(([key]) => !dropped.has(key)));
    const checked = resolveClusterSpec(common, baseDir, options);
    if (refused.length > 0 || !checked.ok) return { ok: false, errors: [...refused, ...(checked.ok ? [] : checked.errors)] };
    return checked;
}
