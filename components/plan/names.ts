import { createHash } from "crypto";

/**
 * Six hex digits that tell apart clusters whose readable names coincide: another owner's `dev` stack, or the
 * clusters `team/a` and `team-a` (both `team-a` once sanitised). Stable: the same identity gives the same digits.
 */
export function identityTag(owner: string, project: string, stack: string, name: string): string {
    return createHash("sha256").update([owner, project, stack, name].join("\0")).digest("hex").slice(0, 6);
}

/** Docker object names: letters, digits, `_`, `.`, `-`, starting with a letter or digit. */
export function dockerName(...parts: string[]): string {
    const joined = parts.join("-").replace(/[^a-zA-Z0-9_.-]+/g, "-").replace(/^[^a-zA-Z0-9]+/, "");
    return joined === "" ? "ddpsim" : joined;
}

/** An RFC 1123 host label (lower case, digits, `-`, at most 63 characters), ending in `suffix`. */
export function hostLabel(base: string, suffix: string): string {
    const clean = base.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
    const head = clean.slice(0, 63 - suffix.length - 1).replace(/-+$/, "");
    return head === "" ? suffix : `${head}-${suffix}`;
}

/**
 * The name of node `rank` among `nodes`: `node-7`, or `node-07` when there are more than ten. torchrun's c10d
 * rendezvous numbers nodes in the sorted order of their host names, so zero-padding makes that order the rank
 * order (unpadded, `node-10` would sort before `node-2`).
 */
export function nodeName(rank: number, nodes: number): string {
    const width = String(Math.max(nodes - 1, 0)).length;
    return `node-${String(rank).padStart(width, "0")}`;
}
