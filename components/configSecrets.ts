/**
 * Which stack config keys are secret (`pulumi config set --secret`). Pulumi's SDK offers no public way to ask: its own
 * test, `isConfigSecret` in @pulumi/pulumi/runtime/config, is marked internal (absent from its typings), and the only
 * public alternative, reading every value with getSecret, cannot tell a secret from a plain value. This is the one
 * place ddpsim uses an SDK internal; tests/unit/configSecrets.test.ts fails when the SDK changes it.
 */
import * as pulumi from "@pulumi/pulumi";

const internal = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (key: string) => boolean };

/** Whether `namespace:key` is set as a secret in this stack's config. */
export function isSecretKey(namespace: string, key: string): boolean {
    if (typeof internal.isConfigSecret !== "function") {
        throw new pulumi.RunError(
            "this version of @pulumi/pulumi no longer has runtime/config's isConfigSecret, which ddpsim uses to tell a " +
                "secret stack config key (components/configSecrets.ts): use the @pulumi/pulumi version in package-lock.json",
        );
    }
    return internal.isConfigSecret(`${namespace}:${key}`);
}
