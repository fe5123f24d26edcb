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
