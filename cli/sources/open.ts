/**
 * The cluster the shared flags select, and the source it comes from: Kubernetes when the stack's file in this folder
 * (Pulumi.<stack>.yaml) says `target: kubernetes` (the kubeconfig kubectl would use), else Docker (DOCKER_HOST, else
 * the local socket).
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { defaultOwner } from "../../components/owner";
import { CliError } from "../errors";
import { checkName, DEFAULT_CLUSTER, defaultProject, TargetOptions } from "../options";
import { resolveCluster } from "./docker/cluster";
import { connectDocker } from "./docker/connect";
import { DockerSource } from "./docker/source";
import { connectKubernetes } from "./kubernetes/client";
import { findNodes } from "./kubernetes/jobs";
import { KubernetesSource } from "./kubernetes/source";
import { ClusterNode, ClusterIdentity, ClusterSource } from "./source";

export interface Target {
    source: ClusterSource;
    ref: ClusterIdentity;
    nodes: ClusterNode[];
}

/** The source, the cluster the flags select (its stack said on stderr when it was guessed), and its nodes. */
export async function openTarget(options: TargetOptions): Promise<Target> {
    checkName(options.project, "--project");
    checkName(options.stack, "--stack");
    checkName(options.cluster, "--cluster");
    const project = options.project ?? defaultProject();
    if (options.stack !== undefined && stackTarget(project, options.stack) === "kubernetes") {
        return openKubernetes({ owner: options.owner ?? defaultOwner(), project, stack: options.stack, cluster: options.cluster ?? DEFAULT_CLUSTER });
    }
    const docker = await connectDocker();
    const { ref, note } = await resolveCluster(docker, {
        owner: options.owner ?? defaultOwner(),
        project,
        cluster: options.cluster ?? DEFAULT_CLUSTER,
        stack: options.stack,
    });
    if (note !== undefined) process.stderr.write(`ddpsim: ${note}\n`);
    const source = new DockerSource(docker, ref);
    const nodes = await source.nodes();
    return { source, ref, nodes };
}

/** `<project>:target` of ./Pulumi.<stack>.yaml, when that file is here and sets it. */
export function stackTarget(project: string, stack: string, dir = process.cwd()): string | undefined {
    const file = path.join(dir, `Pulumi.${stack.split("/").pop()}.yaml`);
    if (!fs.existsSync(file)) return undefined;
    const value = (parse(fs.readFileSync(file, "utf8")) ?? {}).config?.[`${project}:target`];
    return typeof value === "string" ? value : undefined;
}

/** The Job of a kubernetes stack, on the cluster of the current kubeconfig context. */
export async function openKubernetes(ref: ClusterIdentity): Promise<Target> {
    const api = await connectKubernetes();
    const { nodes } = await findNodes(api, ref);
    if (nodes.length === 0) {
        throw new CliError(
            `no Job of stack ${ref.stack} (project ${ref.project}, owner ${ref.owner}, cluster ${ref.cluster}) on the Kubernetes cluster at ${api.server}: is the stack up?`,
        );
    }
    return { source: new KubernetesSource(api, ref), ref, nodes };
}
