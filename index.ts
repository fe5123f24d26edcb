import * as pulumi from "@pulumi/pulumi";
import {
    checkKubernetesStack,
    checkStackConfig,
    DdpCluster,
    DdpClusterArgs,
    DdpConfigError,
    DdpKubernetesJob,
    DdpKubernetesJobArgs,
    defaultOwner,
    hostReading,
    portablePreviewProblem,
    PropertyError,
    readStackConfig,
    readTarget,
    targetProblems,
} from "./components";

// Which config keys are secret: the SDK's own test (marked internal, so absent from its typings), the one way to know
// without reading every value as an Output.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

// `npm run preview` on a machine that is not the Docker host (a CI runner): previews only, never an update.
const portable = portablePreviewProblem();
if (portable !== undefined) throw new DdpConfigError(portable.reason, [portable]);

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

// Where the cluster runs: docker (this host, DdpCluster) or kubernetes (a cluster, DdpKubernetesJob).
const targetRead = readTarget(config.get("target"));
export const target = targetRead.ok ? targetRead.target : "docker";
const targetErrors = targetRead.ok ? [] : [targetRead.error];

// Stack config is checked here first, so that errors name the keys as the user wrote them (`ddpsim:nodes`).
const owner = config.get("owner") ?? defaultOwner();
const check = {
    namespace,
    stack: pulumi.getStack(),
    get: (key: string) => config.get(key),
    presentKeys,
    baseDir: process.cwd(),
};
const checked =
    target === "kubernetes"
        ? checkKubernetesStack({ ...check, extraErrors: [...targetErrors, ...secretErrors] })
        : checkStackConfig({
              ...check,
              options: hostReading(config.get("dockerHost"), { owner, project: namespace, stack: pulumi.getStack(), name: "ddp" }),
              extraErrors: [...targetErrors, ...secretErrors, ...targetProblems("docker", readStackConfig(check.get).args)],
          });
if (!checked.ok) throw new DdpConfigError(checked.message, checked.errors);

const args = { ...checked.args } as DdpClusterArgs & DdpKubernetesJobArgs;
if (secretKeys.includes("env") && args.env !== undefined) {
    args.env = Object.fromEntries(Object.entries(args.env).map(([name, value]) => [name, pulumi.secret(value)]));
}
const cluster = target === "kubernetes" ? undefined : new DdpCluster("ddp", args);
const job = target === "kubernetes" ? new DdpKubernetesJob("ddp", args) : undefined;
const both = (cluster ?? job)!;

export const masterEndpoint = both.masterEndpoint;
export const nodes = both.nodes as pulumi.Output<object[]>;
export const checkpointVolumeName = both.checkpointVolumeName;
export const logsCommand = both.logsCommand;
// Outputs of one target only, exported only when that target is used: a top-level export that is undefined makes
// Pulumi print "Undefined value (...) will not show as a stack output" on every update.
Object.assign(
    exports,
    cluster
        ? { networkName: cluster.networkName, containerNames: cluster.containerNames, interconnect: cluster.interconnect }
        : { jobName: job!.jobName, serviceName: job!.serviceName, kubernetesNamespace: job!.namespace },
);
