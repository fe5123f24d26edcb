/** Reading what the Pulumi CLI prints (`up`, `preview`, `destroy` without --json). */

export type ResourceChanges = Partial<Record<"create" | "update" | "replace" | "delete" | "same", number>>;

const WORDS: Record<string, keyof ResourceChanges> = {
    created: "create",
    "to create": "create",
    updated: "update",
    "to update": "update",
    replaced: "replace",
    "to replace": "replace",
    deleted: "delete",
    "to delete": "delete",
    unchanged: "same",
};

/** The `Resources:` summary (`+ 8 created`, `+-3 replaced`, `5 unchanged`) as counts by operation. */
export function resourceChanges(output: string): ResourceChanges {
    const block = /^Resources:\n((?:[ \t]+\S.*\n?)+)/m.exec(output)?.[1] ?? "";
    const changes: ResourceChanges = {};
    for (const line of block.split("\n")) {
        const match = /^\s+[+~-]*\s*(\d+) (to create|to update|to replace|to delete|created|updated|replaced|deleted|unchanged)\b/.exec(line);
        if (match !== null) changes[WORDS[match[2]]] = Number(match[1]);
    }
    return changes;
}

/**
 * The `Diagnostics:` section: each `error:` line with the lines that continue it (indented deeper), relative to
 * the error's own indentation; warnings apart.
 */
export function diagnostics(output: string): { errors: string[]; warnings: string[] } {
    const section = /^Diagnostics:\n([\s\S]*?)(?=^\S|$(?![\s\S]))/m.exec(output)?.[1] ?? "";
    const lines = section.split("\n");
    const errors: string[] = [];
    const warnings: string[] = [];
    for (let i = 0; i < lines.length; i++) {
        const match = /^(\s*)(error|warning): /.exec(lines[i]);
        if (match === null) continue;
        const indent = match[1].length;
        const target = match[2] === "error" ? errors : warnings;
        target.push(lines[i].slice(indent));
        for (let j = i + 1; j < lines.length && lines[j].length - lines[j].trimStart().length > indent && lines[j].trim() !== ""; j++) {
            target.push(lines[j].slice(indent));
        }
    }
    return { errors, warnings };
}
