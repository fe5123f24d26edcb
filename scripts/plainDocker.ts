/**
 * A cluster plan (components/plan) as plain `docker` commands: the network, the run volume and one `docker run` per
 * node with what the DdpCluster component gives its container (components/dockerNode.ts): host name and alias,
 * environment and run id, command, working directory, user, node files (bind-mounted: `docker run` has no upload), mounts, /dev/shm, restart policy, stop signal and
 * grace, labels, capabilities, security options, GPUs, and the master's healthcheck. The start-up benchmark's
 * baseline (scripts/benchStartup.ts): the same containers without Pulumi.
 */
import { ClusterPlan, NodePlan } from "../components/plan";
import { containerLabels } from "../components/dockerNode";

/** `--label k=v` for each label. */
function labelArgs(labels: Record<string, string>): string[] {
    return Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
}

/** A shell word: the Docker CLI's healthcheck takes one shell command (CMD-SHELL), the provider the exec form. */
function shellWord(word: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'"'"'`)}'`;
}

export function networkCreateArgs(plan: ClusterPlan, networkName: string): string[] {
    return ["network", "create", "--driver", "bridge", ...labelArgs(plan.labels), networkName];
}

export function volumeCreateArgs(plan: ClusterPlan): string[] {
    return ["volume", "create", ...labelArgs(plan.labels), plan.checkpointVolumeName];
}

/** `docker run -d ...` of one node, as the component's container; `image` is what the component would reference. */
export function dockerRunArgs(
    plan: ClusterPlan,
    node: NodePlan,
    names: { container: string; network: string; runId: string; image: string },
): string[] {
    const spec = plan.spec;
    const health = plan.masterHealthcheck;
    const [form, ...probe] = health.tests;
    const args = [
        "run", "--detach",
        "--name", names.container,
        "--hostname", node.hostname,
        "--network", names.network,
        "--network-alias", node.hostname,
        ...Object.entries({ ...node.env, [plan.runIdVariable]: names.runId }).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
        "--workdir", node.workingDir,
        ...(node.user !== undefined ? ["--user", node.user] : []),
        ...node.files.flatMap((f) => ["--mount", `type=bind,source=${f.source},target=${f.target},readonly`]),
        ...node.mounts.flatMap((m) => ["--mount", `type=${m.type},source=${m.source},target=${m.target}${m.readOnly ? ",readonly" : ""}`]),
        "--shm-size", `${spec.shmSizeMb}m`,
        "--restart", spec.restartRetries > 0 ? `on-failure:${spec.restartRetries}` : "no",
        "--stop-signal", "SIGTERM",
        "--stop-timeout", String(spec.stopGraceSeconds),
        ...labelArgs(containerLabels(plan, node)),
        ...node.capabilities.drops.flatMap((c) => ["--cap-drop", c]),
        ...node.capabilities.adds.flatMap((c) => ["--cap-add", c]),
        ...node.securityOpts.flatMap((o) => ["--security-opt", o]),
        ...(node.gpuIds.length > 0 ? ["--gpus", `"device=${node.gpuIds.join(",")}"`] : []),
        ...(node.role === "master"
            ? [
                  "--health-cmd", form === "CMD" ? probe.map(shellWord).join(" ") : probe.join(" "),
                  "--health-interval", health.interval,
                  "--health-timeout", health.timeout,
                  "--health-start-period", health.startPeriod,
                  "--health-retries", String(health.retries),
              ]
            : []),
        names.image,
        ...node.command,
    ];
    return args;
}
