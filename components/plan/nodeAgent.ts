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
}

/** The container command: the agent, its config as JSON, then the command it supervises (never re-parsed). */
export function agentCommand(source: string, config: NodeAgentConfig, command: string[]): string[] {
    return ["python3", "-c", source, JSON.stringify(config), ...command];
}
