import { NODE_FILES_DIR } from "./nodeAgent";

/** ddpsim check's launcher (training/check_launcher.py): a node file of the clusters with `checkHooks`. */
export const CHECK_LAUNCHER_FILE = "check_launcher.py";

/**
 * What torchrun runs with the launcher (`checkHooks`): `--no-python python3 -u <launcher>`, then the script or module
 * the launcher runs as Python would (`--script /code/train.py` or `--module pkg.train`).
 */
export function launcherEntry(script: { path: string } | { module: string }): string[] {
    const target = "module" in script ? ["--module", script.module] : ["--script", script.path];
    return ["--no-python", "python3", "-u", `${NODE_FILES_DIR}/${CHECK_LAUNCHER_FILE}`, ...target];
}
