import * as pulumi from "@pulumi/pulumi";
import { checkStackConfig, DdpCluster, DdpClusterArgs, DdpConfigError, defaultOwner, hostReading, PropertyError } from "./components";

// Which config keys are secret: the SDK's own test (marked internal, so absent from its typings), the one way to know
// without reading every value as an Output.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

const namespace = pulumi.getProject();
const config = new pulumi.Config(namespace);
const presentKeys = Object.keys(pulumi.runtime.allConfig())
    .filter((key) => key.startsWith(`${namespace}:`))
    .map((key) => key.slice(namespace.length + 1));

// Secrets: `env` may hold them (its values stay secret down to the containers); any other key would leak its value
// into plain inputs, so a secret there is refused.
const secretKeys = presentKeys.filter((key) => isConfigSecret(`${namespace}:${key}`));
const secretErrors: PropertyError[] = secretKeys
    .filter((key) => key !== "env")
    .map((key) => ({ propertyPath: key, reason: `${key} is a secret, which only env may hold (its values stay secret in the containers)` }));

// Stack config is checked here first, so that errors name the keys as the user wrote them (`ddpsim:nodes`).
const owner = config.get("owner") ?? defaultOwner();
const checked = checkStackConfig({
    namespace,
    stack: pulumi.getStack(),
    get: (key) => config.get(key),
    presentKeys,
    baseDir: process.cwd(),
    options: hostReading(config.get("dockerHost"), { owner, project: namespace, stack: pulumi.getStack(), name: "ddp" }),
    extraErrors: secretErrors,
});
if (!checked.ok) throw new DdpConfigError(checked.message, checked.errors);

const args = checked.args as DdpClusterArgs;
if (secretKeys.includes("env") && args.env !== undefined) {
    args.env = Object.fromEntries(Object.entries(args.env).map(([name, value]) => [name, pulumi.secret(value)]));
}
const cluster = new DdpCluster("ddp", args);

export const networkName = cluster.networkName;
export const masterEndpoint = cluster.masterEndpoint;
export const nodes = cluster.nodes;
export const containerNames = cluster.containerNames;
export const checkpointVolumeName = cluster.checkpointVolumeName;
export const logsCommand = cluster.logsCommand;
export const interconnect = cluster.interconnect;
