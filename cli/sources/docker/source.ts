/** The Docker source: a cluster's containers by their labels, read and changed through the Docker API (dockerode). */
import Docker from "dockerode";
import { ClusterNode, ClusterIdentity, ClusterSource, FaultHooks, LogRange, NodeState } from "../source";
import { LogLine } from "../../logs/logLine";
import { findNodes, inspectNode } from "./cluster";
import { healAll } from "./faults/heal";
import { faultProblem, inject } from "./faults/inject";
import { followLogs, readLogs } from "./logs";

export class DockerSource implements ClusterSource {
    /** Whether each container has a TTY (its log stream is raw then, not multiplexed), from its last inspect. */
    private readonly tty = new Map<string, boolean>();
    readonly faults: FaultHooks;

    constructor(
        readonly docker: Docker,
        readonly ref: ClusterIdentity,
    ) {
        this.faults = {
            problem: (node, spec, active) => faultProblem(docker, ref, node, spec, active),
            inject: (node, spec, store) => inject(docker, ref, node, spec, store),
            heal: (store, records) => healAll(docker, store, records),
        };
    }

    nodes(): Promise<ClusterNode[]> {
        return findNodes(this.docker, this.ref);
    }

    async state(node: ClusterNode): Promise<NodeState> {
        const { tty, ...state } = await inspectNode(this.docker, node);
        this.tty.set(node.id, tty);
        return state;
    }

    async readLogs(node: ClusterNode, range: LogRange = {}): Promise<LogLine[]> {
        return readLogs(this.docker, { ...node, tty: await this.ttyOf(node) }, range);
    }

    async followLogs(node: ClusterNode, range: LogRange, onLine: (line: LogLine) => void, signal: AbortSignal): Promise<void> {
        return followLogs(this.docker, { ...node, tty: await this.ttyOf(node) }, range, onLine, signal);
    }

    private async ttyOf(node: ClusterNode): Promise<boolean> {
        const known = this.tty.get(node.id);
        if (known !== undefined) return known;
        await this.state(node);
        return this.tty.get(node.id)!;
    }
}
