import { CONTAINER_INTERFACE, CONTAINER_PATHS } from "./defaults";
import { allocateGpus } from "./gpus";
import { nodeCapabilities, shapedCommand } from "./interconnect";
import { masterHealthcheck, torchrunCommand } from "./launch";
import { ncclSocketEnv } from "./ncclSockets";
import { dockerName, hostLabel } from "./names";
import { ClusterIdentity, ClusterPlan, ClusterSpec, MountPlan, NodePlan } from "./types";

export const LABEL_PREFIX = "ddpsim";

function mountsOf(spec: ClusterSpec, checkpointVolumeName: string): MountPlan[] {
    const mounts: MountPlan[] = [
        { type: "bind", source: spec.codeDir, target: CONTAINER_PATHS.workspace, readOnly: true },
        { type: "volume", source: checkpointVolumeName, target: CONTAINER_PATHS.checkpoints, readOnly: false },
    ];
    if (spec.datasetDir !== undefined) {
        mounts.push({ type: "bind", source: spec.datasetDir, target: CONTAINER_PATHS.data, readOnly: true });
    }
    if (spec.datasetVolume !== undefined) {
        mounts.push({ type: "volume", source: spec.datasetVolume, target: CONTAINER_PATHS.data, readOnly: true });
    }
    return mounts;
}

/** Turns a validated spec into everything the cluster declares, one entry per node. Pure. */
export function planCluster(spec: ClusterSpec, identity: ClusterIdentity): ClusterPlan {
    const namePrefix = dockerName(identity.project, identity.stack, identity.name);
    const masterHost = hostLabel(identity.name, "node-0");
    const masterEndpoint = `${masterHost}:${spec.masterPort}`;
    const rendezvousId = namePrefix;
    const checkpointVolumeName = spec.checkpointVolumeName ?? `${namePrefix}-checkpoints`;
    const labels = {
        [`${LABEL_PREFIX}.project`]: identity.project,
        [`${LABEL_PREFIX}.stack`]: identity.stack,
        [`${LABEL_PREFIX}.cluster`]: identity.name,
    };
    const command = shapedCommand(spec.interconnect, CONTAINER_INTERFACE, torchrunCommand(spec, masterEndpoint, rendezvousId));
    const capabilities = nodeCapabilities(spec.interconnect);
    const mounts = mountsOf(spec, checkpointVolumeName);
    const gpus = allocateGpus(spec.nodes, spec.gpusPerNode, spec.gpuIds);

    const nodes: NodePlan[] = gpus.map((gpuIds, rank) => ({
        rank,
        role: rank === 0 ? "master" : "worker",
        resourceName: `${identity.name}-node-${rank}`,
        containerNameBase: `${namePrefix}-node-${rank}`,
        hostname: hostLabel(identity.name, `node-${rank}`),
        gpuIds,
        env: {
            PYTHONUNBUFFERED: "1",
            PYTHONDONTWRITEBYTECODE: "1",
            NCCL_SOCKET_IFNAME: CONTAINER_INTERFACE,
            GLOO_SOCKET_IFNAME: CONTAINER_INTERFACE,
            // torch >= 2.5 shares the rendezvous store with the workers, which breaks --max-restarts (pytorch#135712).
            TORCH_DISABLE_SHARE_RDZV_TCP_STORE: "1",
            // GPU nodes: NCCL's socket transport tuned to the host's speed (plan/ncclSockets.ts); user values win.
            ...ncclSocketEnv(spec.gpusPerNode),
            ...spec.env,
            NODE_RANK: String(rank),
            NNODES: String(spec.nodes),
            MASTER_ADDR: masterHost,
            MASTER_PORT: String(spec.masterPort),
        },
        command,
        mounts,
        capabilities,
        labels: {
            ...labels,
            [`${LABEL_PREFIX}.rank`]: String(rank),
            [`${LABEL_PREFIX}.role`]: rank === 0 ? "master" : "worker",
        },
    }));

    return {
        spec,
        identity,
        namePrefix,
        networkNameBase: `${namePrefix}-net`,
        checkpointVolumeName,
        masterHost,
        masterEndpoint,
        rendezvousId,
        labels,
        masterHealthcheck: masterHealthcheck(spec.masterPort),
        nodes,
    };
}
