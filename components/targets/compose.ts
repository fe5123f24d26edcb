/**
 * The cluster plan as a Docker Compose file, for people who cannot use Pulumi: the same services (one per node),
 * network, volumes, GPUs, commands and start order as the DdpCluster component declares.
 *
 * Compose has no random suffix: where the component appends one to container and network names
 * (`ddpsim-dev-ddp-node-0-x7k2qa`), this file uses the plan's base names (`ddpsim-dev-ddp-node-0`), which are
 * already unique per project, stack and cluster name. The Compose project name (`docker-compose -p`) groups one
 * run's objects for `up` and `down`; give each run its own (we suggest the plan's name prefix), and export another
 * stack (or cluster name) to run a second copy on the same host at the same time.
 *
 * ddpsim's node files (the node agent) are read-only bind mounts of this package's files: Compose's `configs` with
 * inline content would copy them into the file, but docker-compose 1.x (Debian 12's) refuses `content` and ignores
 * `configs` outside a swarm.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { ClusterPlan, MountPlan, NodePlan } from "../plan/types";

export interface ComposeBuild {
    context: string;
    dockerfile: string;
}

export interface ComposeVolumeMount {
    type: "bind" | "volume";
    source: string;
    target: string;
    read_only?: true;
}

export interface ComposeHealthcheck {
    test: string[];
    interval: string;
    timeout: string;
    start_period: string;
    retries: number;
}

export interface ComposeDevice {
    driver: string;
    device_ids: string[];
    capabilities: string[];
}

export interface ComposeService {
    image: string;
    build?: ComposeBuild;
    pull_policy?: "never" | "missing";
    container_name: string;
    hostname: string;
    command: string[];
    working_dir: string;
    environment: Record<string, string>;
    volumes: ComposeVolumeMount[];
    networks: Record<string, { aliases: string[] }>;
    shm_size: string;
    restart: string;
    stop_signal: string;
    stop_grace_period: string;
    cap_add?: string[];
    cap_drop?: string[];
    security_opt: string[];
    user?: string;
    labels: Record<string, string>;
    deploy?: { resources: { reservations: { devices: ComposeDevice[] } } };
    healthcheck?: ComposeHealthcheck;
    depends_on?: Record<string, { condition: "service_started" }>;
}

export interface ComposeNetwork {
    name: string;
    driver: "bridge";
    labels: Record<string, string>;
}

export interface ComposeVolume {
    name: string;
    external: boolean;
    labels?: Record<string, string>;
}

/** A Compose Specification document (no `version` key: docker-compose 1.27+ and Compose v2 read it as is). */
export interface ComposeDocument {
    services: Record<string, ComposeService>;
    networks: Record<string, ComposeNetwork>;
    volumes: Record<string, ComposeVolume>;
}

export interface ComposeOptions {
    /**
     * The folder the Compose file is written to. Host paths under it are written relative to it (`./training`),
     * so that the file and the repository can move together; Compose resolves them against the file's folder.
     * Host paths elsewhere stay absolute. Without it, every path stays absolute.
     */
    fileDir?: string;
}

/** Keys of the Compose file's `networks` and `volumes` sections. */
export const COMPOSE_KEYS = { network: "cluster", checkpoints: "checkpoints", dataset: "dataset" } as const;

/** The NodePlan fields this export translates. A field added to the plan must be translated here, not dropped. */
const TRANSLATED_NODE_FIELDS: readonly string[] = [
    "rank", "role", "resourceName", "containerNameBase", "hostname", "gpuIds", "env", "command", "files", "mounts", "labels",
    "capabilities", "workingDir", "securityOpts", "user",
];

/** The Compose service name of a node. */
export function serviceName(rank: number): string {
    return `node-${rank}`;
}

/** Compose interpolates `$NAME` in every value; `$$` is a literal `$`. */
function escapeDollars<T>(value: T): T {
    if (typeof value === "string") return value.replace(/\$/g, "$$$$") as unknown as T;
    if (Array.isArray(value)) return value.map((v) => escapeDollars(v)) as unknown as T;
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDollars(v)])) as T;
    }
    return value;
}

function hostPath(absolute: string, options: ComposeOptions): string {
    if (options.fileDir === undefined) return absolute;
    const relative = path.relative(options.fileDir, absolute);
    if (relative === "") return ".";
    if (relative.startsWith("..") || path.isAbsolute(relative)) return absolute;
    return `./${relative.split(path.sep).join("/")}`;
}

function volumeMount(plan: ClusterPlan, mount: MountPlan, options: ComposeOptions): ComposeVolumeMount {
    let source: string;
    if (mount.type === "bind") {
        source = hostPath(mount.source, options);
    } else if (mount.source === plan.checkpointVolumeName) {
        source = COMPOSE_KEYS.checkpoints;
    } else if (mount.source === plan.spec.datasetVolume) {
        source = COMPOSE_KEYS.dataset;
    } else {
        throw new Error(`the Compose export does not know the volume ${JSON.stringify(mount.source)} at ${mount.target}`);
    }
    return { type: mount.type, source, target: mount.target, ...(mount.readOnly ? { read_only: true as const } : {}) };
}

function checkTranslated(node: NodePlan): void {
    const unknown = Object.keys(node).filter((key) => !TRANSLATED_NODE_FIELDS.includes(key));
    if (unknown.length > 0) {
        throw new Error(`the Compose export does not translate the node plan field(s): ${unknown.join(", ")}`);
    }
}

function imageFields(plan: ClusterPlan, node: NodePlan, options: ComposeOptions): Pick<ComposeService, "image" | "build" | "pull_policy"> {
    const spec = plan.spec;
    switch (spec.imageMode) {
        case "registry":
            return { image: spec.image, pull_policy: "missing" };
        case "build":
            // One build, by node 0: Compose creates node 0 first (the workers depend on it), so the tag exists
            // when the workers are created.
            return node.role === "master"
                ? {
                      image: spec.image,
                      build: { context: hostPath(spec.imageContext, options), dockerfile: spec.imageDockerfile },
                  }
                : { image: spec.image };
        case "local":
            return { image: spec.image, pull_policy: "never" };
        default: {
            const never: never = spec.imageMode;
            return never;
        }
    }
}

function service(plan: ClusterPlan, node: NodePlan, options: ComposeOptions): ComposeService {
    checkTranslated(node);
    const spec = plan.spec;
    const health = plan.masterHealthcheck;
    const master = plan.nodes[0];
    return {
        ...imageFields(plan, node, options),
        container_name: node.containerNameBase,
        hostname: node.hostname,
        command: node.command,
        working_dir: node.workingDir,
        environment: node.env,
        volumes: [
            ...node.files.map((f) => ({ type: "bind" as const, source: hostPath(f.source, options), target: f.target, read_only: true as const })),
            ...node.mounts.map((m) => volumeMount(plan, m, options)),
        ],
        networks: { [COMPOSE_KEYS.network]: { aliases: [node.hostname] } },
        shm_size: `${spec.shmSizeMb}m`,
        restart: spec.restartRetries > 0 ? `on-failure:${spec.restartRetries}` : "no",
        stop_signal: "SIGTERM",
        stop_grace_period: `${spec.stopGraceSeconds}s`,
        ...(node.capabilities.adds.length > 0 ? { cap_add: node.capabilities.adds } : {}),
        ...(node.capabilities.drops.length > 0 ? { cap_drop: node.capabilities.drops } : {}),
        security_opt: node.securityOpts,
        ...(node.user !== undefined ? { user: node.user } : {}),
        labels: node.labels,
        ...(node.gpuIds.length > 0
            ? {
                  deploy: {
                      resources: {
                          reservations: {
                              devices: [{ driver: "nvidia", device_ids: node.gpuIds, capabilities: ["gpu"] }],
                          },
                      },
                  },
              }
            : {}),
        ...(node.role === "master"
            ? {
                  healthcheck: {
                      test: health.tests,
                      interval: health.interval,
                      timeout: health.timeout,
                      start_period: health.startPeriod,
                      retries: health.retries,
                  },
              }
            : { depends_on: { [serviceName(master.rank)]: { condition: "service_started" as const } } }),
    };
}

/** The Compose document of a plan. Pure: same plan, same document. */
export function composeDocument(plan: ClusterPlan, options: ComposeOptions = {}): ComposeDocument {
    const volumes: Record<string, ComposeVolume> = {
        [COMPOSE_KEYS.checkpoints]: { name: plan.checkpointVolumeName, external: false, labels: plan.labels },
    };
    if (plan.spec.datasetVolume !== undefined) {
        // Like the component, the cluster only reads the dataset volume; whoever filled it owns it.
        volumes[COMPOSE_KEYS.dataset] = { name: plan.spec.datasetVolume, external: true };
    }
    const document: ComposeDocument = {
        services: Object.fromEntries(plan.nodes.map((node) => [serviceName(node.rank), service(plan, node, options)])),
        networks: { [COMPOSE_KEYS.network]: { name: plan.networkNameBase, driver: "bridge", labels: plan.labels } },
        volumes,
    };
    return escapeDollars(document);
}

/** The Compose project name we suggest for a plan: its name prefix (`ddpsim-dev-ddp`). */
export function suggestedProjectName(plan: ClusterPlan): string {
    return plan.namePrefix.toLowerCase().replace(/[^a-z0-9_-]/g, "-");
}

/** The file's text: a header that says where it came from and how to run it, then the document. */
export function composeYaml(plan: ClusterPlan, document: ComposeDocument, source: string): string {
    const project = suggestedProjectName(plan);
    const header = [
        `# Generated by \`npm run compose\` from ${source}; edit the stack config and export again instead.`,
        `# ${plan.nodes.length} node(s), ${plan.spec.gpusPerNode} GPU(s) each, rendezvous at ${plan.masterEndpoint}.`,
        `#   docker-compose -p ${project} -f <this file> up -d      # node 0 first, then the workers (c10d retries)`,
        `#   docker-compose -p ${project} -f <this file> logs -f`,
        `#   docker-compose -p ${project} -f <this file> down      # add -v to delete the checkpoint volume too`,
        "# Names are fixed (Compose has no random suffix): one copy of this file runs at a time on a host.",
    ];
    return `${header.join("\n")}\n${stringify(document, { lineWidth: 0 })}`;
}

/** Writes the plan's Compose file; returns the document written. */
export function writeComposeFile(plan: ClusterPlan, file: string, source: string): ComposeDocument {
    const document = composeDocument(plan, { fileDir: path.dirname(path.resolve(file)) });
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    fs.writeFileSync(file, composeYaml(plan, document, source));
    return document;
}
