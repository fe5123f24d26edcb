/** The cluster the shared flags select, and the source it comes from: today Docker (DOCKER_HOST, else the local socket). */
import { defaultOwner } from "../../components/owner";
import { checkName, DEFAULT_CLUSTER, defaultProject, TargetOptions } from "../options";
import { resolveCluster } from "./docker/cluster";
import { connectDocker } from "./docker/connect";
import { DockerSource } from "./docker/source";
import { ClusterNode, ClusterRef, ClusterSource } from "./source";

export interface Target {
    source: ClusterSource;
    ref: ClusterRef;
    nodes: ClusterNode[];
}

/** The source, the cluster the flags select (its stack said on stderr when it was guessed), and its nodes. */
export async function openTarget(options: TargetOptions): Promise<Target> {
    checkName(options.project, "--project");
    checkName(options.stack, "--stack");
    checkName(options.cluster, "--cluster");
    const docker = await connectDocker();
    const { ref, note } = await resolveCluster(docker, {
        owner: options.owner ?? defaultOwner(),
        project: options.project ?? defaultProject(),
        cluster: options.cluster ?? DEFAULT_CLUSTER,
        stack: options.stack,
    });
    if (note !== undefined) process.stderr.write(`ddpsim: ${note}\n`);
    const source = new DockerSource(docker, ref);
    const nodes = await source.nodes();
    return { source, ref, nodes };
}
