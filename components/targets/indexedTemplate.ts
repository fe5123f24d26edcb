/**
 * N node plans folded into the one pod template of an Indexed Job. The plan gives every node its own environment and
 * command; a Job has one template, and each pod learns its index from JOB_COMPLETION_INDEX. So every value that
 * differs between nodes must be the node's index inside text that all nodes share (`NODE_RANK=3`, `ddp-job-3`,
 * `"rank": 3`), which the template writes as `$(JOB_COMPLETION_INDEX)`: Kubernetes expands such references in a
 * container's command, args and env values when it starts the pod. Any other difference is refused by name, and the
 * fold is checked: the template, expanded for index i, is node i's plan again.
 */
import { NodePlan } from "../plan";

/** The variable every pod of an Indexed Job has: its completion index, 0 .. completions-1. */
export const INDEX_VARIABLE = "JOB_COMPLETION_INDEX";
export const INDEX_REFERENCE = `$(${INDEX_VARIABLE})`;

/** Stands for the pod's index while a template is built; private-use characters, which JSON leaves as they are. */
const INDEX_MARK = "\uE000index\uE000";
/** Stands for the index as a JSON number (`"rank": 3`). */
const NUMBER_MARK = "\uE000number\uE000";

/** Text that stands for `$(NAME)` in a node's values: kept by the fold, expanded by Kubernetes. */
export function referenceMark(name: string): string {
    return `\uE000ref:${name}\uE000`;
}

/** Kubernetes expands `$(NAME)` in command, args and env values, and reads `$$` as `$`: a literal keeps its `$` so. */
export function escapeDollars(text: string): string {
    return text.replace(/\$/g, "$$$$");
}

/**
 * Kubernetes' expansion of command, args and env values (k8s.io/kubernetes third_party/forked/golang/expansion):
 * `$$` is `$`, `$(NAME)` is the variable's value when it is defined and stays as written otherwise, any other `$`
 * stays.
 */
export function expandKubernetes(input: string, vars: Record<string, string> | ((name: string) => string | undefined)): string {
    const lookup = typeof vars === "function" ? vars : (name: string) => (Object.hasOwn(vars, name) ? vars[name] : undefined);
    let out = "";
    let checkpoint = 0;
    for (let cursor = 0; cursor < input.length; cursor++) {
        if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
        out += input.slice(checkpoint, cursor);
        const rest = input.slice(cursor + 1);
        let read: string;
        let advance: number;
        if (rest[0] === "$") {
            [read, advance] = ["$", 1];
        } else if (rest[0] === "(") {
            const close = rest.indexOf(")", 1);
            if (close < 0) {
                [read, advance] = ["$(", 1];
            } else {
                const name = rest.slice(1, close);
                [read, advance] = [lookup(name) ?? `$(${name})`, close + 1];
            }
        } else {
            [read, advance] = [`$${rest[0]}`, 1];
        }
        out += read;
        cursor += advance;
        checkpoint = cursor + 1;
    }
    return out + input.slice(checkpoint);
}

/** Escapes a marked text and turns its marks into references. */
function finish(marked: string): string {
    return escapeDollars(marked)
        .split(`"${NUMBER_MARK}"`).join(INDEX_REFERENCE)
        .split(INDEX_MARK).join(INDEX_REFERENCE)
        .replace(/\uE000ref:([A-Za-z_][A-Za-z0-9_]*)\uE000/g, "$$($1)");
}

function commonPrefix(values: string[]): string {
    let end = 0;
    while (values.every((v) => end < v.length && v[end] === values[0][end])) end++;
    return values[0].slice(0, end);
}

/**
 * The values of one field on nodes 0..n-1 as one marked text: the shared value, or `prefix + index + suffix` when node
 * i's value is the shared prefix and suffix around i. Undefined for anything else. With two nodes or more the split
 * is unique: node 0's index and node 1's differ in their first and in their last character.
 */
function markedText(values: string[]): string | undefined {
    if (values.every((v) => v === values[0])) return values[0];
    const prefix = commonPrefix(values);
    const reversed = values.map((v) => [...v.slice(prefix.length)].reverse().join(""));
    const suffix = [...commonPrefix(reversed)].reverse().join("");
    const varies = values.every((v, i) => v.slice(prefix.length, v.length - suffix.length) === String(i));
    return varies ? `${prefix}${INDEX_MARK}${suffix}` : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseObject(text: string): Record<string, unknown> | undefined {
    try {
        const value = JSON.parse(text);
        return isObject(value) ? value : undefined;
    } catch {
        return undefined;
    }
}

/** A JSON object per node (the node agent's config), folded field by field. */
function markedJson(texts: string[]): string | undefined {
    const objects = texts.map(parseObject);
    if (objects.some((o, i) => o === undefined || JSON.stringify(o) !== texts[i])) return undefined;
    const first = objects[0] as Record<string, unknown>;
    const keys = Object.keys(first);
    if (objects.some((o) => JSON.stringify(Object.keys(o!)) !== JSON.stringify(keys))) return undefined;
    const folded: Record<string, unknown> = {};
    for (const key of keys) {
        const values = objects.map((o) => o![key]);
        if (values.every((v) => JSON.stringify(v) === JSON.stringify(values[0]))) {
            folded[key] = values[0];
        } else if (values.every((v, i) => v === i)) {
            folded[key] = NUMBER_MARK;
        } else if (values.every((v) => typeof v === "string")) {
            const marked = markedText(values as string[]);
            if (marked === undefined) return undefined;
            folded[key] = marked;
        } else {
            return undefined;
        }
    }
    return JSON.stringify(folded);
}

function fold(what: string, values: string[]): string {
    const marked = markedText(values) ?? markedJson(values);
    if (marked === undefined) {
        const shown = values.slice(0, 3).map((v) => JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}...` : v));
        throw new Error(`the Kubernetes target cannot write ${what} as one pod template: it differs between nodes other than by their index (${shown.join(", ")}, ...)`);
    }
    return finish(marked);
}

/** What all pods of the Job share, with `$(...)` references where nodes differ. */
export interface IndexedTemplate {
    /** The plan's environment, in its order; values escaped for Kubernetes. */
    env: { name: string; value: string }[];
    /** The node command, escaped for Kubernetes. */
    command: string[];
    /** The labels every node has (per-node labels cannot be in one template). */
    labels: Record<string, string>;
}

/** The nodes' command, environment and shared labels as one template; throws on what cannot be folded. */
export function foldNodes(nodes: Pick<NodePlan, "env" | "command" | "labels">[]): IndexedTemplate {
    const [first] = nodes;
    const names = Object.keys(first.env);
    for (const node of nodes) {
        if (JSON.stringify(Object.keys(node.env)) !== JSON.stringify(names)) {
            throw new Error("the Kubernetes target cannot write the environment as one pod template: the nodes' variables differ");
        }
        if (node.command.length !== first.command.length) {
            throw new Error("the Kubernetes target cannot write the command as one pod template: its length differs between nodes");
        }
    }
    const template: IndexedTemplate = {
        env: names.map((name) => ({ name, value: fold(`the variable ${name}`, nodes.map((n) => n.env[name])) })),
        command: first.command.map((_, at) => fold(`word ${at} of the command`, nodes.map((n) => n.command[at]))),
        labels: Object.fromEntries(Object.entries(first.labels).filter(([k, v]) => nodes.every((n) => n.labels[k] === v))),
    };
    // The check that makes the fold a translation: node i's plan is the template expanded for index i.
    nodes.forEach((node, i) => {
        const vars = templateVariables(i);
        const env = Object.fromEntries(template.env.map((e) => [e.name, expandKubernetes(e.value, vars)]));
        const command = template.command.map((word) => expandKubernetes(word, vars));
        if (JSON.stringify(env) !== JSON.stringify(node.env) || JSON.stringify(command) !== JSON.stringify(node.command)) {
            throw new Error(`the Kubernetes pod template, expanded for index ${i}, is not node ${i}'s plan`);
        }
    });
    return template;
}

/** The variables the fold's check expands with: the index, and every other reference as its own mark. */
function templateVariables(index: number): (name: string) => string {
    return (name) => (name === INDEX_VARIABLE ? String(index) : referenceMark(name));
}
