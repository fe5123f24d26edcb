/**
 * The Kubernetes target's own settings (namespace, image pull secrets, scheduling, the run volume's claim), checked
 * like every other key, and the whole check of a cluster bound for Kubernetes: the keys it refuses, the common keys
 * (plan/validate.ts, asking no Docker host anything) and these.
 */
import {
    ACCESS_MODES,
    ClusterSpec,
    DEFAULTS,
    FieldReader,
    PropertyError,
    RawClusterArgs,
} from "../plan";
import { checkCommonArgs } from "./targetKeys";

export { ACCESS_MODES } from "../plan";
export type AccessMode = (typeof ACCESS_MODES)[number];
export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

/** A toleration as the Kubernetes API takes it. */
export interface Toleration {
    key: string;
    operator: "Exists" | "Equal";
    value?: string;
    effect?: string;
}

export interface KubernetesSettings {
    /** Undefined: the provider's namespace (Pulumi), or kubectl's current one (the export). */
    namespace?: string;
    imagePullSecrets: string[];
    nodeSelector: Record<string, string>;
    tolerations: Toleration[];
    serviceAccountName?: string;
    /** Undefined: the cluster's default storage class. */
    checkpointStorageClass?: string;
    checkpointSize: string;
    checkpointAccessMode: AccessMode;
}

/** RFC 1123 label: a namespace, a label name, a Service's name. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: most object names (claims, secrets, service accounts, storage classes). */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUANTITY = /^([0-9]+(\.[0-9]+)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

export function isObjectName(name: string): boolean {
    return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

/** A label key: an optional DNS subdomain prefix and `/`, then a name of at most 63 characters. */
export function isLabelKey(key: string): boolean {
    const slash = key.lastIndexOf("/");
    const prefix = slash < 0 ? undefined : key.slice(0, slash);
    const name = key.slice(slash + 1);
    return (prefix === undefined || isObjectName(prefix)) && name.length <= 63 && LABEL_NAME.test(name);
}

export function isLabelValue(value: string): boolean {
    return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * A toleration written as kubectl writes taints: `KEY[=VALUE][:EFFECT]`. `nvidia.com/gpu:NoSchedule` tolerates the
 * GPU nodes' usual taint whatever its value (operator Exists); `dedicated=ml:NoSchedule` only that value (Equal).
 */
export function parseToleration(text: string): Toleration | undefined {
    const colon = text.lastIndexOf(":");
    const effect = colon < 0 ? undefined : text.slice(colon + 1);
    if (effect !== undefined && !(TAINT_EFFECTS as readonly string[]).includes(effect)) return undefined;
    const keyValue = colon < 0 ? text : text.slice(0, colon);
    const eq = keyValue.indexOf("=");
    const key = eq < 0 ? keyValue : keyValue.slice(0, eq);
    const value = eq < 0 ? undefined : keyValue.slice(eq + 1);
    if (!isLabelKey(key) || (value !== undefined && !isLabelValue(value))) return undefined;
    return {
        key,
        operator: value === undefined ? "Exists" : "Equal",
        ...(value !== undefined ? { value } : {}),
        ...(effect !== undefined ? { effect } : {}),
    };
}

/** Reads the Kubernetes keys; never throws. */
export function resolveKubernetesSettings(raw: RawClusterArgs): { settings: KubernetesSettings; errors: PropertyError[] } {
    const read = new FieldReader(raw);
    const name = (key: string, test: (v: string) => boolean, what: string): string | undefined => {
        const value = read.nonEmptyString(key, undefined);
        if (value !== undefined && !test(value)) {
            read.fail(key, `must be ${what}`);
            return undefined;
        }
        return value;
    };
    const namespace = name("namespace", (v) => v.length <= 63 && DNS_LABEL.test(v), "a namespace name (lower-case letters, digits and -, at most 63)");
    const pullSecrets = read.stringList("imagePullSecrets", true) ?? [];
    if (pullSecrets.some((s) => !isObjectName(s))) read.fail("imagePullSecrets", "must list Secret names (lower-case letters, digits, - and .)");
    const nodeSelector = raw.nodeSelector === undefined ? {} : readNodeSelector(read, raw.nodeSelector);
    const tolerationTexts = read.stringList("tolerations", true) ?? [];
    const tolerations = tolerationTexts.map(parseToleration);
    if (tolerations.some((t) => t === undefined)) {
        read.fail("tolerations", `must list tolerations as KEY[=VALUE][:EFFECT] (e.g. "nvidia.com/gpu:NoSchedule"; EFFECT one of ${TAINT_EFFECTS.join(", ")})`);
    }
    const serviceAccountName = name("serviceAccountName", isObjectName, "a ServiceAccount name (lower-case letters, digits, - and .)");
    const checkpointStorageClass = name("checkpointStorageClass", isObjectName, "a StorageClass name (lower-case letters, digits, - and .)");
    const size = read.nonEmptyString("checkpointSize", DEFAULTS.checkpointSize) ?? DEFAULTS.checkpointSize;
    if (!QUANTITY.test(size) || Number.parseFloat(size) <= 0) read.fail("checkpointSize", 'must be a storage size such as "10Gi" or "500Mi"');
    const accessMode = read.oneOf<AccessMode>("checkpointAccessMode", DEFAULTS.checkpointAccessMode, ACCESS_MODES);
    for (const key of ["checkpointVolumeName", "datasetVolume"]) {
        const value = raw[key];
        if (typeof value === "string" && value !== "" && !isObjectName(value)) {
            read.fail(key, "must be a PersistentVolumeClaim name on Kubernetes (lower-case letters, digits, - and .)");
        }
    }
    return {
        settings: {
            ...(namespace !== undefined ? { namespace } : {}),
            imagePullSecrets: pullSecrets,
            nodeSelector,
            tolerations: tolerations.filter((t): t is Toleration => t !== undefined),
            ...(serviceAccountName !== undefined ? { serviceAccountName } : {}),
            ...(checkpointStorageClass !== undefined ? { checkpointStorageClass } : {}),
            checkpointSize: size,
            checkpointAccessMode: accessMode,
        },
        errors: read.errors,
    };
}

function readNodeSelector(read: FieldReader, value: unknown): Record<string, string> {
    const isMap = typeof value === "object" && value !== null && !Array.isArray(value);
    const entries = isMap ? Object.entries(value as object) : [];
    const valid = isMap && entries.every(([k, v]) => isLabelKey(k) && typeof v === "string" && isLabelValue(v));
    if (!valid) {
        read.fail("nodeSelector", "must map node label keys to label values (e.g. {\"nvidia.com/gpu.present\": \"true\"})");
        return {};
    }
    return Object.fromEntries(entries) as Record<string, string>;
}

export type KubernetesCheck =
    | { ok: true; spec: ClusterSpec; settings: KubernetesSettings }
    | { ok: false; errors: PropertyError[] };

/**
 * Checks the arguments of a cluster bound for Kubernetes: the common check (targetKeys.ts: the keys it refuses, the
 * common keys, asking no Docker host: no local image, no host folder, no GPU of this machine) and its own keys.
 */
export function checkKubernetesArgs(raw: RawClusterArgs, baseDir: string): KubernetesCheck {
    const checked = checkCommonArgs("kubernetes", raw, baseDir);
    const { settings, errors } = resolveKubernetesSettings(raw);
    const all = [...(checked.ok ? [] : checked.errors), ...errors];
    if (all.length > 0 || !checked.ok) return { ok: false, errors: all };
    return { ok: true, spec: checked.spec, settings };
}
