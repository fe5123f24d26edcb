/**
 * A cluster's state now: its source's state of every node plus what each node's log says, read incrementally so
 * that `wait` can poll without reading whole logs again. Shared by every verb that judges a cluster.
 */
import { FactsBuilder, LogFacts } from "../logs/logFacts";
import { compareTime, LogLine } from "../logs/logLine";
import { ClusterNode, ClusterIdentity, ClusterSource, NodeState } from "../sources/source";
import { clusterVerdict, ClusterVerdict, NodeSnapshot } from "./verdict";

export interface NodeReport extends NodeState {
    facts: LogFacts;
}

export interface ClusterSnapshot {
    ref: ClusterIdentity;
    nodes: NodeReport[];
    verdict: ClusterVerdict;
    /** When it was taken, ms since the epoch. */
    atMs: number;
}

export class ClusterTracker {
    private readonly builders = new Map<string, FactsBuilder>();
    private readonly lastLine = new Map<string, LogLine>();

    constructor(
        private readonly source: ClusterSource,
        readonly nodes: ClusterNode[],
        private readonly stallAfterSeconds: number,
    ) {}

    get ref(): ClusterIdentity {
        return this.source.ref;
    }

    /** Reads every node's state and the log lines written since the last call; judges the cluster. */
    async snapshot(now: () => number = Date.now): Promise<ClusterSnapshot> {
        const states = await Promise.all(this.nodes.map((n) => this.source.state(n)));
        const nodes = await Promise.all(states.map(async (state) => ({ ...state, facts: await this.readNew(state) })));
        const atMs = now();
        const verdict = clusterVerdict(nodes as NodeSnapshot[], atMs, this.stallAfterSeconds);
        return { ref: this.ref, nodes, verdict, atMs };
    }

    private async readNew(state: NodeState): Promise<LogFacts> {
        const builder = this.builders.get(state.id) ?? new FactsBuilder();
        this.builders.set(state.id, builder);
        const last = this.lastLine.get(state.id);
        const lines = await this.source.readLogs(state, last === undefined ? {} : { after: last });
        for (const line of lines) {
            if (last !== undefined && compareTime(line, last) <= 0) continue;
            builder.add(line);
            this.lastLine.set(state.id, line);
        }
        return builder.facts;
    }
}
