/**
 * Writes the docker-compose.yml of a stack, from the same plan the Pulumi program deploys:
 *   npm run compose -- [--stack dev] [--out docker-compose.yml] [--config-file FILE] [--name ddp] [--project-dir DIR]
 * Reads Pulumi.yaml (project name, config defaults) and Pulumi.<stack>.yaml (or --config-file) without the Pulumi
 * CLI, checks them as the stack program does (same errors, naming the `ddpsim:` keys), plans, and writes YAML.
 */
import * as path from "path";
import { ClusterPlan, planCluster, PropertyError } from "../components/plan";
import { suggestedProjectName, writeComposeFile } from "../components/targets/compose";
import { runMain } from "./runMain";
import { runExport } from "./stackFileArgs";
import { checkStackFiles, readStackFiles, STACK_CLUSTER_NAME, StackFiles } from "./stackFiles";

/** A Compose file runs on Docker: a kubernetes stack is refused (its Kubernetes keys are, as on any Docker stack). */
function composeTargetErrors(files: StackFiles): PropertyError[] {
    if (files.config.target !== "kubernetes") return [];
    return [{ propertyPath: "target", reason: 'target is "kubernetes", and a Compose file runs on Docker: export this stack with npm run manifests, got "kubernetes"' }];
}

/** Checks and plans a stack exactly as the stack program does; relative folders resolve against `projectDir`. */
export function planStack(
    files: StackFiles,
    projectDir: string,
    clusterName: string = STACK_CLUSTER_NAME,
): { ok: true; plan: ClusterPlan } | { ok: false; message: string; errors: PropertyError[] } {
    const { checked, identity } = checkStackFiles(files, projectDir, "docker", clusterName, composeTargetErrors(files));
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
    return { ok: true, plan: planCluster(checked.spec, identity) };
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
