/**
 * Writes the docker-compose.yml of a stack, from the same plan the Pulumi program deploys:
 *   npm run compose -- [--stack dev] [--out docker-compose.yml] [--config-file FILE] [--name ddp] [--project-dir DIR]
 * Reads Pulumi.yaml (project name, config defaults) and Pulumi.<stack>.yaml (or --config-file) without the Pulumi
 * CLI, checks them as the stack program does (same errors, naming the `ddpsim:` keys), plans, and writes YAML.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { checkStackConfig, ClusterPlan, planCluster, PropertyError, readStackConfig } from "../components/plan";
import { readTarget, targetProblems } from "../components/targets/targetKeys";
import { hostReading } from "../components/hostReading";
import { defaultOwner } from "../components/owner";
import { suggestedProjectName, writeComposeFile } from "../components/targets/compose";
import { runMain } from "./runMain";
import { runExport } from "./stackFileArgs";

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

/** A Compose file runs on Docker: a kubernetes stack, or a Kubernetes key, is refused as the stack program refuses it. */
function composeTargetErrors(files: StackFiles): PropertyError[] {
    const target = readTarget(files.config.target);
    if (!target.ok) return [target.error];
    if (target.target === "kubernetes") {
        return [{ propertyPath: "target", reason: 'target is "kubernetes", and a Compose file runs on Docker: export this stack with npm run manifests, got "kubernetes"' }];
    }
    return targetProblems("docker", readStackConfig((key) => files.config[key]).args);
}

/** Checks and plans a stack exactly as the stack program does; relative folders resolve against `projectDir`. */
export function planStack(
    files: StackFiles,
    projectDir: string,
    clusterName: string = STACK_CLUSTER_NAME,
): { ok: true; plan: ClusterPlan } | { ok: false; message: string; errors: PropertyError[] } {
    const owner = files.config.owner ?? defaultOwner();
    const identity = { owner, project: files.project, stack: files.stack, cluster: clusterName };
    const checked = checkStackConfig({
        namespace: files.project,
        stack: files.stack,
        get: (key) => files.config[key],
        presentKeys: files.presentKeys,
        baseDir: projectDir,
        // A Compose file may run on another host: this one's images and GPU runtime are not its business.
        options: hostReading(files.dockerHost, identity, { image: false, gpuRuntime: false }),
        extraErrors: [...composeTargetErrors(files), ...files.errors],
    });
    if (!checked.ok) return checked;
    if (checked.spec.codeMode === "image") {
        const errors = [{
            propertyPath: `${files.project}:codeMode`,
            reason:
                `${files.project}:codeMode "image" builds the code layer through Pulumi; a Compose file bind-mounts codeDir: ` +
                `export with codeMode "mount" (or put the code in your image and point codeDir at an empty folder)`,
        }];
        return { ok: false, errors, message: `Invalid stack config for stack "${files.stack}":\n  - ${errors[0].reason}` };
    }
    const plan = planCluster(checked.spec, identity);
    return { ok: true, plan };
}

/** The command line; returns the exit code. */
export function main(argv: string[], log: (line: string) => void = console.log, warn = console.error): number {
    const command = { name: "compose", what: "writes the stack's cluster as a docker-compose.yml, from the same plan as the stack program", defaultOut: "docker-compose.yml" };
    return runExport(argv, command, log, warn, (options) => {
        const files = readStackFiles(options.projectDir, options.stack, options.configFile);
        const planned = planStack(files, options.projectDir, options.name);
        if (!planned.ok) {
            warn(planned.message);
            return 1;
        }
        const out = path.resolve(options.out);
        const document = writeComposeFile(planned.plan, out, files.source);
        const project = suggestedProjectName(planned.plan);
        const relative = path.relative(process.env.INIT_CWD ?? process.cwd(), out);
        const shown = relative === "" || relative.startsWith("..") ? out : relative;
        log(`wrote ${shown}: ${Object.keys(document.services).join(", ")}`);
        log(`run it with: docker-compose -p ${project} -f ${shown} up -d`);
        return 0;
    });
}

if (require.main === module) runMain(main);
