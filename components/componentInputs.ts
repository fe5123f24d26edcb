/**
 * What both components do with their arguments before they check them: plain values for the checks (an image given
 * as an Output is left out; an environment value given as an Input, a secret, stands as a placeholder), the cluster's
 * identity, and the Input values kept aside for deploy time. And the one error both throw for bad arguments.
 */
import * as pulumi from "@pulumi/pulumi";
import { DdpCommonArgs } from "./ddpCommonArgs";
import { DdpConfigError } from "./configError";
import { defaultOwner } from "./owner";
import { ClusterIdentity, describeErrors, PropertyError, RawClusterArgs } from "./plan";

/** Stands for an environment value given as a Pulumi Input (a secret) while the plan is made. */
export const INPUT_VALUE = "(set at deploy time)";

export interface PreparedInputs {
    /** The arguments as plain values, for the checks. */
    raw: RawClusterArgs;
    identity: ClusterIdentity;
    /** Environment values given as Inputs: they replace the plan's placeholders at deploy time, secrecy kept. */
    inputEnv: Record<string, pulumi.Input<string>>;
}

export function prepareInputs(name: string, args: DdpCommonArgs): PreparedInputs {
    const raw: RawClusterArgs = { ...args };
    if (pulumi.Output.isInstance(args.image)) delete raw.image;
    const env = Object.entries(args.env ?? {});
    if (args.env !== undefined) raw.env = Object.fromEntries(env.map(([k, v]) => [k, typeof v === "string" ? v : INPUT_VALUE]));
    const owner = typeof args.owner === "string" && args.owner !== "" ? args.owner : defaultOwner();
    return {
        raw,
        identity: { owner, project: pulumi.getProject(), stack: pulumi.getStack(), cluster: name },
        inputEnv: Object.fromEntries(env.filter(([, v]) => typeof v !== "string")),
    };
}

/** The error a component throws for bad arguments: one message listing every problem. */
export function invalidArguments(component: string, name: string, errors: PropertyError[]): DdpConfigError {
    return new DdpConfigError(describeErrors(`Invalid arguments for ${component} "${name}":`, errors), errors);
}
