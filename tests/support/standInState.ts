/**
 * The stand-in's state: what `pulumi up` under the mock runtime created, recorded as Pulumi records it (URN, parent,
 * dependencies, retainOnDelete), and the order in which `pulumi destroy` deletes it.
 *
 * The order is Pulumi's own (pkg/v3 v3.276.0, resource/deploy/step_generator.go `ScheduleDeletes` over
 * resource/graph/dependency_graph.go `DependenciesOf`): repeatedly take every condemned resource none of whose
 * dependencies is still condemned, then reverse that list of antichains. The steps of one antichain run in parallel;
 * an antichain starts once the previous one has finished.
 */

/** One resource in the state, as the engine keeps it (in short). */
export interface StateEntry {
    urn: string;
    type: string;
    name: string;
    /** The provider's id ("" for components and the stack). */
    id: string;
    custom: boolean;
    /** The parent's URN; "" for the stack. */
    parent: string;
    /** Explicit `dependsOn` and every resource an input came from (the request's dependencies and property dependencies). */
    dependencies: string[];
    /** The `deletedWith` resource's URN, or "". */
    deletedWith: string;
    retainOnDelete: boolean;
    /** The inputs the resource was created with (what the provider's delete reads, e.g. destroyGraceSeconds). */
    inputs: Record<string, any>;
    /**
     * Set when the create failed after the provider had made the resource (a container that would not start): the
     * engine keeps such a resource in the state with its error, so `destroy` removes it.
     */
    initError?: string;
}

/**
 * The resources `entry` depends on for deletion, as the engine's DependencyGraph.DependenciesOf: its dependencies,
 * deletedWith and parent among the resources before it in the state, and for a component it depends on, that
 * component's (transitive) children that come before it.
 */
export function dependenciesOf(state: StateEntry[], entry: StateEntry): StateEntry[] {
    const index = state.indexOf(entry);
    if (index < 0) throw new Error(`${entry.urn} is not in the state`);
    const wanted = new Set([...entry.dependencies, ...(entry.deletedWith !== "" ? [entry.deletedWith] : [])]);
    const found = new Set<StateEntry>();
    for (let i = index - 1; i >= 0; i--) {
        const candidate = state[i];
        if (wanted.has(candidate.urn)) {
            found.add(candidate);
            if (!candidate.custom) {
                for (let j = i + 1; j < index; j++) {
                    if (isDescendant(state, state[j], candidate.urn)) found.add(state[j]);
                }
            }
        }
        if (candidate.urn === entry.parent) found.add(candidate);
    }
    return [...found];
}

function isDescendant(state: StateEntry[], entry: StateEntry, ancestor: string): boolean {
    const byUrn = new Map(state.map((e) => [e.urn, e]));
    for (let parent = entry.parent; parent !== ""; parent = byUrn.get(parent)?.parent ?? "") {
        if (parent === ancestor) return true;
    }
    return false;
}

/** Everything `entry` depends on, directly or not (what cannot be deleted once deleting `entry` failed). */
export function transitiveDependenciesOf(state: StateEntry[], entry: StateEntry): Set<StateEntry> {
    const seen = new Set<StateEntry>();
    const queue = [entry];
    while (queue.length > 0) {
        for (const dep of dependenciesOf(state, queue.pop()!)) {
            if (!seen.has(dep)) {
                seen.add(dep);
                queue.push(dep);
            }
        }
    }
    return seen;
}

/** `pulumi destroy`'s schedule: antichains of deletions, first to last. Within one antichain, state order. */
export function deleteSchedule(state: StateEntry[]): StateEntry[][] {
    const condemned = new Set(state);
    const chains: StateEntry[][] = [];
    const deps = new Map(state.map((e) => [e, dependenciesOf(state, e)]));
    while (condemned.size > 0) {
        const chain = state.filter((e) => condemned.has(e) && deps.get(e)!.every((d) => !condemned.has(d)));
        if (chain.length === 0) throw new Error("the state's dependencies form a cycle");
        for (const e of chain) condemned.delete(e);
        chains.push(chain);
    }
    return chains.reverse();
}
