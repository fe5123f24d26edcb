/**
 * The stack program's cluster: the stack config (`ddpsim:*`) read, checked and turned into one component, so that
 * index.ts reads as an example. Errors name the keys as the user wrote them (`ddpsim:nodes`) and stop the program
 * before any resource is declared.
 */
import * as pulumi from "@pulumi/pulumi";
import { isSecretKey } from "./configSecrets";
import { DdpConfigError } from "./configError";
import { DdpCluster } from "./ddpCluster";
import { DdpClusterArgs } from "./ddpClusterArgs";
import { DdpKubernetesJob } from "./ddpKubernetesJob";
import { DdpKubernetesJobArgs } from "./ddpKubernetesJobArgs";
import { hostReading } from "./hostReading";
import { defaultOwner } from "./owner";
import { PropertyError, Target } from "./plan";
import { portablePreviewProblem } from "./portablePreview";
import { checkStackConfig } from "./targets/stackCheck";

/** The component the stack config makes, and the outputs only its target has. */
export interface StackCluster {
    target: Target;
    component: DdpCluster | DdpKubernetesJob;
    /**
     * Docker: networkName, containerNames, interconnect; Kubernetes: jobName, serviceName, kubernetesNamespace. A stack
     * exports these only for its target: an undefined export makes Pulumi warn on every update.
     */
    targetOutputs: Record<string, pulumi.Output<unknown>>;
}

/** `env` may hold secrets (its values stay secret down to the nodes); any other key would leak its value: refused. */
function secretProblems(namespace: string, presentKeys: string[]): { errors: PropertyError[]; envIsSecret: boolean } {
    const secret = presentKeys.filter((key) => isSecretKey(namespace, key));
    const errors = secret
        .filter((key) => key !== "env")
        .map((key) => ({ propertyPath: key, reason: `${key} is a secret, which only env may hold (its values stay secret in the containers)` }));
    return { errors, envIsSecret: secret.includes("env") };
}

/**
 * The cluster of this stack's config: a DdpCluster on a Docker host (`ddpsim:target` docker, the default) or a
 * DdpKubernetesJob on a Kubernetes cluster (kubernetes), named `name`. Throws one DdpConfigError listing every bad key.
 */
export function stackCluster(name: string = "ddp"): StackCluster {
    // `npm run preview` on a machine that is not the Docker host (a CI runner): previews only, never an update.
    const portable = portablePreviewProblem();
    if (portable !== undefined) throw new DdpConfigError(portable.reason, [portable]);

    const namespace = pulumi.getProject();
    const stack = pulumi.getStack();
    const config = new pulumi.Config(namespace);
    const presentKeys = Object.keys(pulumi.runtime.allConfig())
        .filter((key) => key.startsWith(`${namespace}:`))
        .map((key) => key.slice(namespace.length + 1));
    const secrets = secretProblems(namespace, presentKeys);
    const identity = { owner: config.get("owner") ?? defaultOwner(), project: namespace, stack, cluster: name };
    const checked = checkStackConfig({
        namespace,
        stack,
        get: (key) => config.get(key),
        presentKeys,
        baseDir: process.cwd(),
        options: hostReading(config.get("dockerHost"), identity),
        extraErrors: secrets.errors,
    });
    if (!checked.ok) throw new DdpConfigError(checked.message, checked.errors);

    const args = { ...checked.args } as DdpClusterArgs & DdpKubernetesJobArgs;
    if (secrets.envIsSecret && args.env !== undefined) {
        args.env = Object.fromEntries(Object.entries(args.env).map(([key, value]) => [key, pulumi.secret(value)]));
    }
    if (checked.target === "kubernetes") {
        const job = new DdpKubernetesJob(name, args);
        return { target: "kubernetes", component: job, targetOutputs: { jobName: job.jobName, serviceName: job.serviceName, kubernetesNamespace: job.namespace } };
    }
    const cluster = new DdpCluster(name, args);
    return {
        target: "docker",
        component: cluster,
        targetOutputs: { networkName: cluster.networkName, containerNames: cluster.containerNames, interconnect: cluster.interconnect },
    };
}
