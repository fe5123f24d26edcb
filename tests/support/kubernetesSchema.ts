/**
 * Offline validation of Kubernetes objects: the API's OpenAPI schema as the `kubernetes-models` package compiles it
 * (types, required fields, enums; generated from Kubernetes 1.3x), plus the API server's own rules that a schema does
 * not carry and that ddpsim's objects could break: object names, label keys and values, an Indexed Job's pod host
 * names, podFailurePolicy's needs, volume mounts that name a volume, env names, port names. No API server runs here.
 * Unknown fields are caught earlier: the builders are typed by the API (components/targets/kubernetes.ts).
 */
import { Model } from "@kubernetes-models/base";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { isLabelKey, isLabelValue, isObjectName } from "../../components/targets/kubernetesSettings";

const MODELS: Record<string, new (data: any) => Model<unknown>> = {
    "batch/v1/Job": Job,
    "v1/Service": Service,
    "v1/PersistentVolumeClaim": PersistentVolumeClaim,
    "v1/Secret": Secret,
    "v1/ConfigMap": ConfigMap,
};

const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Every problem of one object, as `path: message`; empty when the API server would take it. */
export function kubernetesProblems(object: any): string[] {
    const kind = `${object?.apiVersion}/${object?.kind}`;
    const model = MODELS[kind];
    if (model === undefined) return [`no schema for ${kind}`];
    const problems: string[] = [];
    try {
        new model(object).validate();
    } catch (err) {
        problems.push(`schema: ${(err as Error).message}`);
    }
    const meta = object.metadata ?? {};
    const name: string = meta.name ?? "";
    if (!isObjectName(name)) problems.push(`metadata.name: ${JSON.stringify(name)} is not a DNS subdomain`);
    if (object.kind === "Service" && !(name.length <= 63 && DNS_1035_LABEL.test(name))) {
        problems.push(`metadata.name: a Service's name must be a DNS-1035 label, got ${JSON.stringify(name)}`);
    }
    const labelSets: [string, Record<string, string> | undefined][] = [
        ["metadata.labels", meta.labels],
        ["spec.template.metadata.labels", object.spec?.template?.metadata?.labels],
        ["spec.selector", object.kind === "Service" ? object.spec?.selector : undefined],
    ];
    for (const [where, labels] of labelSets) {
        for (const [key, value] of Object.entries(labels ?? {})) {
            if (!isLabelKey(key)) problems.push(`${where}: bad label key ${JSON.stringify(key)}`);
            if (typeof value !== "string" || !isLabelValue(value)) problems.push(`${where}.${key}: bad label value ${JSON.stringify(value)}`);
        }
    }
    if (object.kind === "Job") problems.push(...jobProblems(object, name));
    return problems;
}

function jobProblems(job: any, name: string): string[] {
    const problems: string[] = [];
    const spec = job.spec ?? {};
    const pod = spec.template?.spec ?? {};
    if (spec.completionMode === "Indexed") {
        const host = `${name}-${Math.max((spec.completions ?? 1) - 1, 0)}`;
        if (host.length > 63) problems.push(`metadata.name: the last pod's host name ${host} exceeds 63 characters`);
        if (spec.completions === undefined) problems.push("spec.completions: required in Indexed mode");
    }
    if (spec.podFailurePolicy !== undefined) {
        if (pod.restartPolicy !== "Never") problems.push("spec.podFailurePolicy: needs restartPolicy Never");
        for (const rule of spec.podFailurePolicy.rules ?? []) {
            const values: number[] = rule.onExitCodes?.values ?? [];
            if (rule.onExitCodes !== undefined && (values.length === 0 || values.length > 255 || values.includes(0) && rule.onExitCodes.operator === "In")) {
                problems.push(`spec.podFailurePolicy: bad exit codes ${JSON.stringify(values)}`);
            }
            const containers = (pod.containers ?? []).map((c: any) => c.name);
            if (rule.onExitCodes?.containerName !== undefined && !containers.includes(rule.onExitCodes.containerName)) {
                problems.push(`spec.podFailurePolicy: no container ${rule.onExitCodes.containerName}`);
            }
        }
    }
    if (pod.subdomain !== undefined && !(pod.subdomain.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(pod.subdomain))) {
        problems.push(`spec.template.spec.subdomain: ${pod.subdomain} is not a DNS label`);
    }
    const volumes = new Set((pod.volumes ?? []).map((v: any) => v.name));
    for (const container of pod.containers ?? []) {
        for (const mount of container.volumeMounts ?? []) {
            if (!volumes.has(mount.name)) problems.push(`container ${container.name}: mounts an unknown volume ${mount.name}`);
        }
        for (const env of container.env ?? []) {
            if (!ENV_NAME.test(env.name)) problems.push(`container ${container.name}: bad env name ${env.name}`);
            if ((env.value !== undefined) === (env.valueFrom !== undefined)) problems.push(`container ${container.name}: env ${env.name} needs value or valueFrom`);
        }
        for (const port of container.ports ?? []) {
            if (port.name !== undefined && !(port.name.length <= 15 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port.name))) {
                problems.push(`container ${container.name}: bad port name ${port.name}`);
            }
        }
    }
    return problems;
}

/** Throws with every problem of the object. */
export function assertValidKubernetes(object: any): void {
    const problems = kubernetesProblems(object);
    if (problems.length > 0) throw new Error(`invalid ${object?.kind} ${object?.metadata?.name}:\n  ${problems.join("\n  ")}`);
}
