/**
 * The cluster plan as Kubernetes objects, for `DdpKubernetesJob` (declared with Pulumi) and `npm run manifests`
 * (written as YAML): a translation of the same plan the Docker targets translate, with no decisions of its own.
 *
 * - One Job in Indexed completion mode, completions = parallelism = nodes: pod i is node i, its host name
 *   `<job>-<i>`, its index in JOB_COMPLETION_INDEX, which the one pod template turns into the node's rank
 *   (indexedTemplate.ts). restartPolicy Never, backoffLimit restartRetries, and a podFailurePolicy that ends the Job at
 *   a fail-fast exit code, as the node agent ends the node, and does not count disruptions (eviction, preemption).
 * - A headless Service, the pods' subdomain: node i is `<job>-<i>.<service>` in the namespace.
 * - A PersistentVolumeClaim: the run volume, /workspace and /checkpoints of every pod.
 * - A ConfigMap of ddpsim's node files (the node agent, indexed_node.py), mounted read-only at /opt/ddpsim.
 * The code comes from the image (/code), the dataset from a claim (datasetVolume) or the image.
 */
import * as fs from "fs";
import type * as k8s from "@pulumi/kubernetes";
import type { Unwrap } from "@pulumi/pulumi";
import { CONTAINER_PATHS, ClusterPlan, LABELS, MountPlan, NODE_FILES_DIR, NodeFile, NodePlan } from "../plan";
import { foldNodes, INDEX_VARIABLE, IndexedTemplate, referenceMark } from "./indexedTemplate";
import { INDEXED_NODE_FILE, JOB_LABEL, kubernetesJobName, kubernetesLabels } from "./kubernetesNames";
import { KubernetesSettings } from "./kubernetesSettings";

export * from "./kubernetesNames";

/** Plain objects, typed by the Kubernetes API as @pulumi/kubernetes has it: a misspelt field fails to compile. */
export type JobManifest = Unwrap<k8s.types.input.batch.v1.Job>;
export type ServiceManifest = Unwrap<k8s.types.input.core.v1.Service>;
export type ClaimManifest = Unwrap<k8s.types.input.core.v1.PersistentVolumeClaim>;
export type ConfigMapManifest = Unwrap<k8s.types.input.core.v1.ConfigMap>;

/** The Job's one container. */
export const CONTAINER_NAME = "node";
/** How long a pod waits for its own DNS name before it gives up (training/indexed_node.py). */
export const DNS_WAIT_SECONDS = 300;
/** The Job controller's label of one Job's pods: the node agent's run id, one per Job (a replaced Job is a new run). */
export const RUN_ID_LABEL = "batch.kubernetes.io/controller-uid";
export const INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
export const RENDEZVOUS_PORT_NAME = "rendezvous";

/** Labels of one node, which one pod template cannot carry: a pod's rank is the Job's index (label and annotation). */
const NODE_LABELS: string[] = [LABELS.rank, LABELS.role, LABELS.node, LABELS.gpus];

/** The NodePlan fields this target translates. A field added to the plan must be translated here, not dropped. */
const TRANSLATED_NODE_FIELDS: readonly string[] = [
    "rank", "role", "resourceName", "containerNameBase", "hostname", "gpuIds", "env", "command", "files", "mounts", "labels",
    "capabilities", "workingDir", "securityOpts", "user",
];

/** The pod volume of the node files' ConfigMap. */
const FILES_VOLUME = "ddpsim-files";

/** Environment values given as Pulumi Inputs go to a Secret, referenced by name; the export has none. */
export interface SecretEnv {
    secretName: string;
    keys: string[];
}

export interface ManifestOptions {
    secretEnv?: SecretEnv;
}

export interface KubernetesManifests {
    checkpoints: ClaimManifest;
    files: ConfigMapManifest;
    service: ServiceManifest;
    job: JobManifest;
}

/** Fields written once, from node 0, for every pod: they must not differ between nodes. */
const SHARED_NODE_FIELDS = ["files", "mounts", "capabilities", "user", "securityOpts", "workingDir"] as const;

function checkTranslated(node: NodePlan): void {
    const unknown = Object.keys(node).filter((key) => !TRANSLATED_NODE_FIELDS.includes(key));
    if (unknown.length > 0) {
        throw new Error(`the Kubernetes target does not translate the node plan field(s): ${unknown.join(", ")}`);
    }
}

/**
 * A pod stopped before its script finished exits with this (SIGTERM's code), even when a cooperative script
 * checkpointed and exited 0: the Job then starts it again (and does not count it when the stop was a disruption),
 * where exit 0 would end that index for good and leave the others waiting for it.
 */
export const STOP_EXIT_CODE = 143;

/**
 * Node i's command with the node agent's state on the run volume: a node the Job restarts is a new pod with an empty
 * /tmp, where Docker's restart keeps the container's, so the count of repeated errors (failFastRepeats) must live
 * where the next pod finds it. The folder is the run's (DDPSIM_RUN_ID), expanded by Kubernetes. Stops exit
 * STOP_EXIT_CODE.
 */
function withAgentState(plan: ClusterPlan, node: NodePlan): string[] {
    const [python, agent, config, ...rest] = node.command;
    if (python !== "python3" || !agent.startsWith(`${NODE_FILES_DIR}/`)) throw new Error("the Kubernetes target expects the node agent's command");
    const parsed = JSON.parse(config);
    const stateDir = `${CONTAINER_PATHS.control}/${referenceMark(plan.runIdVariable)}/node-${node.rank}`;
    return [python, agent, JSON.stringify({ ...parsed, stateDir, stopExitCode: STOP_EXIT_CODE }), ...rest];
}

/** The name of the ConfigMap that holds a Job's node files. */
export function filesConfigMapName(job: string): string {
    return `${job}-files`;
}

function volumesOf(plan: ClusterPlan, job: string, mounts: MountPlan[]) {
    // The node files, read-only (a ConfigMap volume always is), at NODE_FILES_DIR.
    const volumes: Unwrap<k8s.types.input.core.v1.Volume>[] = [{ name: FILES_VOLUME, configMap: { name: filesConfigMapName(job) } }];
    const volumeMounts: Unwrap<k8s.types.input.core.v1.VolumeMount>[] = [{ name: FILES_VOLUME, mountPath: NODE_FILES_DIR, readOnly: true }];
    for (const mount of mounts) {
        if (mount.type === "bind" && mount.target === CONTAINER_PATHS.code) continue; // the code is in the image
        let name: string;
        if (mount.type === "volume" && mount.source === plan.checkpointVolumeName) {
            name = "workspace";
        } else if (mount.type === "volume" && mount.source === plan.spec.datasetVolume) {
            name = "dataset";
        } else {
            throw new Error(`the Kubernetes target cannot mount ${mount.type} ${JSON.stringify(mount.source)} at ${mount.target}`);
        }
        if (!volumes.some((v) => v.name === name)) {
            volumes.push({ name, persistentVolumeClaim: { claimName: mount.source, ...(mount.readOnly ? { readOnly: true } : {}) } });
        }
        volumeMounts.push({ name, mountPath: mount.target, ...(mount.readOnly ? { readOnly: true } : {}) });
    }
    volumes.push({ name: "shm", emptyDir: { medium: "Memory", sizeLimit: `${plan.spec.shmSizeMb}Mi` } });
    volumeMounts.push({ name: "shm", mountPath: "/dev/shm" });
    return { volumes, volumeMounts };
}

/** `uid[:gid]` as the pod's ids; fsGroup lets that group write the run volume where the storage supports it. */
function podSecurity(user: string | undefined): Unwrap<k8s.types.input.core.v1.PodSecurityContext> | undefined {
    if (user === undefined) return undefined;
    const [uid, gid] = user.split(":").map(Number);
    return {
        runAsUser: uid,
        ...(gid !== undefined ? { runAsGroup: gid, fsGroup: gid, fsGroupChangePolicy: "OnRootMismatch" } : {}),
    };
}

function containerSecurity(node: NodePlan): Unwrap<k8s.types.input.core.v1.SecurityContext> {
    const known = ["no-new-privileges:true"];
    const unknown = node.securityOpts.filter((o) => !known.includes(o));
    if (unknown.length > 0) throw new Error(`the Kubernetes target does not translate the security option(s) ${unknown.join(", ")}`);
    return {
        allowPrivilegeEscalation: !node.securityOpts.includes("no-new-privileges:true"),
        capabilities: {
            drop: node.capabilities.drops,
            ...(node.capabilities.adds.length > 0 ? { add: node.capabilities.adds } : {}),
        },
    };
}

/** Checks that the nodes fit one pod template of this Job: translated fields only, the pods' names, shared fields. */
function checkNodes(plan: ClusterPlan, job: string): void {
    const master = plan.nodes[0];
    plan.nodes.forEach((node) => {
        checkTranslated(node);
        if (node.hostname !== `${job}-${node.rank}`) {
            throw new Error(`node ${node.rank}'s host name is ${node.hostname}, not the pod's ${job}-${node.rank}: plan it with planForKubernetes`);
        }
        for (const field of SHARED_NODE_FIELDS) {
            if (JSON.stringify(node[field]) !== JSON.stringify(master[field])) {
                throw new Error(`the Kubernetes target cannot give node ${node.rank} its own ${field}: the pods share one template`);
            }
        }
    });
}

/** The pod's environment: its index, the template's variables (secrets by reference), the run id from the Job. */
function podEnv(plan: ClusterPlan, template: IndexedTemplate, secret: SecretEnv | undefined): Unwrap<k8s.types.input.core.v1.EnvVar>[] {
    return [
        { name: INDEX_VARIABLE, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${INDEX_ANNOTATION}']` } } },
        ...template.env.map((e) =>
            secret?.keys.includes(e.name)
                ? { name: e.name, valueFrom: { secretKeyRef: { name: secret.secretName, key: e.name } } }
                : { name: e.name, value: e.value },
        ),
        { name: plan.runIdVariable, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${RUN_ID_LABEL}']` } } },
    ];
}

/** The pod's command: indexed_node.py (which makes the pod node JOB_COMPLETION_INDEX), then the node agent's. */
function podCommand(plan: ClusterPlan, job: string, service: string, template: IndexedTemplate, files: NodeFile[]): string[] {
    const prelude = files.find((f) => f.name === INDEXED_NODE_FILE);
    if (prelude === undefined) throw new Error(`the Kubernetes target needs ${INDEXED_NODE_FILE} among the node files: plan it with planForKubernetes`);
    const config = JSON.stringify({ address: `${job}-{index}.${service}`, nodes: plan.spec.nodes, dnsWaitSeconds: DNS_WAIT_SECONDS });
    return ["python3", prelude.target, config, ...template.command];
}

/** The Job's failure policy: a disruption is retried without counting; a fail-fast exit code ends the Job. */
function failureRules(plan: ClusterPlan): Unwrap<k8s.types.input.batch.v1.PodFailurePolicyRule>[] {
    const codes = plan.spec.failFastExitCodes;
    return [
        // A disruption (eviction, preemption, a node drained) is never the script's fault: retried, not counted.
        { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ...(codes.length > 0 ? [{ action: "FailJob", onExitCodes: { containerName: CONTAINER_NAME, operator: "In", values: codes } }] : []),
    ];
}

/** The pod template's spec: scheduling and security settings, the one container, the volumes. */
function podSpec(plan: ClusterPlan, settings: KubernetesSettings, job: string, options: ManifestOptions) {
    const spec = plan.spec;
    const master = plan.nodes[0];
    const service = job;
    const template = foldNodes(plan.nodes.map((node) => ({ ...node, command: withAgentState(plan, node) })));
    const { volumes, volumeMounts } = volumesOf(plan, job, master.mounts);
    const security = podSecurity(master.user);
    return {
        labels: template.labels,
        spec: {
            subdomain: service,
            restartPolicy: "Never",
            terminationGracePeriodSeconds: spec.stopGraceSeconds,
            // No Service variables in the environment: the run contract's are the only ones.
            enableServiceLinks: false,
            ...(settings.serviceAccountName !== undefined
                ? { serviceAccountName: settings.serviceAccountName }
                : { automountServiceAccountToken: false }),
            ...(settings.imagePullSecrets.length > 0 ? { imagePullSecrets: settings.imagePullSecrets.map((name) => ({ name })) } : {}),
            ...(Object.keys(settings.nodeSelector).length > 0 ? { nodeSelector: settings.nodeSelector } : {}),
            ...(settings.tolerations.length > 0 ? { tolerations: settings.tolerations } : {}),
            ...(security !== undefined ? { securityContext: security } : {}),
            containers: [
                {
                    name: CONTAINER_NAME,
                    image: spec.image,
                    imagePullPolicy: "IfNotPresent",
                    command: podCommand(plan, job, service, template, master.files),
                    workingDir: master.workingDir,
                    env: podEnv(plan, template, options.secretEnv),
                    ports: [{ name: RENDEZVOUS_PORT_NAME, containerPort: spec.masterPort, protocol: "TCP" }],
                    ...(spec.gpusPerNode > 0 ? { resources: { limits: { "nvidia.com/gpu": String(spec.gpusPerNode) } } } : {}),
                    securityContext: containerSecurity(master),
                    volumeMounts,
                },
            ],
            volumes,
        },
    };
}

/** The objects of a plan; pure: the same plan and settings give the same objects. */
export function kubernetesManifests(plan: ClusterPlan, settings: KubernetesSettings, options: ManifestOptions = {}): KubernetesManifests {
    const spec = plan.spec;
    const job = kubernetesJobName(plan.identity);
    const service = job;
    checkNodes(plan, job);
    const metadata = (name: string) => ({ name, ...(settings.namespace !== undefined ? { namespace: settings.namespace } : {}), labels: kubernetesLabels(plan.labels, job) });
    const pod = podSpec(plan, settings, job, options);
    const jobManifest: JobManifest = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: metadata(job),
        spec: {
            completionMode: "Indexed",
            completions: spec.nodes,
            parallelism: spec.nodes,
            backoffLimit: spec.restartRetries,
            podFailurePolicy: { rules: failureRules(plan) },
            template: {
                metadata: { labels: kubernetesLabels(Object.fromEntries(Object.entries(pod.labels).filter(([k]) => !NODE_LABELS.includes(k))), job) },
                spec: pod.spec,
            },
        },
    };
    const serviceManifest: ServiceManifest = {
        apiVersion: "v1",
        kind: "Service",
        metadata: metadata(service),
        spec: {
            clusterIP: "None",
            // Names resolve as soon as a pod has an address: torchrun starts before any readiness.
            publishNotReadyAddresses: true,
            selector: { [JOB_LABEL]: job },
            ports: [{ name: RENDEZVOUS_PORT_NAME, port: spec.masterPort, targetPort: spec.masterPort, protocol: "TCP" }],
        },
    };
    const checkpoints: ClaimManifest = {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: metadata(plan.checkpointVolumeName),
        spec: {
            accessModes: [settings.checkpointAccessMode],
            ...(settings.checkpointStorageClass !== undefined ? { storageClassName: settings.checkpointStorageClass } : {}),
            resources: { requests: { storage: settings.checkpointSize } },
        },
    };
    const files: ConfigMapManifest = {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: metadata(filesConfigMapName(job)),
        data: Object.fromEntries(plan.nodes[0].files.map((f) => [f.name, fs.readFileSync(f.source, "utf8")])),
    };
    return { checkpoints, files, service: serviceManifest, job: jobManifest };
}
