import * as fs from "fs";
import * as path from "path";

/** ddpsim check's launcher (training/check_launcher.py), which torchrun starts as `python3 -u -c <source> ...`. */
export function checkLauncherSource(trainingDir: string): string {
    return fs.readFileSync(path.join(trainingDir, "check_launcher.py"), "utf8");
}

/**
 * What torchrun runs with the launcher (`checkHooks`): `--no-python python3 -u -c <source>`, then the script or
 * module the launcher runs as Python would (`--script /code/train.py` or `--module pkg.train`).
 */
export function launcherEntry(source: string, script: { path: string } | { module: string }): string[] {
    const target = "module" in script ? ["--module", script.module] : ["--script", script.path];
    return ["--no-python", "python3", "-u", "-c", source, ...target];
}
