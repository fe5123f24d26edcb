/**
 * A stack's config as the exports read it (`npm run compose`, `npm run manifests`): Pulumi.yaml's defaults and the
 * stack's file, without the Pulumi CLI, and the stack program's one check of it (components/targets/stackCheck.ts),
 * with the cluster's identity.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { hostReading } from "../components/hostReading";
import { defaultOwner } from "../components/owner";
import { ClusterIdentity, PropertyError, Target } from "../components/plan";
import { checkStackConfig, StackCheck } from "../components/targets/stackCheck";

/** The cluster's resource name in the stack program (index.ts). */
export const STACK_CLUSTER_NAME = "ddp";

export interface StackFiles {
    project: string;
    stack: string;
    /** Every config value of the project's namespace as the CLI hands it to the program: text, JSON for the rest. */
    config: Record<string, string>;
    /** Keys present in the stack file, in the project's namespace. */
    presentKeys: string[];
    /** Problems that only a file read without the CLI has (secrets). */
    errors: PropertyError[];
    source: string;
    /** The Docker engine the file is for: stack config `docker:host`, else DOCKER_HOST (for `gpuIds: ["auto"]`). */
    dockerHost?: string;
}

function asText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Reads Pulumi.yaml's defaults and the stack's config file, as `pulumi config` would give them to the program.
 * `holder` names what is written (a secret is refused, since it would stand there in clear text).
 */
export function readStackFiles(projectDir: string, stack: string, configFile?: string, holder = "a Compose file"): StackFiles {
    const projectFile = parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) ?? {};
    const project = String(projectFile.name);
    const file = configFile ?? path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`no stack config file ${file} (pulumi stack init ${stack} creates one)`);
    const stackFile = parse(fs.readFileSync(file, "utf8")) ?? {};

    const config: Record<string, string> = {};
    for (const [key, schema] of Object.entries((projectFile.config ?? {}) as Record<string, any>)) {
        const bare = key.startsWith(`${project}:`) ? key.slice(project.length + 1) : key;
        if (schema !== null && typeof schema === "object" && "default" in schema) config[bare] = asText(schema.default);
    }
    const presentKeys: string[] = [];
    const errors: PropertyError[] = [];
    for (const [key, value] of Object.entries((stackFile.config ?? {}) as Record<string, unknown>)) {
        if (!key.startsWith(`${project}:`)) continue;
        const bare = key.slice(project.length + 1);
        presentKeys.push(bare);
        if (value !== null && typeof value === "object" && "secure" in value) {
            errors.push({ propertyPath: bare, reason: `${bare} is a secret, which ${holder} cannot hold` });
            continue;
        }
        config[bare] = asText(value);
    }
    const dockerHost = (stackFile.config ?? {})["docker:host"] ?? process.env.DOCKER_HOST;
    return { project, stack, config, presentKeys, errors, source: path.relative(projectDir, file) || file, dockerHost };
}

/**
 * Checks the stack's files as the stack program checks its config, for `target` whatever the stack's is; relative
 * folders resolve against `projectDir`. A file written for another host asks this one's engine for neither images nor
 * a GPU runtime; `extraErrors` come after the file's own (a secret in the file).
 */
export function checkStackFiles(
    files: StackFiles,
    projectDir: string,
    target: Target,
    clusterName: string = STACK_CLUSTER_NAME,
    extraErrors: PropertyError[] = [],
): { checked: StackCheck; identity: ClusterIdentity } {
    const identity = { owner: files.config.owner ?? defaultOwner(), project: files.project, stack: files.stack, cluster: clusterName };
    const checked = checkStackConfig({
        namespace: files.project,
        stack: files.stack,
        get: (key) => files.config[key],
        presentKeys: files.presentKeys,
        baseDir: projectDir,
        options: hostReading(files.dockerHost, identity, { image: false, gpuRuntime: false }),
        extraErrors: [...extraErrors, ...files.errors],
        target,
    });
    return { checked, identity };
}
