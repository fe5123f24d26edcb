/**
 * The example programs in other languages (examples/yaml-cluster, examples/python-cluster) set up as a user sets them
 * up, inside a temporary checkout of this repository (realStack.ts): the compiled package (bin/, what `npm install`
 * builds) beside the sources, so that scripts/pulumi-resource-ddpsim can serve DdpCluster from it.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./stackFiles";
import { Workspace } from "./realStack";

/** The plugin executable, as the examples' Pulumi.yaml and the docs name it from an example's folder. */
export const PLUGIN_FROM_EXAMPLE = "../../scripts/pulumi-resource-ddpsim";

/** Copies examples/<name> (without what its steps generate) into the workspace's checkout, as `folder`; returns it. */
export function exampleIn(ws: Workspace, name: string, folder = name): string {
    const binDir = path.join(ws.projectDir, "bin");
    if (!fs.existsSync(binDir)) fs.cpSync(path.join(REPO_ROOT, "bin"), binDir, { recursive: true });
    const dir = path.join(ws.projectDir, "examples", folder);
    const generated = ["sdks", "venv", "__pycache__"];
    fs.cpSync(path.join(REPO_ROOT, "examples", name), dir, {
        recursive: true,
        filter: (src) => !generated.includes(path.basename(src)) && !/^Pulumi\.[^.]+\.yaml$/.test(path.basename(src)),
    });
    return dir;
}

/** Runs a command in `cwd` with the workspace's environment plus `env`; returns stdout, throws with the output. */
export function sh(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 300_000): string {
    try {
        return execFileSync("bash", ["-c", `set -euo pipefail; ${command}`], {
            cwd,
            env,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            timeout: timeoutMs,
            maxBuffer: 64 * 1024 * 1024,
        });
    } catch (err: any) {
        throw new Error(`${command} failed in ${cwd}:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
}

/** The folder of wheels scripts/python-sdk.sh keeps (the Pulumi Python SDK and what installing an SDK needs). */
export function pythonWheels(): string {
    const printed = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "python-sdk.sh")], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 600_000,
    });
    return printed.trim().split("\n").pop()!;
}

/**
 * The Python example's steps from docs/components.md: the SDK generated from the plugin's schema into sdks/ddpsim,
 * a virtualenv, `pip install -r requirements.txt` (offline, from `wheels`). Returns the environment of an activated
 * virtualenv, with which `pulumi` runs the program.
 */
export function preparePythonExample(dir: string, ws: Workspace, wheels: string): NodeJS.ProcessEnv {
    sh(`pulumi package get-schema ${PLUGIN_FROM_EXAMPLE} | pulumi-gen-python - sdks/ddpsim`, dir, ws.env);
    sh("python3 -m venv venv", dir, ws.env);
    const venv = path.join(dir, "venv");
    const activated = { ...ws.env, VIRTUAL_ENV: venv, PATH: `${path.join(venv, "bin")}${path.delimiter}${ws.env.PATH}` };
    sh("pip install --quiet --disable-pip-version-check -r requirements.txt", dir, { ...activated, PIP_NO_INDEX: "1", PIP_FIND_LINKS: wheels });
    return activated;
}
