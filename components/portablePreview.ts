/**
 * A preview made on a machine other than the cluster's Docker host: a CI runner previewing a pull request against the
 * state that `pulumi up` wrote on the GPU server. `npm run preview` sets DDPSIM_PORTABLE_PREVIEW=1 for it.
 *
 * What differs from machine to machine is then kept out of the diff: the host paths behind bind mounts (the code and
 * dataset folders sit under another checkout's path) and a local image's id (the runner does not have the image). The
 * nodes carry what those stand for as labels instead (the code's content hash, the image reference), so a code or
 * image change still shows. Host readiness (an nvidia runtime, a local image, a dataset folder) becomes a warning:
 * the runner is not where the cluster runs. Only previews: an update with it set stops at once.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan, NodePlan, PropertyError } from "./plan";

export const PORTABLE_PREVIEW_VARIABLE = "DDPSIM_PORTABLE_PREVIEW";

/** Whether this program run is a portable preview (the variable set to anything but "", "0" or "false"). */
export function isPortablePreview(env: NodeJS.ProcessEnv = process.env): boolean {
    const value = env[PORTABLE_PREVIEW_VARIABLE];
    return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
}

/** The problem of a portable preview that is not a preview (`pulumi up` with the variable set), or undefined. */
export function portablePreviewProblem(dryRun: boolean = pulumi.runtime.isDryRun()): PropertyError | undefined {
    if (!isPortablePreview() || dryRun) return undefined;
    return {
        propertyPath: PORTABLE_PREVIEW_VARIABLE,
        reason:
            `${PORTABLE_PREVIEW_VARIABLE} is set, which is for \`pulumi preview\` on a machine other than the Docker ` +
            "host (npm run preview): unset it to update the cluster",
    };
}

/** The property paths of a node's bind-mount sources in its container arguments (`mounts[0].source`, ...). */
export function bindSourcePaths(node: NodePlan): string[] {
    return node.mounts.flatMap((m, i) => (m.type === "bind" ? [`mounts[${i}].source`] : []));
}

/** The host paths of a plan's bind mounts (the same for every node), joined: what ties it to one machine's folders. */
export function hostPathsOf(plan: ClusterPlan): string {
    return (plan.nodes[0]?.mounts ?? []).filter((m) => m.type === "bind").map((m) => `${m.target}=${m.source}`).join(",");
}

/**
 * A host path as the provider should read it: relative to the program's folder (where the provider runs) when it lies
 * inside it, so that two checkouts declare the same path; absolute otherwise.
 */
export function programRelative(hostPath: string, programDir: string = process.cwd()): string {
    const relative = path.relative(programDir, hostPath);
    return !relative.startsWith("..") && !path.isAbsolute(relative) ? relative || "." : hostPath;
}

/**
 * ignoreChanges of a node's container in a portable preview (none otherwise): the bind mounts' host paths, the node
 * files' (uploads: their content hash is the ddpsim.agent label, which stays compared), a local image's id.
 */
export function portableNodeIgnores(plan: ClusterPlan, node: NodePlan): string[] {
    if (!isPortablePreview()) return [];
    return [...bindSourcePaths(node), ...(node.files.length > 0 ? ["uploads"] : []), ...(plan.spec.imageMode === "local" ? ["image"] : [])];
}

/** ignoreChanges of the run id's keepers in a portable preview (none otherwise). */
export function portableRunIdIgnores(plan: ClusterPlan): string[] {
    if (!isPortablePreview()) return [];
    return ["keepers.hostPaths", ...(plan.spec.imageMode === "local" ? ["keepers.image"] : [])];
}

const warned = new Set<string>();

/** A host problem that a portable preview reports as a warning (once) instead of refusing the stack. */
export function warnPortable(key: string, problem: string): void {
    const message = `${key} ${problem} (not an error in a portable preview: this machine is not the cluster's Docker host)`;
    if (warned.has(message)) return;
    warned.add(message);
    pulumi.log.warn(message);
}
