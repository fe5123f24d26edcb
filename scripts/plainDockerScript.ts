/**
 * node -r ts-node/register/transpile-only scripts/plainDockerScript.ts [--stack NAME] [--config-file FILE] [--out PATH] [--repo-var NAME]
 *
 * Writes a bash script that starts a stack's cluster with plain `docker` commands (the network, the run volume and
 * one `docker run` per node, from the same plan as the stack program; scripts/plainDocker.ts), for a host where the
 * Pulumi toolchain cannot go (training/gpu_docker_on_device.sh carries it to a GPU machine that has no Node.js).
 * This checkout's folder in bind-mount sources is written as "$REPO_VAR" (default DDPSIM_REPO), so the script runs
 * from a copy of the repository elsewhere. The script sets NETWORK, VOLUME and CONTAINERS (bash variables) for its
 * caller, which removes the containers and the network afterwards and keeps the volume, as `pulumi destroy` does.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { planStack } from "./compose";
import { readStackFiles } from "./stackFiles";
import { dockerRunArgs, networkCreateArgs, volumeCreateArgs } from "./plainDocker";
import { runMain } from "./runMain";

const USAGE = "usage: node -r ts-node/register/transpile-only scripts/plainDockerScript.ts [--stack NAME] [--config-file FILE] [--out PATH] [--repo-var NAME]";

/** One shell word, single-quoted unless plain; the repository folder becomes "${VAR}". */
function shellWord(word: string, repo: string, repoVar: string): string {
    if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word) && !word.includes(repo)) return word;
    return `'${word.replace(/'/g, `'"'"'`).split(repo).join(`'"\${${repoVar}}"'`)}'`;
}

export function main(argv: string[], log: (line: string) => void = console.log): number {
    const options: Record<string, string> = { "--stack": "dev", "--repo-var": "DDPSIM_REPO" };
    for (let i = 0; i < argv.length; i += 2) {
        if (argv[i] === "--help" || argv[i] === "-h") {
            log(USAGE);
            return 0;
        }
        if (!(argv[i] in { "--stack": 1, "--config-file": 1, "--out": 1, "--repo-var": 1 }) || argv[i + 1] === undefined) {
            throw new Error(USAGE);
        }
        options[argv[i]] = argv[i + 1];
    }
    const projectDir = path.resolve(__dirname, "..");
    const configFile = options["--config-file"] && path.resolve(process.env.INIT_CWD ?? process.cwd(), options["--config-file"]);
    const planned = planStack(readStackFiles(projectDir, options["--stack"], configFile), projectDir);
    if (!planned.ok) throw new Error(planned.message);
    const plan = planned.plan;
    const suffix = crypto.randomBytes(3).toString("hex");
    const network = `${plan.networkNameBase}-${suffix}`;
    const containers = plan.nodes.map((n) => `${n.containerNameBase}-${suffix}`);
    const runId = crypto.randomBytes(6).toString("hex");
    const line = (args: string[]) => ["docker", ...args].map((w) => shellWord(w, projectDir, options["--repo-var"])).join(" ");
    const text = [
        "# written by scripts/plainDockerScript.ts from the plan of stack " + options["--stack"],
        `NETWORK=${network}`,
        `VOLUME=${plan.checkpointVolumeName}`,
        `CONTAINERS=(${containers.join(" ")})`,
        line(networkCreateArgs(plan, network)),
        line(volumeCreateArgs(plan)),
        ...plan.nodes.map((node, i) =>
            line(dockerRunArgs(plan, node, { container: containers[i], network, runId, image: plan.spec.imageId ?? plan.spec.image })),
        ),
        "",
    ].join("\n");
    if (options["--out"] === undefined) log(text);
    else fs.writeFileSync(path.resolve(process.env.INIT_CWD ?? process.cwd(), options["--out"]), text);
    return 0;
}

if (require.main === module) runMain(main);
