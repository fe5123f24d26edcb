import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DdpClusterArgs } from "./ddpClusterArgs";
import { prepareCodeLayer } from "./codeLayer";
import { invalidArguments, prepareInputs } from "./componentInputs";
import { containerArgs, labelList } from "./dockerNode";
import { claimGpus } from "./gpuClaims";
import { contentTag, dockerHostOf, hostReading } from "./hostReading";
import { TARGET_CHECKS } from "./targets/stackCheck";
import { hostPathsOf, portableNodeIgnores, portablePreviewProblem, portableRunIdIgnores, programRelative } from "./portablePreview";
import {
    ClusterPlan,
    CONTAINER_INTERFACE,
    describeLink,
    LinkSpec,
    planCluster,
    planFingerprint,
    tcCommands,
} from "./plan";

export { DdpClusterArgs } from "./ddpClusterArgs";

/** The link a cluster simulates, as reported in the outputs. */
export interface DdpInterconnectInfo {
    profile: string;
    /** What is shaped, e.g. "100 Mbit/s" or "unshaped". */
    description: string;
    link: LinkSpec;
    /** The tc commands every node runs on its interface before torchrun. */
    tcCommands: string[][];
}

/** One node of a cluster, as reported in the outputs. */
export interface DdpNodeInfo {
    rank: number;
    containerName: string;
    hostname: string;
    gpuIds: string[];
}

/**
 * A simulated multi-node PyTorch DDP cluster on one Docker host: a bridge network, the training image, a
 * checkpoint volume and one container per node. The nodes rendezvous through torchrun's c10d backend at the
 * master (node 0) and train with DistributedDataParallel as separate machines would.
 */
export class DdpCluster extends pulumi.ComponentResource {
    /** Name of the cluster's bridge network. */
    public readonly networkName: pulumi.Output<string>;
    /** The rendezvous endpoint, `host:port`, reachable from inside the cluster network. */
    public readonly masterEndpoint: pulumi.Output<string>;
    /** Every node: rank, container name, hostname and GPU ids. */
    public readonly nodes: pulumi.Output<DdpNodeInfo[]>;
    /** Container names in rank order. */
    public readonly containerNames: pulumi.Output<string[]>;
    /** Name of the run volume: the shared working directory /workspace, also mounted at /checkpoints. */
    public readonly checkpointVolumeName: pulumi.Output<string>;
    /** A shell command that follows all nodes' logs together, each line prefixed with its container. */
    public readonly logsCommand: pulumi.Output<string>;
    /** The simulated link between nodes and the tc commands that make it. */
    public readonly interconnect: pulumi.Output<DdpInterconnectInfo>;

    /** Validates the arguments; throws one DdpConfigError listing every problem. */
    public static plan(name: string, args: DdpClusterArgs): ClusterPlan {
        const { raw, identity } = prepareInputs(name, args);
        if (pulumi.Output.isInstance(args.image) && args.codeMode === "image") {
            const problem = {
                propertyPath: "codeMode",
                reason: 'codeMode "image" needs image as a plain string (the code layer is tagged by its base), got an Output',
            };
            throw invalidArguments("DdpCluster", name, [problem]);
        }
        const reading = hostReading(args.dockerHost, identity, { image: !pulumi.Output.isInstance(args.image), gpuRuntime: true });
        const result = TARGET_CHECKS.docker(raw, process.cwd(), reading);
        if (!result.ok) throw invalidArguments("DdpCluster", name, result.errors);
        return planCluster(result.spec, identity);
    }

    constructor(name: string, args: DdpClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        args = args ?? {};
        const plan = DdpCluster.plan(name, args);
        const problem = portablePreviewProblem() ?? claimGpus(dockerHostOf(args.dockerHost), name, plan);
        if (problem !== undefined) throw invalidArguments("DdpCluster", name, [problem]);
        super("ddpsim:index:DdpCluster", name, {}, opts);
        const spec = plan.spec;
        const provider =
            args.dockerHost !== undefined
                ? new docker.Provider(`${name}-docker`, { host: args.dockerHost }, { parent: this })
                : undefined;
        const child = { parent: this, ...(provider !== undefined ? { provider } : {}) };

        const suffix = new random.RandomString(`${name}-suffix`, { length: 6, special: false, upper: false }, { parent: this });
        const unique = (base: string) => pulumi.interpolate`${base}-${suffix.result}`;

        const network = new docker.Network(
            `${name}-network`,
            { name: unique(plan.networkNameBase), driver: "bridge", labels: labelList(plan.labels) },
            child,
        );
        const checkpoints = new docker.Volume(
            `${name}-checkpoints`,
            { name: plan.checkpointVolumeName, labels: labelList(plan.labels) },
            { ...child, retainOnDelete: spec.retainCheckpoints },
        );
        const image = this.declareCodeLayer(name, plan, this.declareImage(name, plan, args, child), child);

        // One deployment of the nodes: new whenever their containers are (a config, code or image change, a moved
        // code folder, or an up after destroy), so that a verdict of an earlier run never stops this one.
        const runId = new random.RandomId(
            `${name}-run`,
            { byteLength: 6, keepers: { nodes: planFingerprint(plan), image, hostPaths: hostPathsOf(plan) } },
            { parent: this, ignoreChanges: portableRunIdIgnores(plan) },
        );
        const { inputEnv } = prepareInputs(name, args);

        // Every node is created at once, the workers beside the master (c10d retries the rendezvous until the
        // master's store answers), and `pulumi destroy` stops them at once, as a Job's pods are: each node gets its
        // SIGTERM and the whole stopGraceSeconds together, and the network goes after the last of them.
        const containers = plan.nodes.map(
            (node) =>
                new docker.Container(
                    node.resourceName,
                    containerArgs(plan, node, {
                        image,
                        containerName: unique(node.containerNameBase),
                        networkName: network.name,
                        runId: runId.hex,
                        inputEnv,
                    }),
                    { ...child, dependsOn: [checkpoints], ignoreChanges: portableNodeIgnores(plan, node) },
                ),
        );

        this.networkName = network.name;
        this.masterEndpoint = pulumi.output(plan.masterEndpoint);
        this.checkpointVolumeName = checkpoints.name;
        this.containerNames = pulumi.all(containers.map((c) => c.name));
        this.nodes = this.containerNames.apply((names) =>
            plan.nodes.map((node, i) => ({ rank: node.rank, containerName: names[i], hostname: node.hostname, gpuIds: node.gpuIds })),
        );
        this.logsCommand = this.containerNames.apply(followLogsCommand);
        const link = spec.interconnect;
        this.interconnect = pulumi.output({
            profile: link.preset,
            description: describeLink(link.link),
            link: link.link,
            tcCommands: tcCommands(link.link, CONTAINER_INTERFACE).map((c) => c.argv),
        });

        this.registerOutputs({
            networkName: this.networkName,
            masterEndpoint: this.masterEndpoint,
            nodes: this.nodes,
            containerNames: this.containerNames,
            checkpointVolumeName: this.checkpointVolumeName,
            logsCommand: this.logsCommand,
            interconnect: this.interconnect,
        });
    }

    /**
     * `codeMode: "image"`: the code as a layer on top of the image (components/codeLayer.ts); the nodes run that.
     * The layer's tag is derived from the content of the code and of the base, so it is what the containers name.
     */
    private declareCodeLayer(
        name: string,
        plan: ClusterPlan,
        base: pulumi.Output<string>,
        child: pulumi.CustomResourceOptions,
    ): pulumi.Output<string> {
        const spec = plan.spec;
        if (spec.codeMode !== "image") return base;
        const baseName = spec.imageMode === "build" ? `${spec.image}-${contentTag(spec.imageContext, plan.namePrefix)}` : spec.image;
        const layer = prepareCodeLayer(spec.codeDir, baseName, spec.imageId ?? baseName);
        return new docker.RemoteImage(
            `${name}-code`,
            {
                name: base.apply(() => layer.tag),
                build: { context: layer.context, dockerfile: "Dockerfile", buildArgs: { BASE: baseName } },
                keepLocally: true,
            },
            child,
        ).name;
    }

    /**
     * What the containers run, as a reference that changes whenever the image does, so that `pulumi up` rolls a
     * new image out: a registry image by its id, a built image by a tag that carries a hash of its build context,
     * a local image by its id when the Docker host can be asked.
     */
    private declareImage(
        name: string,
        plan: ClusterPlan,
        args: DdpClusterArgs,
        child: pulumi.CustomResourceOptions,
    ): pulumi.Output<string> {
        const spec = plan.spec;
        const imageName = pulumi.Output.isInstance(args.image) ? args.image : pulumi.output(spec.image);
        const checkedName = imageName.apply((value) => {
            if (typeof value !== "string" || value.trim() === "") {
                throw new pulumi.ResourceError(`image must be a non-empty string, got ${JSON.stringify(value)}`, this);
            }
            return value;
        });
        switch (spec.imageMode) {
            case "registry":
                return new docker.RemoteImage(`${name}-image`, { name: checkedName, keepLocally: true }, child).imageId;
            case "build": {
                // Built on the Docker host by the provider (the same RemoteImage build the code layer uses), tagged
                // with a hash of the build context; the context goes by its path relative to the program's folder
                // where it lies inside it, so that two checkouts declare the same image.
                const tag = contentTag(spec.imageContext, plan.namePrefix);
                const context = programRelative(spec.imageContext);
                return new docker.RemoteImage(
                    `${name}-image`,
                    {
                        name: checkedName.apply((n) => `${n}-${tag}`),
                        build: { context, dockerfile: spec.imageDockerfile },
                        keepLocally: true,
                    },
                    child,
                ).name;
            }
            case "local":
                // By id: a rebuilt image (a new id under the same name) replaces the nodes on the next `pulumi up`.
                return checkedName.apply((n) => (n === spec.image && spec.imageId !== undefined ? spec.imageId : n));
            default: {
                const never: never = spec.imageMode;
                return never;
            }
        }
    }
}

/** `for c in a b; do docker logs -f c | sed "s/^/[c] /" & done; wait`, for the names given. */
export function followLogsCommand(containerNames: string[]): string {
    return (
        `for c in ${containerNames.join(" ")}; do ` +
        `docker logs -f --tail 100 "$c" 2>&1 | sed -u "s/^/[$c] /" & done; wait`
    );
}
