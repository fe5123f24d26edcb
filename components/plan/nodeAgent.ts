import * as fs from "fs";
import * as path from "path";
import { ShapingConfig } from "./interconnect";
import { NcclSocketDefaults } from "./ncclSockets";

/** The node agent's source (training/node_agent.py), run by every node as `python3 -c <source> <config> <command...>`. */
export function nodeAgentSource(trainingDir: string): string {
    return fs.readFileSync(path.join(trainingDir, "node_agent.py"), "utf8");
}

/** What one node's agent is told; see training/node_agent.py. */
export interface NodeAgentConfig {
    node: string;
    rank: number;
    controlDir: string;
    graceSeconds: number;
    failFastExitCodes: number[];
    failFastRepeats: number;
    shaping?: ShapingConfig;
    /** After shaping (as root), the user torchrun runs as; "@workspace" is the working directory's owner. */
    runAs?: string;
    /** NCCL socket settings for a GPU node, applied when it sees enough CPUs and its env does not set them. */
    ncclSockets?: NcclSocketDefaults;
    /**
     * Kubernetes: the exit code of a node stopped before its script finished (a signal to it, or a peer's stop note),
     * even when the workers stopped cleanly; a Job counts exit 0 as that index done for good. Docker leaves it out.
     */
    stopExitCode?: number;
}

/** The container command: the agent, its config as JSON, then the command it supervises (never re-parsed). */
export function agentCommand(source: string, config: NodeAgentConfig, command: string[]): string[] {
    return ["python3", "-c", source, JSON.stringify(config), ...command];
}
