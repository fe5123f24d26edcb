import * as pulumi from "@pulumi/pulumi";
import { DdpCluster, DdpClusterArgs, describeErrors, inNamespace, readStackConfig, resolveClusterSpec } from "./components";

const namespace = pulumi.getProject();
const config = new pulumi.Config(namespace);

// Stack config is checked here first, so that errors name the keys as the user wrote them (`ddpsim:nodes`).
const presentKeys = Object.keys(pulumi.runtime.allConfig())
    .filter((key) => key.startsWith(`${namespace}:`))
    .map((key) => key.slice(namespace.length + 1));
const { args, errors: unknownKeys } = readStackConfig((key) => config.get(key), presentKeys);
const checked = resolveClusterSpec(args, process.cwd(), DdpCluster.hostReading());
const errors = [...unknownKeys, ...(checked.ok ? [] : checked.errors)];
if (errors.length > 0) {
    const namespaced = inNamespace(namespace, errors);
    throw new pulumi.InputPropertiesError({
        message: describeErrors(`Invalid stack config for stack "${pulumi.getStack()}":`, namespaced),
        errors: namespaced,
    });
}

const cluster = new DdpCluster("ddp", args as DdpClusterArgs);

export const networkName = cluster.networkName;
export const masterEndpoint = cluster.masterEndpoint;
export const nodes = cluster.nodes;
export const containerNames = cluster.containerNames;
export const checkpointVolumeName = cluster.checkpointVolumeName;
export const logsCommand = cluster.logsCommand;
export const interconnect = cluster.interconnect;
