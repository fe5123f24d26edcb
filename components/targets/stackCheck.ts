/**
 * The one check of a stack's config, for the stack program and the exports: the stack config read with its kinds
 * (plan/stackConfig.ts), the target chosen (`ddpsim:target`), and that target's check of the arguments, from the
 * table below. Every problem is named with the namespace (`ddpsim:nodes`) and listed in one message.
 */
import {
    ClusterSpec,
    describeErrors,
    inNamespace,
    PropertyError,
    RawClusterArgs,
    readStackConfig,
    ResolveOptions,
    settingsOf,
    Target,
} from "../plan";
import { checkKubernetesArgs, KubernetesSettings } from "./kubernetesSettings";
import { checkCommonArgs, readTarget } from "./targetKeys";

/** What a target's check gives: the spec and, on Kubernetes, its own settings; or every problem. */
export type TargetCheck = { ok: true; spec: ClusterSpec; settings?: KubernetesSettings } | { ok: false; errors: PropertyError[] };

/** How each target checks a cluster's arguments; `options` are the Docker host's readings, which only Docker asks. */
export const TARGET_CHECKS: Record<Target, (raw: RawClusterArgs, baseDir: string, options: ResolveOptions) => TargetCheck> = {
    docker: (raw, baseDir, options) => checkCommonArgs("docker", raw, baseDir, options),
    kubernetes: (raw, baseDir) => checkKubernetesArgs(raw, baseDir),
};

export type StackCheck =
    | { ok: true; target: Target; args: RawClusterArgs; spec: ClusterSpec; settings?: KubernetesSettings }
    | { ok: false; errors: PropertyError[]; message: string };

export interface StackCheckInput {
    /** The config namespace, the project's name (`ddpsim`). */
    namespace: string;
    stack: string;
    /** A key's raw text as Pulumi stores it (structured values as JSON). */
    get: (key: string) => string | undefined;
    /** The keys the stack sets in the namespace (an unknown one is an error, not ignored). */
    presentKeys: string[];
    /** What relative folders are relative to: the program's folder. */
    baseDir: string;
    /** The Docker host's readings (hostReading.ts), for a Docker target. */
    options?: ResolveOptions;
    /** Problems the caller found (a secret where none may be), listed after the unknown keys. */
    extraErrors?: PropertyError[];
    /** The target to check for whatever `ddpsim:target` says (an export); by default the stack's own. */
    target?: Target;
}

/**
 * Reads and checks a stack's config: unknown keys, an invalid target, `extraErrors`, then the target's check. The
 * arguments given back are those the target's component takes.
 */
export function checkStackConfig(input: StackCheckInput): StackCheck {
    const { args, errors: unknownKeys } = readStackConfig(input.get, input.presentKeys);
    const read = readTarget(args.target);
    const target = input.target ?? (read.ok ? read.target : "docker");
    const checked = TARGET_CHECKS[target](args, input.baseDir, input.options ?? {});
    const errors = inNamespace(input.namespace, [
        ...unknownKeys,
        ...(read.ok ? [] : [read.error]),
        ...(input.extraErrors ?? []),
        ...(checked.ok ? [] : checked.errors),
    ]);
    if (errors.length > 0 || !checked.ok) {
        return { ok: false, errors, message: describeErrors(`Invalid stack config for stack "${input.stack}":`, errors) };
    }
    const taken = new Set<string>(settingsOf(target));
    const componentArgs = Object.fromEntries(Object.entries(args).filter(([key]) => taken.has(key)));
    return { ok: true, target, args: componentArgs, spec: checked.spec, ...(checked.settings !== undefined ? { settings: checked.settings } : {}) };
}
