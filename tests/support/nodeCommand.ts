import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { NodeAgentConfig, packageTrainingDir } from "../../components/plan";

/** A node's container command split into its parts: the agent (checked to be ours, as a file), its config, torchrun's argv. */
export function splitNodeCommand(command: string[]): { config: NodeAgentConfig; torchrun: string[] } {
    const [python, agent, config, ...torchrun] = command;
    assert.deepStrictEqual([python, agent], ["python3", "/opt/ddpsim/node_agent.py"]);
    return { config: JSON.parse(config), torchrun };
}

/** ddpsim's node files as a node has them: the package's training/<name> at /opt/ddpsim/<name>. */
export function nodeFile(name: string): { name: string; source: string; target: string; sha256: string } {
    const source = path.join(packageTrainingDir(), name);
    return { name, source, target: `/opt/ddpsim/${name}`, sha256: crypto.createHash("sha256").update(fs.readFileSync(source)).digest("hex") };
}

/** The `ddpsim.agent` label of nodes that have these files: 16 hex digits of sha256 over each name and content hash. */
export function agentLabel(names: string[] = ["node_agent.py"]): string {
    const hash = crypto.createHash("sha256");
    for (const name of names) hash.update(`${name}\0${nodeFile(name).sha256}\0`);
    return hash.digest("hex").slice(0, 16);
}
