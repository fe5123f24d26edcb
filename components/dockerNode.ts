import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan, LABELS, NodePlan } from "./plan";
import { programRelative } from "./portablePreview";

/** The values a node's container needs that only exist at deploy time. */
export interface NodeInputs {
    image: pulumi.Input<string>;
    containerName: pulumi.Input<string>;
    networkName: pulumi.Input<string>;
    /** The deployment's run id (the node agent scopes verdicts to it). */
    runId: pulumi.Input<string>;
    /** Environment values given as Inputs (secrets): they replace the plan's placeholders, secrecy kept. */
    inputEnv: Record<string, pulumi.Input<string>>;
}

export function labelList(labels: Record<string, string>): { label: string; value: string }[] {
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/**
 * A node container's labels: the plan's, and for a local image (which goes by its id, known only to the Docker host)
 * the image's name, which a portable preview compares instead (components/portablePreview.ts).
 */
export function containerLabels(plan: ClusterPlan, node: NodePlan): Record<string, string> {
    return { ...node.labels, ...(plan.spec.imageMode === "local" ? { [LABELS.image]: plan.spec.image } : {}) };
}

/** `NAME=value` lines, in the plan's order; Input values (secrets stay secret) and the run id at deploy time. */
function envLines(plan: ClusterPlan, node: NodePlan, inputs: NodeInputs): pulumi.Output<string[]> {
    const names = Object.keys(inputs.inputEnv);
    return pulumi.all([inputs.runId, ...names.map((n) => inputs.inputEnv[n])]).apply(([runId, ...values]) => {
        const given = Object.fromEntries(names.map((n, i) => [n, values[i]]));
        return [
            ...Object.entries(node.env).map(([key, value]) => `${key}=${key in given ? given[key] : value}`),
            `${plan.runIdVariable}=${runId}`,
        ];
    });
}

/** A node of the plan as @pulumi/docker container arguments: a translation, no decisions. */
export function containerArgs(plan: ClusterPlan, node: NodePlan, inputs: NodeInputs): docker.ContainerArgs {
    const spec = plan.spec;
    const health = plan.masterHealthcheck;
    return {
        name: inputs.containerName,
        image: inputs.image,
        hostname: node.hostname,
        networksAdvanced: [{ name: inputs.networkName, aliases: [node.hostname] }],
        envs: envLines(plan, node, inputs),
        command: node.command,
        // ddpsim's node files (the node agent), copied in before the container starts; read by the provider, from
        // the program's folder: the source is never part of the inputs, its hash is.
        uploads: node.files.map((f) => ({ file: f.target, source: programRelative(f.source), sourceHash: f.sha256 })),
        workingDir: node.workingDir,
        ...(node.user !== undefined ? { user: node.user } : {}),
        mounts: node.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, readOnly: m.readOnly })),
        shmSize: spec.shmSizeMb,
        // Docker reads on-failure with a maximum of 0 as "retry forever": no retries is restart "no".
        ...(spec.restartRetries > 0 ? { restart: "on-failure", maxRetryCount: spec.restartRetries } : { restart: "no" }),
        mustRun: false,
        stopSignal: "SIGTERM",
        stopTimeout: spec.stopGraceSeconds,
        destroyGraceSeconds: spec.stopGraceSeconds,
        labels: labelList(containerLabels(plan, node)),
        capabilities: {
            ...(node.capabilities.adds.length > 0 ? { adds: node.capabilities.adds } : {}),
            drops: node.capabilities.drops,
        },
        securityOpts: node.securityOpts,
        ...(node.gpuIds.length > 0
            ? { deviceRequests: [{ driver: "nvidia", deviceIds: node.gpuIds, capabilities: ["gpu"] }] }
            : {}),
        ...(node.role === "master"
            ? {
                  healthcheck: {
                      tests: health.tests,
                      interval: health.interval,
                      timeout: health.timeout,
                      startPeriod: health.startPeriod,
                      retries: health.retries,
                  },
              }
            : {}),
    };
}
