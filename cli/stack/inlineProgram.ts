/**
 * A Pulumi project's program run inside this process (the Automation API's inline program), as the Node.js language
 * host would run it: its entry file, TypeScript through the project's ts-node (else the one @pulumi/pulumi
 * vendors), the project folder as the working directory, modules loaded afresh for every operation.
 */
import * as fs from "fs";
import * as path from "path";
import type * as automation from "@pulumi/pulumi/automation";
import { CliError } from "../errors";

/** When the engine asked this process for the inline program, and when its entry file had been loaded (ms since the epoch). */
export interface ProgramTimes {
    startedMs: number;
    loadedMs: number;
}

/** A module resolved from the project folder first (its own copy), else from ddpsim's. */
export function resolveFrom(projectDir: string, request: string): string | undefined {
    for (const paths of [[projectDir], undefined]) {
        try {
            return require.resolve(request, paths === undefined ? undefined : { paths });
        } catch {
            // try the next
        }
    }
    return undefined;
}

/** The program's entry file: Pulumi.yaml's `main` (a file, or a folder with index.ts/index.js), else index.ts or index.js. */
export function programEntry(projectDir: string, main: string | undefined): string {
    const base = main === undefined ? projectDir : path.resolve(projectDir, main);
    const candidates = fs.existsSync(base) && fs.statSync(base).isFile() ? [base] : ["index.ts", "index.js"].map((f) => path.join(base, f));
    const entry = candidates.find((f) => fs.existsSync(f));
    if (entry === undefined) throw new CliError(`no program in ${projectDir}: looked for ${candidates.join(", ")}`);
    return entry;
}

/**
 * Lets `require` load TypeScript, as the language host does: the project's ts-node and typescript, else those
 * @pulumi/pulumi vendors; the project's tsconfig.json when it has one. Type checking follows
 * PULUMI_NODEJS_TRANSPILE_ONLY (default here: transpile only). When .ts files load already (a script run with
 * ts-node), that registration stays.
 */
export function registerTypeScript(projectDir: string): void {
    const extensions = require.extensions as Record<string, unknown>;
    if (extensions[".ts"] !== undefined) return;
    const sdk = resolveFrom(projectDir, "@pulumi/pulumi/package.json");
    const vendor = sdk === undefined ? undefined : path.join(path.dirname(sdk), "vendor");
    const tsNode = resolveFrom(projectDir, "ts-node") ?? (vendor && path.join(vendor, "ts-node@7.0.1"));
    const compiler = resolveFrom(projectDir, "typescript") ?? (vendor && path.join(vendor, "typescript@3.8.3", "typescript.js"));
    if (tsNode === undefined || compiler === undefined) {
        throw new CliError(`cannot load the TypeScript program of ${projectDir}: neither ts-node nor @pulumi/pulumi is installed there`);
    }
    const tsconfig = path.join(projectDir, "tsconfig.json");
    const hasTsconfig = fs.existsSync(tsconfig);
    const transpileOnly = (process.env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true") === "true";
    (require(tsNode) as { register(options: object): unknown }).register({
        compiler,
        transpileOnly,
        typeCheck: !transpileOnly,
        ...(hasTsconfig ? { project: tsconfig } : { skipProject: true }),
        compilerOptions: hasTsconfig ? {} : { target: "ES2020", module: "commonjs", moduleResolution: "node", sourceMap: true },
    });
}

/**
 * The project's program as an inline program: its entry file required afresh for every operation (the project's
 * modules dropped from the require cache), with the project folder as the working directory while it runs.
 */
export function inlineProgram(projectDir: string, entry: string, onLoaded: (times: ProgramTimes) => void): automation.PulumiFn {
    return async () => {
        const startedMs = Date.now();
        if (entry.endsWith(".ts")) registerTypeScript(projectDir);
        const own = projectDir + path.sep;
        for (const file of Object.keys(require.cache)) {
            if (file.startsWith(own) && !file.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[file];
        }
        let exported = require(entry) as unknown;
        if (typeof exported === "function") exported = await (exported as () => unknown)();
        exported = await exported;
        onLoaded({ startedMs, loadedMs: Date.now() });
        if (exported === null || typeof exported !== "object") return {};
        return Object.fromEntries(Object.entries(exported as Record<string, unknown>).filter(([key]) => key !== "__esModule"));
    };
}
