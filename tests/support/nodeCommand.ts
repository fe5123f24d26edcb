import * as assert from "assert";
import { NodeAgentConfig, nodeAgentSource, packageTrainingDir } from "../../components/plan";

/** A node's container command split into its parts: the agent (checked to be ours), its config, torchrun's argv. */
export function splitNodeCommand(command: string[]): { config: NodeAgentConfig; torchrun: string[] } {
    const [python, dashC, source, config, ...torchrun] = command;
    assert.deepStrictEqual([python, dashC], ["python3", "-c"]);
    assert.strictEqual(source, nodeAgentSource(packageTrainingDir()), "the node agent's source, as in training/node_agent.py");
    return { config: JSON.parse(config), torchrun };
}
