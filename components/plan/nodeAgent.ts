/**
 * The node agent (training/node_agent.py), the main process of every node. It is shipped to the nodes as a file, not
 * inside their command: each target puts ddpsim's node files at NODE_FILES_DIR, read-only, its own way (Docker: the
 * provider's uploads; Compose: a read-only bind mount; Kubernetes: a ConfigMap volume), and every node's command is
 * `python3 /opt/ddpsim/node_agent.py <config json> torchrun ...`. The files' content hash is a label of every node
 * (ddpsim.agent), so that an agent change shows in a preview, and replaces the nodes, without printing the source.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ShapingConfig } from "./interconnect";
import { NcclSocketDefaults } from "./ncclSockets";
import { packageTrainingDir } from "./validate";

/** Where every node has ddpsim's own files, read-only. */
export const NODE_FILES_DIR = "/opt/ddpsim";
export const NODE_AGENT_FILE = "node_agent.py";

/** A file of this package that every node has at `target`. */
export interface NodeFile {
    /** Its file name, also its key in a Kubernetes ConfigMap. */
    name: string;
    /** Absolute path of the file in this package (training/). */
    source: string;
    /** Where the node has it. */
    target: string;
    /** sha256 of its content, hex. */
    sha256: string;
}

/** training/<name> of this package, as a node file at NODE_FILES_DIR/<name>. */
export function packageNodeFile(name: string, trainingDir: string = packageTrainingDir()): NodeFile {
    const source = path.join(trainingDir, name);
    const sha256 = createHash("sha256").update(fs.readFileSync(source)).digest("hex");
    return { name, source, target: `${NODE_FILES_DIR}/${name}`, sha256 };
}

/** The files of every node: the node agent. */
export function agentFiles(trainingDir: string = packageTrainingDir()): NodeFile[] {
    return [packageNodeFile(NODE_AGENT_FILE, trainingDir)];
}

/** 16 hex digits over the files' names and contents: the `ddpsim.agent` label. */
export function nodeFilesHash(files: NodeFile[]): string {
    const hash = createHash("sha256");
    for (const file of files) hash.update(`${file.name}\0${file.sha256}\0`);
    return hash.digest("hex").slice(0, 16);
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

/** The container command: the agent's file, its config as JSON, then the command it supervises (never re-parsed). */
export function agentCommand(config: NodeAgentConfig, command: string[]): string[] {
    return ["python3", `${NODE_FILES_DIR}/${NODE_AGENT_FILE}`, JSON.stringify(config), ...command];
}
