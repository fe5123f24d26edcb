import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { probeLocalGpus } from "./hostProbe";
import {
    ClusterPlan,
    CONTAINER_INTERFACE,
    describeErrors,
    describeLink,
    LinkSpec,
    NodePlan,
    planCluster,
    planFingerprint,
    RawClusterArgs,
    resolveClusterSpec,
    ResolveOptions,
    tcCommands,
} from "./plan";

/** Arguments of a {@link DdpCluster}. Every field is optional; see each default. */
export interface DdpClusterArgs {
    /** Number of simulated nodes (one container each). Plain: it decides how many containers exist. @default 2 */
    nodes?: number;
    /** GPUs bound to each node; 0 makes a CPU cluster (gloo). @default 0 */
    gpusPerNode?: number;
    /**
     * Host GPU ids or UUIDs to hand out, `gpusPerNode` per node in order; `["auto"]` reads this machine's GPUs
     * (`nvidia-smi -L`; the Docker engine must be local and list the nvidia runtime). @default ["0", ..., nodes*gpusPerNode-1]
     */
    gpuIds?: string[];
    /** Let nodes share GPUs round-robin when gpuIds has fewer than nodes x gpusPerNode (never twice in one node). @default false */
    gpuSharing?: boolean;
    /** Training processes per node (torchrun `--nproc-per-node`). @default gpusPerNode, or 1 on CPU */
    procsPerNode?: number;
    /** Image name: a registry reference, the tag to build, or an image already on the host. @default "ddpsim-cpu:latest" */
    image?: pulumi.Input<string>;
    /** "registry" pulls `image` (kept on destroy), "build" builds `imageContext`, "local" uses `image` as it is. @default "local" */
    imageMode?: string;
    /** Dockerfile folder for imageMode "build", relative to the working directory. @default this package's training/ */
    imageContext?: string;
    /** Dockerfile path inside `imageContext`. @default "Dockerfile" */
    imageDockerfile?: string;
    /** Host folder of the training code, mounted read-only at /code and put on PYTHONPATH. @default this package's training/ */
    codeDir?: string;
    /** Script that torchrun starts, relative to codeDir. @default "train_ddp.py" */
    script?: string;
    /** A module that torchrun starts as `python -m module` (instead of script), found in codeDir. @default none */
    module?: string;
    /** The script's arguments, passed exactly as given. @default [] */
    scriptArgs?: string[];
    /** Extra torchrun flags such as `--rdzv-conf join_timeout=900` or `--tee 3`; flags the cluster sets are refused. @default [] */
    torchrunArgs?: string[];
    /** A flag of the script that takes the checkpoint directory (e.g. "--save-dir"): the cluster appends `<flag> /checkpoints`. @default none */
    checkpointDirArg?: string;
    /** A flag of the script that takes the dataset directory: the cluster appends `<flag> /data`. @default none */
    dataDirArg?: string;
    /** Host folder mounted read-only at /data (DDPSIM_DATA_DIR). @default none */
    datasetDir?: string;
    /** A named Docker volume mounted read-only at /data (not with datasetDir). @default none */
    datasetVolume?: string;
    /** Name of the run volume: the shared working directory /workspace, also mounted at /checkpoints. @default "<project>-<stack>-<name>-checkpoints" */
    checkpointVolumeName?: string;
    /** Keep the checkpoint volume on `pulumi destroy`. @default true */
    retainCheckpoints?: boolean;
    /** Rendezvous port of the master node (inside the cluster network; nothing is published). @default 29500 */
    masterPort?: number;
    /** torchrun `--max-restarts`: worker-group restarts after a failure. @default 3 */
    maxRestarts?: number;
    /** Docker restarts of a failed container (restart policy on-failure). @default 5 */
    restartRetries?: number;
    /** Size of /dev/shm in MB (Docker's default of 64 MB breaks DataLoader and NCCL). @default 2048 */
    shmSizeMb?: number;
    /** Seconds between SIGTERM and SIGKILL on stop or destroy, so a checkpoint can finish. @default 60 */
    stopGraceSeconds?: number;
    /** Worker exit codes that stop the cluster at the first occurrence, without restarts (2: usage error). @default [2, 3] */
    failFastExitCodes?: number[];
    /** The same error this many times in a row on one node stops the cluster; 0 never does. @default 2 */
    failFastRepeats?: number;
    /** Extra environment variables for every node. @default {} */
    env?: Record<string, string>;
    /**
     * Link between nodes, applied with tc on each node's interface before torchrun starts: "ideal" (unshaped),
     * "100mbit", "1gbe", "10gbe", "25gbe", "100gbe" (bandwidth only), "congested", "wan" (also latency,
     * jitter and loss, which need the kernel's netem). @default "ideal"
     */
    interconnect?: string;
    /** Egress bandwidth of each node in Mbit/s, replacing the profile's; 0 removes the limit. @default the profile's */
    linkBandwidthMbit?: number;
    /** Delay added to each packet a node sends, in ms (one way; needs netem). @default the profile's */
    linkLatencyMs?: number;
    /** +/- variation of that delay, in ms (needs netem and a latency). @default the profile's */
    linkJitterMs?: number;
    /** Packets dropped, in percent (needs netem). @default the profile's */
    linkLossPercent?: number;
}

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
    /** Name of the checkpoint volume. */
    public readonly checkpointVolumeName: pulumi.Output<string>;
    /** A shell command that follows all nodes' logs together, each line prefixed with its container. */
    public readonly logsCommand: pulumi.Output<string>;
    /** The simulated link between nodes and the tc commands that make it. */
    public readonly interconnect: pulumi.Output<DdpInterconnectInfo>;

    /** Validates the arguments; throws one InputPropertiesError listing every problem. */
    public static plan(name: string, args: DdpClusterArgs): ClusterPlan {
        const raw: RawClusterArgs = { ...args };
        if (pulumi.Output.isInstance(args.image)) delete raw.image;
        const result = resolveClusterSpec(raw, process.cwd(), DdpCluster.hostReading());
        if (!result.ok) {
            throw new pulumi.InputPropertiesError({
                message: describeErrors(`Invalid arguments for DdpCluster "${name}":`, result.errors),
                errors: result.errors,
            });
        }
        return planCluster(result.spec, { project: pulumi.getProject(), stack: pulumi.getStack(), name });
    }

    /** How `gpuIds: ["auto"]` reads this machine: the Docker host is `docker:host` config, else DOCKER_HOST. */
    public static hostReading(): ResolveOptions {
        const dockerHost = new pulumi.Config("docker").get("host") ?? process.env.DOCKER_HOST;
        return { localGpus: () => probeLocalGpus(dockerHost) };
    }

    constructor(name: string, args: DdpClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const plan = DdpCluster.plan(name, args ?? {});
        super("ddpsim:index:DdpCluster", name, {}, opts);
        const spec = plan.spec;

        const suffix = new random.RandomString(
            `${name}-suffix`,
            { length: 6, special: false, upper: false },
            { parent: this },
        );
        const unique = (base: string) => pulumi.interpolate`${base}-${suffix.result}`;


        const network = new docker.Network(
            `${name}-network`,
            { name: unique(plan.networkNameBase), driver: "bridge", labels: labelList(plan.labels) },
            { parent: this },
        );

        const checkpoints = new docker.Volume(
            `${name}-checkpoints`,
            { name: plan.checkpointVolumeName, labels: labelList(plan.labels) },
            { parent: this, retainOnDelete: spec.retainCheckpoints },
        );

        const image = this.declareImage(name, plan, args.image);

        // One deployment of the nodes: new whenever their containers are (a config or image change, or an up after
        // destroy), so that a verdict of an earlier run never stops this one.
        const runId = new random.RandomId(
            `${name}-run`,
            { byteLength: 6, keepers: { nodes: planFingerprint(plan), image } },
            { parent: this },
        );

        const containers: docker.Container[] = [];
        for (const node of plan.nodes) {
            const master = containers[0];
            // Workers are created right after the master container, not after it is healthy: c10d retries the
            // rendezvous until the master's store answers.
            containers.push(
                new docker.Container(
                    node.resourceName,
                    this.containerArgs(plan, node, image, unique(node.containerNameBase), network.name, runId.hex),
                    { parent: this, dependsOn: master === undefined ? [checkpoints] : [master] },
                ),
            );
        }

        this.networkName = network.name;
        this.masterEndpoint = pulumi.output(plan.masterEndpoint);
        this.checkpointVolumeName = checkpoints.name;
        this.containerNames = pulumi.all(containers.map((c) => c.name));
        this.nodes = this.containerNames.apply((names) =>
            plan.nodes.map((node, i) => ({
                rank: node.rank,
                containerName: names[i],
                hostname: node.hostname,
                gpuIds: node.gpuIds,
            })),
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

    private declareImage(name: string, plan: ClusterPlan, imageArg: DdpClusterArgs["image"]): pulumi.Output<string> {
        const spec = plan.spec;
        const imageName = pulumi.Output.isInstance(imageArg) ? imageArg : pulumi.output(spec.image);
        const checkedName = imageName.apply((value) => {
            if (typeof value !== "string" || value.trim() === "") {
                throw new pulumi.ResourceError(`image must be a non-empty string, got ${JSON.stringify(value)}`, this);
            }
            return value;
        });
        switch (spec.imageMode) {
            case "registry":
                return new docker.RemoteImage(
                    `${name}-image`,
                    { name: checkedName, keepLocally: true },
                    { parent: this },
                ).imageId;
            case "build":
                return new docker.Image(
                    `${name}-image`,
                    {
                        imageName: checkedName,
                        build: { context: spec.imageContext, dockerfile: spec.imageDockerfile },
                        skipPush: true,
                    },
                    { parent: this },
                ).imageName;
            case "local":
                return checkedName;
            default: {
                const never: never = spec.imageMode;
                return never;
            }
        }
    }

    private containerArgs(
        plan: ClusterPlan,
        node: NodePlan,
        image: pulumi.Output<string>,
        containerName: pulumi.Output<string>,
        networkName: pulumi.Output<string>,
        runId: pulumi.Output<string>,
    ): docker.ContainerArgs {
        const spec = plan.spec;
        const isMaster = node.role === "master";
        const health = plan.masterHealthcheck;
        return {
            name: containerName,
            image,
            hostname: node.hostname,
            networksAdvanced: [{ name: networkName, aliases: [node.hostname] }],
            envs: runId.apply((id) => [
                ...Object.entries(node.env).map(([key, value]) => `${key}=${value}`),
                `${plan.runIdVariable}=${id}`,
            ]),
            command: node.command,
            workingDir: node.workingDir,
            mounts: node.mounts.map((m) => ({ type: m.type, source: m.source, target: m.target, readOnly: m.readOnly })),
            shmSize: spec.shmSizeMb,
            restart: "on-failure",
            maxRetryCount: spec.restartRetries,
            mustRun: false,
            stopSignal: "SIGTERM",
            stopTimeout: spec.stopGraceSeconds,
            destroyGraceSeconds: spec.stopGraceSeconds,
            labels: labelList(node.labels),
            capabilities: {
                ...(node.capabilities.adds.length > 0 ? { adds: node.capabilities.adds } : {}),
                drops: node.capabilities.drops,
            },
            ...(node.gpuIds.length > 0
                ? { deviceRequests: [{ driver: "nvidia", deviceIds: node.gpuIds, capabilities: ["gpu"] }] }
                : {}),
            ...(isMaster
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
}

function labelList(labels: Record<string, string>): { label: string; value: string }[] {
    return Object.entries(labels).map(([label, value]) => ({ label, value }));
}

/** `for c in a b; do docker logs -f c | sed "s/^/[c] /" & done; wait`, for the names given. */
export function followLogsCommand(containerNames: string[]): string {
    return (
        `for c in ${containerNames.join(" ")}; do ` +
        `docker logs -f --tail 100 "$c" 2>&1 | sed -u "s/^/[$c] /" & done; wait`
    );
}
