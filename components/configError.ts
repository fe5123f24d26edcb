import * as pulumi from "@pulumi/pulumi";
import { PropertyError } from "./plan";

/**
 * Invalid configuration, reported as the user should see it wherever it is thrown. It is a `pulumi.RunError`, which
 * the Node.js language host (`pulumi up` of a TypeScript program) prints as its message alone, with no stack
 * trace; and it carries the `pulumi.InputPropertiesError` marker and fields, which the component provider
 * (`pulumi package add` from another language) prints as a list of the bad properties.
 */
export class DdpConfigError extends pulumi.RunError {
    /** Read by pulumi.InputPropertiesError.isInstance (the SDK's cross-version marker). */
    public readonly __pulumiInputPropertiesError = true;

    constructor(
        message: string,
        public readonly errors: PropertyError[],
    ) {
        super(message);
        this.name = "DdpConfigError";
    }
}
