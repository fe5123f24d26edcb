/**
 * The Kubernetes source: a ddpsim Job's pods by their labels, through the API (@kubernetes/client-node). A node is a
 * completion index; its pods are the attempts. No fault hooks: faults are made on Docker only.
 */
import { LogLine } from "../../logs/logLine";
import { CliError } from "../../errors";
import { ClusterNode, ClusterIdentity, ClusterSource, LogRange, NodeState } from "../source";
import { KubernetesApi } from "./client";
import { findNodes, jobOfNode, nodeState, podsOf, readJob } from "./jobs";
import { followNodeLogs, readNodeLogs } from "./logs";

export class KubernetesSource implements ClusterSource {
    private readonly cache = new Map<string, LogLine[]>();

    constructor(
        readonly api: KubernetesApi,
        readonly ref: ClusterIdentity,
    ) {}

    async nodes(): Promise<ClusterNode[]> {
        return (await findNodes(this.api, this.ref)).nodes;
    }

    async state(node: ClusterNode): Promise<NodeState> {
        const job = await readJob(this.api, jobOfNode(node));
        if (job === undefined) throw new CliError(`the Job of ${node.node} (${jobOfNode(node).name}) is gone: was the stack destroyed?`);
        return nodeState(node, job, await podsOf(this.api, node));
    }

    async readLogs(node: ClusterNode, range: LogRange = {}): Promise<LogLine[]> {
        return readNodeLogs(this.api, node, await podsOf(this.api, node), range, this.cache);
    }

    async followLogs(node: ClusterNode, range: LogRange, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<void> {
        const pods = await podsOf(this.api, node);
        return followNodeLogs(this.api, node, pods[pods.length - 1], range, onLine, signal);
    }
}
