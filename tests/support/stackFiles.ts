import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** Stack config as the Pulumi CLI passes it: Pulumi.<stack>.yaml plus overrides, every value a string. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    const config = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")).config;
    const merged = { ...config, ...overrides };
    return Object.fromEntries(
        Object.entries(merged).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    );
}

/** A checkout of the program at `dir`, what a user's project folder or a CI runner holds: sources copied, node_modules linked. */
export function checkoutAt(dir: string): string {
    fs.mkdirSync(dir, { recursive: true });
    // bin (the compiled program, when built) last: copied after the sources, it is newer, as after `npm run build`.
    for (const entry of ["index.ts", "program.js", "Pulumi.yaml", "package.json", "tsconfig.json", "components", "training", "scripts", "bin"]) {
        if (!fs.existsSync(path.join(REPO_ROOT, entry))) continue;
        fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true, filter: (src) => !src.includes("__pycache__") });
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}
