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
