/**
 * `pulumi up` and `pulumi destroy` of a stack program (index.ts unless told otherwise) without the Pulumi CLI: the
 * program runs under Pulumi's mock runtime and every resource is applied to the local Docker engine by the stand-in
 * (dockerHarness.ts). The state is kept in a JSON file, as Pulumi keeps its state: each resource with its URN,
 * parent, dependencies and retainOnDelete, taken from the registration the program sends, so that `destroy` deletes
 * in the engine's order (standInState.ts).
 *
 * The stand-in creates and deletes; it never diffs, updates or replaces. `up` on a stack that still has resources
 * is refused: destroy first.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { applyResource, Created, deleteResource, PartialCreateError } from "./dockerHarness";
import { deleteSchedule, StateEntry, transitiveDependenciesOf } from "./standInState";
import { REPO_ROOT } from "./stackFiles";

export { REPO_ROOT };
export type { StateEntry };

export const PROJECT = "ddpsim";
export const PROGRAM = path.join(REPO_ROOT, "index.ts");

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

/** What the program's RegisterResource request said about a resource, beyond its inputs. */
interface Registration {
    urn: string;
    parent: string;
    dependencies: string[];
    deletedWith: string;
    retainOnDelete: boolean;
}

/**
 * Records every RegisterResource request the program sends to the mock monitor: its URN (as the mock monitor makes
 * it), parent, dependencies (dependsOn and the resources its inputs came from), deletedWith and retainOnDelete.
 */
function recordRegistrations(): Map<string, Registration> {
    const registrations = new Map<string, Registration>();
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: unknown) => {
        const key = `${req.getType()}::${req.getName()}`;
        if (registrations.has(key)) throw new Error(`the stand-in's state cannot hold two resources named ${key}`);
        const propertyDependencies: string[] = [];
        req.getPropertydependenciesMap().forEach((deps: any) => propertyDependencies.push(...deps.getUrnsList()));
        registrations.set(key, {
            urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
            parent: req.getParent() ?? "",
            dependencies: [...new Set([...req.getDependenciesList(), ...propertyDependencies])],
            deletedWith: req.getDeletedwith() ?? "",
            retainOnDelete: req.getRetainondelete() === true,
        });
        return register(req, callback);
    };
    return registrations;
}

/**
 * Runs a stack program against Docker; resolves to the stack outputs. Config keys as in Pulumi.<stack>.yaml. A
 * resource whose create failed after it was made (a container that would not start) is recorded with its error,
 * as the engine records it, and `up` fails.
 */
export async function up(stack: string, config: Record<string, string>, program = PROGRAM): Promise<Record<string, any>> {
    const state = readState(stack);
    if (state.length > 0) {
        throw new Error(
            `stack ${stack} still has ${state.length} resource(s) in ${statePath(stack)}: the stand-in creates, it does not ` +
                "update or replace; destroy the stack first",
        );
    }
    let registrations = new Map<string, Registration>();
    const record = (args: pulumi.runtime.MockResourceArgs, created: Created, initError?: string) => {
        const registration = registrations.get(`${args.type}::${args.name}`);
        if (registration === undefined) throw new Error(`no registration seen for ${args.type}::${args.name}`);
        state.push({
            ...registration,
            type: args.type,
            name: args.name,
            id: created.id,
            custom: args.custom !== false,
            inputs: args.inputs,
            ...(initError !== undefined ? { initError } : {}),
        });
        writeState(stack, state);
    };
    await pulumi.runtime.setMocks(
        {
            newResource: async (args) => {
                try {
                    const created = await applyResource(args);
                    record(args, created);
                    return created;
                } catch (err) {
                    if (err instanceof PartialCreateError) record(args, err.created, err.message);
                    throw err;
                }
            },
            call: (args) => {
                throw new Error(`Mock not implemented: ${args.token}`);
            },
        },
        PROJECT,
        stack,
        false,
    );
    registrations = recordRegistrations();
    pulumi.runtime.setAllConfig(config);
    for (const key of Object.keys(require.cache)) {
        if (key === program) delete require.cache[key];
    }
    const outputs = await pulumi.runtime.runInPulumiStack(async () => require(program));
    // The stack's outputs are still being registered when runInPulumiStack returns: wait for every RPC.
    await pulumi.runtime.disconnect();
    return (outputs ?? {}) as Record<string, any>;
}

/**
 * `pulumi destroy`: deletes the state's resources in the engine's order (antichains one after the other, the steps
 * of one in parallel), each as the provider deletes it; retained resources are only forgotten. When a delete fails,
 * what it depends on is kept and the rest goes on, as the engine does; then destroy fails, the state holding what is
 * left. Resolves to the antichains as they ran (retained entries included, with retainOnDelete set).
 */
export async function destroy(stack: string): Promise<StateEntry[][]> {
    const state = readState(stack);
    const left = [...state];
    const kept = new Set<StateEntry>();
    const errors: string[] = [];
    const ran: StateEntry[][] = [];
    for (const chain of deleteSchedule(state)) {
        const steps = chain.filter((e) => !kept.has(e));
        const results = await Promise.allSettled(steps.map((e) => deleteResource(e)));
        const deleted: StateEntry[] = [];
        results.forEach((result, i) => {
            const entry = steps[i];
            if (result.status === "fulfilled") {
                deleted.push(entry);
                left.splice(left.indexOf(entry), 1);
            } else {
                errors.push(`deleting ${entry.urn}: ${(result.reason as Error).message ?? result.reason}`);
                kept.add(entry);
                for (const dep of transitiveDependenciesOf(state, entry)) kept.add(dep);
            }
        });
        writeState(stack, left);
        if (deleted.length > 0) ran.push(deleted);
    }
    if (errors.length > 0) throw new Error(`destroy of ${stack} failed:\n${errors.join("\n")}`);
    fs.rmSync(statePath(stack), { force: true });
    return ran;
}
