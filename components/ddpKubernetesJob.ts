import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { invalidArguments, prepareInputs } from "./componentInputs";
import { DdpKubernetesJobArgs } from "./ddpKubernetesJobArgs";
import { ClusterPlan } from "./plan";
import { kubectlLogsCommand, kubernetesJobName, kubernetesManifests, planForKubernetes } from "./targets/kubernetes";
import { checkKubernetesArgs, KubernetesSettings } from "./targets/kubernetesSettings";

export { DdpKubernetesJobArgs } from "./ddpKubernetesJobArgs";

/** One node of a Kubernetes cluster, as reported in the outputs. */
export interface DdpKubernetesNodeInfo {
    rank: number;
    /** The pod's host name, `<job>-<rank>`. */
    hostname: string;
    /** Where the other pods reach it, `<job>-<rank>.<service>`. */
    address: string;
}

/** Kubernetes' await logic would hold `pulumi up` until the claim is bound, or a Service until its pods exist. */
const SKIP_AWAIT = { "pulumi.com/skipAwait": "true" };
/**
 * The provider's Job await would hold `pulumi up` until the Job ends (training); skipAwait would also make its delete
 * return at once, while the pods still checkpoint and the Job still holds its name (an `up` right after `destroy`
 * then fails: the Job "is being deleted"). A custom ready condition met at once keeps the delete's await: `pulumi
 * destroy` returns when the Job and its pods are gone.
 */
export const JOB_AWAIT = { "pulumi.com/waitFor": "jsonpath={.metadata.uid}" };

/**
 * The same training job as DdpCluster, declared on a Kubernetes cluster: an Indexed Job with one pod per node, a
 * headless Service that gives each pod a stable name (`<job>-<i>.<service>`), and a PersistentVolumeClaim as the
 * shared run volume. No operator is needed. `pulumi up` returns once the objects exist; a change of the pod template
 * replaces the Job, which is a new run.
 */
export class DdpKubernetesJob extends pulumi.ComponentResource {
    /** The Job's name (also the Service's). */
    public readonly jobName: pulumi.Output<string>;
    /** The headless Service, the pods' subdomain. */
    public readonly serviceName: pulumi.Output<string>;
    /** The namespace of the objects ("" until the provider reports it, as in a preview). */
    public readonly namespace: pulumi.Output<string>;
    /** The rendezvous endpoint, `<job>-0.<service>:<port>`, reachable from the pods. */
    public readonly masterEndpoint: pulumi.Output<string>;
    /** Every node: rank, the pod's host name, its address. */
    public readonly nodes: pulumi.Output<DdpKubernetesNodeInfo[]>;
    /** Name of the run volume's PersistentVolumeClaim: /workspace, also mounted at /checkpoints. */
    public readonly checkpointVolumeName: pulumi.Output<string>;
    /** A kubectl command that follows all pods' logs together, each line prefixed with its pod. */
    public readonly logsCommand: pulumi.Output<string>;

    /** Validates the arguments; throws one DdpConfigError listing every problem. */
    public static plan(name: string, args: DdpKubernetesJobArgs): { plan: ClusterPlan; settings: KubernetesSettings } {
        const { raw, identity } = prepareInputs(name, args);
        const result = checkKubernetesArgs(raw, process.cwd());
        if (!result.ok) throw invalidArguments("DdpKubernetesJob", name, result.errors);
        return { plan: planForKubernetes(result.spec, identity), settings: result.settings };
    }

    constructor(name: string, args: DdpKubernetesJobArgs, opts?: pulumi.ComponentResourceOptions) {
        args = args ?? {};
        const { plan, settings } = DdpKubernetesJob.plan(name, args);
        super("ddpsim:index:DdpKubernetesJob", name, {}, opts);
        const child = { parent: this };
        const job = kubernetesJobName(plan.identity);
        const { inputEnv } = prepareInputs(name, args);
        const secretName = `${job}-env`;
        const manifests = kubernetesManifests(plan, settings, {
            ...(Object.keys(inputEnv).length > 0 ? { secretEnv: { secretName, keys: Object.keys(inputEnv) } } : {}),
        });

        const secret =
            Object.keys(inputEnv).length > 0
                ? new k8s.core.v1.Secret(
                      `${name}-env`,
                      { metadata: { ...manifests.job.metadata, name: secretName }, type: "Opaque", stringData: inputEnv },
                      child,
                  )
                : undefined;
        // ddpsim's node files (the node agent): the pods mount them read-only at /opt/ddpsim.
        const files = new k8s.core.v1.ConfigMap(`${name}-files`, manifests.files, child);
        const claim = new k8s.core.v1.PersistentVolumeClaim(
            `${name}-checkpoints`,
            withAnnotations(manifests.checkpoints, SKIP_AWAIT),
            { ...child, retainOnDelete: plan.spec.retainCheckpoints },
        );
        const service = new k8s.core.v1.Service(`${name}-service`, withAnnotations(manifests.service, SKIP_AWAIT), child);
        const jobArgs = withAnnotations(manifests.job, JOB_AWAIT);
        if (args.image !== undefined && pulumi.Output.isInstance(args.image)) {
            const image = args.image;
            const podSpec = jobArgs.spec!.template.spec!;
            (podSpec as { containers: object[] }).containers = podSpec.containers.map((c) => ({ ...c, image }));
        }
        const jobResource = new k8s.batch.v1.Job(`${name}-job`, jobArgs, {
            ...child,
            // The Job has a fixed name (its pods' DNS names derive from it): a replacement deletes it first.
            deleteBeforeReplace: true,
            // Deleted before the run volume, the files and the Secret, which its pods use until the end of their grace period.
            dependsOn: [claim, service, files, ...(secret !== undefined ? [secret] : [])],
        });

        this.jobName = jobResource.metadata.apply((m) => m.name);
        this.serviceName = service.metadata.apply((m) => m.name);
        this.namespace = jobResource.metadata.apply((m) => m.namespace ?? "");
        this.masterEndpoint = pulumi.output(plan.masterEndpoint);
        this.nodes = pulumi.output(
            plan.nodes.map((node) => ({ rank: node.rank, hostname: node.hostname, address: `${node.hostname}.${job}` })),
        );
        this.checkpointVolumeName = claim.metadata.apply((m) => m.name);
        this.logsCommand = this.namespace.apply((ns) => kubectlLogsCommand(ns, job, plan.spec.nodes));

        this.registerOutputs({
            jobName: this.jobName,
            serviceName: this.serviceName,
            namespace: this.namespace,
            masterEndpoint: this.masterEndpoint,
            nodes: this.nodes,
            checkpointVolumeName: this.checkpointVolumeName,
            logsCommand: this.logsCommand,
        });
    }
}

function withAnnotations<T extends { metadata?: { annotations?: Record<string, string> } }>(manifest: T, annotations: Record<string, string>): T {
    return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata?.annotations, ...annotations } } };
}
