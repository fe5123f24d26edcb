/**
 * Command line for the Docker-backed stack runner, so that each `up` gets a process of its own (the mock
 * runtime is global to a process) and two stacks can come up at the same time:
 *   node -r ts-node/register/transpile-only tests/support/stackCli.ts up <stack> '<config json>' [program.ts]
 *   node -r ts-node/register/transpile-only tests/support/stackCli.ts destroy <stack>
 * Prints one line `DDPSIM_OUTPUTS {json}` (up) or `DDPSIM_REMOVED {json}` (destroy: the antichains of
 * `type::name`, first to last); exits 1 on failure. The program defaults to the repository's index.ts.
 */
import * as path from "path";
import { destroy, PROGRAM, up } from "./stackRunner";

async function main(): Promise<void> {
    const [verb, stack, configJson, program] = process.argv.slice(2);
    if (verb === "up" && stack !== undefined) {
        const outputs = await up(stack, JSON.parse(configJson ?? "{}"), program === undefined ? PROGRAM : path.resolve(program));
        console.log(`DDPSIM_OUTPUTS ${JSON.stringify(outputs)}`);
    } else if (verb === "destroy" && stack !== undefined) {
        const removed = await destroy(stack);
        console.log(`DDPSIM_REMOVED ${JSON.stringify(removed.map((chain) => chain.map((e) => `${e.type}::${e.name}`)))}`);
    } else {
        throw new Error("usage: stackCli.ts up <stack> '<config json>' [program.ts] | destroy <stack>");
    }
}

main().then(
    () => process.exit(0),
    (err) => {
        console.error(err instanceof Error ? err.message : String(err));
        process.exit(1);
    },
);
