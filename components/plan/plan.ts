import { CONTAINER_INTERFACE, CONTAINER_PATHS } from "./defaults";
import { allocateGpus } from "./gpus";
import { nodeCapabilities, shapingConfig } from "./interconnect";
import { masterHealthcheck, torchrunCommand } from "./launch";
import { identityLabels, LABELS } from "./labels";
import { dockerName, hostLabel, identityTag, nodeName } from "./names";
import { ncclSocketDefaults } from "./ncclSockets";
import { CHECK_LAUNCHER_FILE } from "./checkLauncher";
import { agentCommand, agentFiles, NodeAgentConfig, NodeFile, nodeFilesHash, packageNodeFile } from "./nodeAgent";
import { ClusterIdentity, ClusterPlan, ClusterSpec, MountPlan, NodeNaming, NodePlan } from "./types";

/** The variable that carries a target's id of one deployment of the nodes (see the node agent). */
export const RUN_ID_VARIABLE = "DDPSIM_RUN_ID";

/** The node agent's `runAs` for "whoever owns the working directory". */
export const RUN_AS_WORKSPACE_OWNER = "@workspace";

/** The run volume is both the working directory and the checkpoint directory; the code is read-only. */
function mountsOf(spec: ClusterSpec, runVolumeName: string): MountPlan[] {
    const mounts: MountPlan[] = [
        // codeMode "image": the code is in the image (a layer built from codeDir), nothing of the host is mounted.
        ...(spec.codeMode === "mount"
            ? [{ type: "bind" as const, source: spec.codeDir, target: CONTAINER_PATHS.code, readOnly: true }]
            : []),
        { type: "volume", source: runVolumeName, target: CONTAINER_PATHS.workspace, readOnly: false },
        { type: "volume", source: runVolumeName, target: CONTAINER_PATHS.checkpoints, readOnly: false },
    ];
    if (spec.datasetDir !== undefined) {
        mounts.push({ type: "bind", source: spec.datasetDir, target: CONTAINER_PATHS.data, readOnly: true });
    }
    if (spec.datasetVolume !== undefined) {
        mounts.push({ type: "volume", source: spec.datasetVolume, target: CONTAINER_PATHS.data, readOnly: true });
    }
    return mounts;
}

/**
 * What the script is told beyond torchrun's own variables (RANK, LOCAL_RANK, WORLD_SIZE, GROUP_RANK, ...): where
 * things are and which node it runs on, under ddpsim's names and under those Kubeflow's PyTorchJob/TrainJob
 * (PET_*) and plain launchers (NODE_RANK, MASTER_ADDR, ...) use.
 */
function runContract(spec: ClusterSpec, identity: ClusterIdentity, rank: number, hostname: string, masterHost: string) {
    const hasData = spec.datasetDir !== undefined || spec.datasetVolume !== undefined;
    return {
        DDPSIM_PROJECT: identity.project,
        DDPSIM_STACK: identity.stack,
        DDPSIM_CLUSTER: identity.cluster,
        DDPSIM_NODE: hostname,
        DDPSIM_NODE_RANK: String(rank),
        DDPSIM_NODES: String(spec.nodes),
        DDPSIM_PROCS_PER_NODE: String(spec.procsPerNode),
        DDPSIM_WORK_DIR: CONTAINER_PATHS.workspace,
        DDPSIM_CODE_DIR: CONTAINER_PATHS.code,
        DDPSIM_CHECKPOINT_DIR: CONTAINER_PATHS.checkpoints,
        DDPSIM_COLLECTIVE_TIMEOUT_SECONDS: String(spec.collectiveTimeoutSeconds),
        ...(spec.minNodes < spec.nodes ? { DDPSIM_MIN_NODES: String(spec.minNodes) } : {}),
        ...(hasData ? { DDPSIM_DATA_DIR: CONTAINER_PATHS.data } : {}),
        NODE_RANK: String(rank),
        NNODES: String(spec.nodes),
        MASTER_ADDR: masterHost,
        MASTER_PORT: String(spec.masterPort),
        PET_NNODES: String(spec.nodes),
        PET_NPROC_PER_NODE: String(spec.procsPerNode),
        PET_NODE_RANK: String(rank),
        PET_MASTER_ADDR: masterHost,
        PET_MASTER_PORT: String(spec.masterPort),
    };
}

/** The Docker targets' node names: `<name>-node-<rank>` on the cluster's own network, host name and alias alike. */
export function dockerNaming(spec: ClusterSpec, identity: ClusterIdentity): NodeNaming {
    const host = (rank: number) => hostLabel(identity.cluster, nodeName(rank, spec.nodes));
    return { hostname: host, address: host };
}

/** A node's environment: ddpsim's defaults, the user's `env`, then the run contract (which `env` cannot override). */
function nodeEnv(spec: ClusterSpec, identity: ClusterIdentity, rank: number, hostname: string, masterHost: string): Record<string, string> {
    return {
        PYTHONUNBUFFERED: "1",
        PYTHONDONTWRITEBYTECODE: "1",
        PYTHONPATH: CONTAINER_PATHS.code,
        NCCL_SOCKET_IFNAME: CONTAINER_INTERFACE,
        GLOO_SOCKET_IFNAME: CONTAINER_INTERFACE,
        // torch >= 2.5 shares the rendezvous store with the workers, which breaks --max-restarts (pytorch#135712).
        TORCH_DISABLE_SHARE_RDZV_TCP_STORE: "1",
        ...spec.env,
        ...runContract(spec, identity, rank, hostname, masterHost),
    };
}

/** What node `rank`'s agent is told (training/node_agent.py). */
function agentConfig(spec: ClusterSpec, rank: number, hostname: string): NodeAgentConfig {
    const shaping = shapingConfig(spec.interconnect, CONTAINER_INTERFACE);
    const nccl = ncclSocketDefaults(spec.gpusPerNode);
    return {
        node: hostname,
        rank,
        controlDir: CONTAINER_PATHS.control,
        graceSeconds: spec.stopGraceSeconds,
        failFastExitCodes: spec.failFastExitCodes,
        failFastRepeats: spec.failFastRepeats,
        ...(shaping !== undefined ? { shaping } : {}),
        // A shaped node starts as root (tc needs it); its agent then runs torchrun as `user`, or as the owner of the
        // working directory (the image's own user in ddpsim's images, whose folders a fresh volume inherits).
        ...(shaping !== undefined ? { runAs: spec.user ?? RUN_AS_WORKSPACE_OWNER } : {}),
        ...(nccl !== undefined ? { ncclSockets: nccl } : {}),
    };
}

/** A node's labels: the cluster's, its place in it, and the content hashes of what it runs. */
function nodeLabels(spec: ClusterSpec, cluster: Record<string, string>, rank: number, hostname: string, gpuIds: string[], agentHash: string) {
    return {
        ...cluster,
        [LABELS.rank]: String(rank),
        [LABELS.role]: rank === 0 ? "master" : "worker",
        [LABELS.node]: hostname,
        [LABELS.nodes]: String(spec.nodes),
        [LABELS.gpus]: gpuIds.join(","),
        [LABELS.agent]: agentHash,
        // The content of a bind-mounted code folder: a code change is a new run, and what a portable
        // preview compares instead of the folder's host path (components/portablePreview.ts).
        ...(spec.codeHash !== undefined ? { [LABELS.code]: spec.codeHash } : {}),
        ...(spec.minNodes < spec.nodes ? { [LABELS.minNodes]: String(spec.minNodes) } : {}),
    };
}

/** Turns a validated spec into everything the cluster declares, one entry per node. Pure. */
export function planCluster(
    spec: ClusterSpec,
    identity: ClusterIdentity,
    naming: NodeNaming = dockerNaming(spec, identity),
    agentNodeFiles: NodeFile[] = agentFiles(),
): ClusterPlan {
    const files = spec.checkHooks ? [...agentNodeFiles, packageNodeFile(CHECK_LAUNCHER_FILE)] : agentNodeFiles;
    const tag = identityTag(identity.owner, identity.project, identity.stack, identity.cluster);
    const namePrefix = dockerName(identity.project, identity.stack, identity.cluster, tag);
    const masterHost = naming.address(0);
    const masterEndpoint = `${masterHost}:${spec.masterPort}`;
    const rendezvousId = namePrefix;
    const checkpointVolumeName = spec.checkpointVolumeName ?? `${namePrefix}-checkpoints`;
    const labels = identityLabels(identity);
    const torchrun = torchrunCommand(spec, masterEndpoint, rendezvousId);
    const capabilities = nodeCapabilities(spec.interconnect, spec.user);
    // A shaped node starts as root (tc needs it); its agent then switches to `user` (agentConfig).
    const containerUser = spec.interconnect.shaped ? "0:0" : spec.user;
    const mounts = mountsOf(spec, checkpointVolumeName);
    const gpus = allocateGpus(spec.nodes, spec.gpusPerNode, spec.gpuIds);
    const agentHash = nodeFilesHash(files);

    const nodes: NodePlan[] = gpus.map((gpuIds, rank) => {
        const name = nodeName(rank, spec.nodes);
        const hostname = naming.hostname(rank);
        return {
            rank,
            role: rank === 0 ? "master" : "worker",
            resourceName: `${identity.cluster}-node-${rank}`,
            containerNameBase: `${namePrefix}-${name}`,
            hostname,
            gpuIds,
            env: nodeEnv(spec, identity, rank, hostname, masterHost),
            command: agentCommand(agentConfig(spec, rank, hostname), torchrun),
            files,
            mounts,
            capabilities,
            ...(containerUser !== undefined ? { user: containerUser } : {}),
            securityOpts: ["no-new-privileges:true"],
            workingDir: CONTAINER_PATHS.workspace,
            labels: nodeLabels(spec, labels, rank, hostname, gpuIds, agentHash),
        };
    });

    return {
        spec,
        identity,
        namePrefix,
        networkNameBase: `${namePrefix}-net`,
        checkpointVolumeName,
        masterHost,
        masterEndpoint,
        rendezvousId,
        runIdVariable: RUN_ID_VARIABLE,
        labels,
        masterHealthcheck: masterHealthcheck(spec.masterPort),
        nodes,
    };
}

/**
 * A short digest of everything the nodes are but the host paths behind their bind mounts and node files (which differ
 * from checkout to checkout; the nodes' labels carry the code's and the agent's content hashes instead): it changes
 * exactly when their containers would change for another reason than a moved folder.
 */
export function planFingerprint(plan: ClusterPlan): string {
    // FNV-1a over the JSON: a change detector, not a security measure. The container policy that is not per node
    // (shm, restarts, grace, healthcheck) is part of it too; resource options (retainCheckpoints) are not.
    const { shmSizeMb, restartRetries, stopGraceSeconds } = plan.spec;
    const nodes = plan.nodes.map((n) => ({
        ...n,
        mounts: n.mounts.map((m) => (m.type === "bind" ? { ...m, source: "" } : m)),
        files: n.files.map((f) => ({ ...f, source: "" })),
    }));
    const text = JSON.stringify([nodes, shmSizeMb, restartRetries, stopGraceSeconds, plan.masterHealthcheck]);
    let hash = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash.toString(16).padStart(8, "0");
}
