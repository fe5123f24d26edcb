import * as pulumi from "@pulumi/pulumi";
import { checkStackConfig, DdpCluster, DdpClusterArgs } from "./components";

const namespace = pulumi.getProject();
const config = new pulumi.Config(namespace);

// Stack config is checked here first, so that errors name the keys as the user wrote them (`ddpsim:nodes`).
const checked = checkStackConfig({
    namespace,
    stack: pulumi.getStack(),
    get: (key) => config.get(key),
    presentKeys: Object.keys(pulumi.runtime.allConfig())
        .filter((key) => key.startsWith(`${namespace}:`))
        .map((key) => key.slice(namespace.length + 1)),
    baseDir: process.cwd(),
    options: DdpCluster.hostReading(),
});
if (!checked.ok) throw new pulumi.InputPropertiesError({ message: checked.message, errors: checked.errors });

const cluster = new DdpCluster("ddp", checked.args as DdpClusterArgs);

export const networkName = cluster.networkName;
export const masterEndpoint = cluster.masterEndpoint;
export const nodes = cluster.nodes;
export const containerNames = cluster.containerNames;
export const checkpointVolumeName = cluster.checkpointVolumeName;
export const logsCommand = cluster.logsCommand;
export const interconnect = cluster.interconnect;
