import * as pulumi from "@pulumi/pulumi";
import { stackCluster } from "./components";

// The stack's cluster, from its `ddpsim:*` config (docs/configuration.md): a DdpCluster on a Docker host, or with
// `ddpsim:target: kubernetes` a DdpKubernetesJob on a Kubernetes cluster. Bad config stops here, before any resource,
// with one error naming every bad key. Your own program can declare the components directly (docs/components.md).
const cluster = stackCluster("ddp");

export const target = cluster.target;
export const masterEndpoint = cluster.component.masterEndpoint;
export const nodes = cluster.component.nodes as pulumi.Output<object[]>;
export const checkpointVolumeName = cluster.component.checkpointVolumeName;
export const logsCommand = cluster.component.logsCommand;

// Outputs of one target only (Docker: networkName, containerNames, interconnect; Kubernetes: jobName, serviceName,
// kubernetesNamespace), exported for that target alone: an undefined export makes Pulumi warn on every update.
Object.assign(exports, cluster.targetOutputs);
