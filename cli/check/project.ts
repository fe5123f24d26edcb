/**
 * Where the check's stacks live: a scratch copy of ddpsim's own Pulumi project (the stack program: Pulumi.yaml, program.js,
 * index.ts, components/, training/ and their compiled copy in bin/; node_modules linked) in a temporary folder with its own file-backend state, so that the
 * check writes no stack file or state into the checkout it runs from, and several checks can run side by side.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CliError } from "../errors";

/** What the stack program needs; bin/ (the compiled program, which program.js prefers when current) is copied last. */
const PROJECT_ENTRIES = ["index.ts", "program.js", "Pulumi.yaml", "package.json", "tsconfig.json", "components", "training", "bin"];

/** The ddpsim checkout this CLI runs from: the folder above it with Pulumi.yaml, index.ts and node_modules. */
export function ddpsimProjectDir(from = __dirname): string {
    for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const ok = ["Pulumi.yaml", "index.ts", "node_modules"].every((e) => fs.existsSync(path.join(dir, e)));
        if (ok && /^name:\s*ddpsim\s*$/m.test(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8"))) return dir;
    }
    throw new CliError(
        "ddpsim check runs ddpsim's stack program (index.ts, Pulumi.yaml) from a checkout of ddpsim with npm ci done; " +
            `none was found above ${from}`,
    );
}

export interface ScratchProject {
    /** The copied Pulumi project. */
    projectDir: string;
    /** file:// URL of the state folder. */
    backendUrl: string;
    remove(): void;
}

export function scratchProject(source: string): ScratchProject {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-check-"));
    const projectDir = path.join(root, "project");
    fs.mkdirSync(projectDir);
    for (const entry of PROJECT_ENTRIES) {
        if (!fs.existsSync(path.join(source, entry))) continue;
        fs.cpSync(path.join(source, entry), path.join(projectDir, entry), { recursive: true, filter: (src) => !src.includes("__pycache__") });
    }
    fs.symlinkSync(path.join(source, "node_modules"), path.join(projectDir, "node_modules"));
    const state = path.join(root, "state");
    fs.mkdirSync(state);
    return { projectDir, backendUrl: `file://${state}`, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}
