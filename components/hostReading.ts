/**
 * What planning reads from the machine, beyond the arguments: the Docker host's GPUs (for `gpuIds: ["auto"]`),
 * whether host folders exist, the id of a local image, and a content hash of a build context. Everything here has
 * side effects at plan time; the rules that use the readings stay pure in plan/.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { gpuRuntimeProblem, localImage, probeLocalGpus } from "./hostProbe";
import { ClusterIdentity, isLocalDockerHost, ResolveOptions } from "./plan";
import { isPortablePreview, warnPortable } from "./portablePreview";

/** The Docker host a cluster uses: its `dockerHost` argument, else `docker:host` config, else DOCKER_HOST, else local. */
export function dockerHostOf(dockerHost: string | undefined): string {
    return dockerHost ?? new pulumi.Config("docker").get("host") ?? process.env.DOCKER_HOST ?? "";
}

/** The readings `resolveClusterSpec` may use for one cluster. Folders and images are checked on a local host only. */
export function hostReading(
    dockerHostArg: string | undefined,
    identity: ClusterIdentity,
    /** What to ask the engine beyond GPUs and folders: a file written for another host (an export) asks neither. */
    ask: { image: boolean; gpuRuntime: boolean } = { image: true, gpuRuntime: true },
): ResolveOptions {
    const dockerHost = dockerHostOf(dockerHostArg);
    const host = dockerHost === "" ? undefined : dockerHost;
    const local = isLocalDockerHost(host);
    const portable = isPortablePreview();
    return {
        localGpus: () => probeLocalGpus(host, identity),
        codeHash: codeContentHash,
        ...(local
            ? {
                  ...(portable ? {} : { pathExists: (dir: string) => fs.existsSync(dir) && fs.statSync(dir).isDirectory() }),
                  ...(ask.gpuRuntime
                      ? {
                            gpuRuntimeProblem: () => {
                                const problem = gpuRuntimeProblem(host);
                                if (problem === undefined || !portable) return problem;
                                warnPortable("gpusPerNode", `asks for GPUs, but ${problem}`);
                                return undefined;
                            },
                        }
                      : {}),
                  ...(ask.image
                      ? {
                            localImage: (name: string) => {
                                const found = localImage(host, name);
                                if (found?.ok !== false || !portable) return found;
                                warnPortable("image", `${JSON.stringify(name)} ${found.reason}`);
                                return undefined;
                            },
                        }
                      : {}),
              }
            : {}),
    };
}

/** Folders never part of code or a build context's content: version control, dependencies, caches. */
export const SKIPPED = new Set([".git", "node_modules", "__pycache__", ".pulumi", ".venv", ".ddpsim"]);

/** sha256 over every file of a folder (relative paths and contents, in order), skipping VCS and cache folders. */
export function folderHash(dir: string): string {
    const hash = createHash("sha256");
    const walk = (at: string): void => {
        for (const entry of fs.readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            if (SKIPPED.has(entry.name)) continue;
            const full = path.join(at, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) {
                hash.update(path.relative(dir, full).split(path.sep).join("/")).update("\0");
                hash.update(fs.readFileSync(full)).update("\0");
            }
        }
    };
    walk(dir);
    return hash.digest("hex");
}

/** Files above this size count by their size and first MiB in a code hash (a model or a dataset left in the code). */
const WHOLE_FILE_BYTES = 4 * 1024 * 1024;

/**
 * sha256 (16 hex digits) of a code folder as the nodes see it: relative paths and contents, skipping VCS and cache
 * folders; a file over 4 MiB by its size and first MiB, so that hashing stays fast on every `pulumi up`.
 */
export function codeContentHash(dir: string): string {
    const hash = createHash("sha256");
    const walk = (at: string): void => {
        for (const entry of fs.readdirSync(at, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
            if (SKIPPED.has(entry.name)) continue;
            const full = path.join(at, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) {
                hash.update(path.relative(dir, full).split(path.sep).join("/")).update("\0");
                const size = fs.statSync(full).size;
                if (size <= WHOLE_FILE_BYTES) hash.update(fs.readFileSync(full));
                else hash.update(`${size}:`).update(firstBytes(full, 1024 * 1024));
                hash.update("\0");
            }
        }
    };
    if (fs.existsSync(dir)) walk(dir);
    return hash.digest("hex").slice(0, 16);
}

function firstBytes(file: string, count: number): Buffer {
    const fd = fs.openSync(file, "r");
    try {
        const buffer = Buffer.alloc(count);
        return buffer.subarray(0, fs.readSync(fd, buffer, 0, count, 0));
    } finally {
        fs.closeSync(fd);
    }
}

/** A tag suffix for an image built from `context` by a cluster: its owner's names and the context's content. */
export function contentTag(context: string, namePrefix: string): string {
    const content = fs.existsSync(context) ? folderHash(context).slice(0, 12) : "missing";
    return `${createHash("sha256").update(namePrefix).digest("hex").slice(0, 6)}-${content}`;
}
