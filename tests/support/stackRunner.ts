/**
 * `pulumi up` and `pulumi destroy` of the real stack program (index.ts) without the Pulumi CLI: the program
 * runs under Pulumi's mock runtime and every resource is applied to the local Docker engine. The state (what
 * was created, with ids and retainOnDelete) is kept in a JSON file, as Pulumi keeps its state.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { applyResource, destroyFromState, StateEntry } from "./dockerHarness";
import { REPO_ROOT } from "./stackFiles";

export { REPO_ROOT };

export const PROJECT = "ddpsim";
const PROGRAM = path.join(REPO_ROOT, "index.ts");

export function statePath(stack: string): string {
    return path.join(os.tmpdir(), "ddpsim-e2e-state", `${PROJECT}-${stack}.json`);
}

export function readState(stack: string): StateEntry[] {
    const file = statePath(stack);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as StateEntry[]) : [];
}

function writeState(stack: string, state: StateEntry[]): void {
    fs.mkdirSync(path.dirname(statePath(stack)), { recursive: true });
    fs.writeFileSync(statePath(stack), JSON.stringify(state, null, 2));
}

/** Runs the stack program against Docker; resolves to the stack outputs. Config keys as in Pulumi.<stack>.yaml. */
export async function up(stack: string, config: Record<string, string>): Promise<Record<string, any>> {
    const state = readState(stack);
    const retain = new Map<string, boolean>();
    await pulumi.runtime.setMocks(
        {
            newResource: async (args) => {
                const created = await applyResource(args);
                state.push({
                    type: args.type,
                    name: args.name,
                    id: created.id,
                    inputs: args.inputs,
                    retainOnDelete: retain.get(`${args.type}::${args.name}`) ?? false,
                });
                writeState(stack, state);
                return created;
            },
            call: (args) => {
                throw new Error(`Mock not implemented: ${args.token}`);
            },
        },
        PROJECT,
        stack,
        false,
    );
    pulumi.runtime.setAllConfig(config);
    for (const key of Object.keys(require.cache)) {
        if (key === PROGRAM) delete require.cache[key];
    }
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((args) => {
            retain.set(`${args.type}::${args.name}`, args.opts.retainOnDelete === true);
            return undefined;
        });
        return require(PROGRAM);
    });
    // The stack's outputs are still being registered when runInPulumiStack returns: wait for every RPC.
    await pulumi.runtime.disconnect();
    return (outputs ?? {}) as Record<string, any>;
}

/** Deletes what `up` created, keeping retained resources; clears the state. */
export async function destroy(stack: string): Promise<StateEntry[]> {
    const removed = await destroyFromState(readState(stack));
    fs.rmSync(statePath(stack), { force: true });
    return removed;
}
