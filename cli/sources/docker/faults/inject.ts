/**
 * Injecting a fault into one node of a running cluster, each with the Docker mechanism that makes it real, after
 * checks that change nothing (a fault that cannot be made is one clear error). docs/faults.md describes each kind.
 */
import * as fs from "fs";
import Docker from "dockerode";
import { describeLink, tcCommands } from "../../../../components/plan/interconnect";
import { CONTAINER_INTERFACE } from "../../../../components/plan/defaults";
import { dockerEndpoint } from "../connect";
import { CliError } from "../../../errors";
import { execIn, hasNetAdmin, outputLine } from "./dockerOps";
import { FaultSpec, who } from "../../../faults/kinds";
import { FaultRecord, FaultStore, Injected, UndoInfo } from "../../../faults/records";
import { LABELS } from "../../../../components/plan/labels";
import { ClusterNode, ClusterIdentity } from "../../source";

/** The node agent's config (the JSON argument of its command): where the cluster's own tc commands are. */
export function agentConfigOf(info: Pick<Docker.ContainerInspectInfo, "Config">): { shaping?: { commands: { argv: string[] }[] } } | undefined {
    for (const word of info.Config.Cmd ?? []) {
        if (!word.startsWith("{")) continue;
        try {
            const parsed = JSON.parse(word);
            if (parsed && typeof parsed === "object" && "controlDir" in parsed) return parsed;
        } catch {
            // not the config
        }
    }
    return undefined;
}

const FLAG_OF_KEY: Record<string, string> = {
    linkBandwidthMbit: "--bandwidth",
    linkLatencyMs: "--latency",
    linkJitterMs: "--jitter",
    linkLossPercent: "--loss",
};

/** Removes the interface's root qdisc (a root of another kind cannot be replaced in place); fails harmlessly when there is none. */
export const DELETE_ROOT = ["tc", "qdisc", "del", "dev", CONTAINER_INTERFACE, "root"];

/** The cluster's own tc commands (the node agent's, as it shaped the link at start); none when unshaped. */
export function profileCommands(info: Pick<Docker.ContainerInspectInfo, "Config">): string[][] {
    return agentConfigOf(info)?.shaping?.commands.map((c) => c.argv) ?? [];
}

/** Runs tc commands in a node in order; a failed DELETE_ROOT is fine. Returns the first failure. */
async function runTc(docker: Docker, id: string, commands: string[][]): Promise<{ argv: string[]; text: string } | undefined> {
    for (const argv of commands) {
        const result = await execIn(docker, id, argv);
        if (result.code !== 0 && argv !== DELETE_ROOT && argv[2] !== "del") return { argv, text: outputLine(result) };
    }
    return undefined;
}

export function envOf(info: Pick<Docker.ContainerInspectInfo, "Config">, name: string): string | undefined {
    const line = (info.Config.Env ?? []).find((e) => e.startsWith(`${name}=`));
    return line?.slice(name.length + 1);
}

function stateWord(info: Docker.ContainerInspectInfo): string {
    return info.State.Paused ? "paused" : info.State.Status;
}

/** The cluster network a node is on (by the network's labels), or undefined when it is on none. */
async function clusterNetwork(docker: Docker, ref: ClusterIdentity, info: Docker.ContainerInspectInfo) {
    const entries = Object.entries(info.NetworkSettings.Networks ?? {});
    for (const [name, endpoint] of entries) {
        const net = await docker.getNetwork(endpoint.NetworkID).inspect().catch(() => undefined);
        if (net?.Labels?.[LABELS.cluster] === ref.cluster && net?.Labels?.[LABELS.stack] === ref.stack) return { name, endpoint };
    }
    return entries.length === 1 ? { name: entries[0][0], endpoint: entries[0][1] } : undefined;
}

/** Whether SIGKILL can reach the container's main process from here: same machine as the engine, permission. */
function crashProblem(info: Docker.ContainerInspectInfo): string | undefined {
    const host = process.env.DOCKER_HOST ?? "";
    if (host !== "" && !host.startsWith("unix://")) {
        return `crash sends SIGKILL to the node's main process from the Docker host, but Docker is at ${dockerEndpoint()}: run ddpsim fault crash on that machine`;
    }
    const pid = info.State.Pid;
    let cgroup: string;
    let uid = "?";
    try {
        cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, "utf8");
        uid = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "?";
    } catch {
        return `the node's main process (pid ${pid} on the Docker host) is not visible on this machine (Docker in a VM, or rootless): crash needs the CLI where the engine's processes run`;
    }
    if (!cgroup.includes(info.Id)) {
        return `pid ${pid} on this machine is not the node's main process (Docker runs elsewhere): crash needs the CLI where the engine's processes run`;
    }
    try {
        process.kill(pid, 0);
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EPERM") {
            return `no permission to signal the node's main process (host pid ${pid}, uid ${uid}): run ddpsim fault crash as root (sudo) or as uid ${uid}`;
        }
        return `cannot signal the node's main process (host pid ${pid}): ${(err as Error).message}`;
    }
    return undefined;
}

/** Why the fault cannot be made on this node now, or undefined. Changes nothing. */
export async function faultProblem(docker: Docker, ref: ClusterIdentity, node: ClusterNode, spec: FaultSpec, active: FaultRecord[]): Promise<string | undefined> {
    const info = await docker.getContainer(node.id).inspect();
    const same = active.find((f) => f.containerId === node.id && f.kind === spec.kind);
    if (same !== undefined) return `${who(node)} already has an active ${spec.kind} fault (since ${same.startedAt}): heal it first`;
    const running = info.State.Running && !info.State.Paused;
    const needsRunning = spec.kind !== "slow" && spec.kind !== "partition";
    if (needsRunning && !running) return `${who(node)} is ${stateWord(info)}, not running: a ${spec.kind} fault needs a running node`;
    if (spec.kind === "crash") return crashProblem(info);
    if (spec.kind === "partition" && (await clusterNetwork(docker, ref, info)) === undefined) {
        return `${who(node)} is on no cluster network: is it partitioned already? (ddpsim status shows active faults)`;
    }
    if (spec.kind === "degrade" && !hasNetAdmin(info)) {
        return (
            `${who(node)} was created without link shaping, so it has no NET_ADMIN and its link cannot be changed: ` +
            `deploy the cluster with an interconnect profile (interconnect, linkBandwidthMbit) to degrade it; ddpsim never grants NET_ADMIN only for a fault`
        );
    }
    return undefined;
}

function newRecord(node: ClusterNode, spec: FaultSpec, atMs: number, what: string, undo: UndoInfo): FaultRecord {
    return {
        id: `${spec.kind}-${node.node}-${atMs}`,
        kind: spec.kind,
        node: node.node,
        rank: node.rank,
        containerId: node.id,
        containerName: node.name,
        startedAt: new Date(atMs).toISOString(),
        ...(spec.forSeconds !== undefined ? { until: new Date(atMs + spec.forSeconds * 1000).toISOString() } : {}),
        what,
        undo,
    };
}

const limitText = (quota: number, period: number, nano: number) =>
    nano > 0 ? `${nano / 1e9} CPUs` : quota > 0 ? `a quota of ${quota} us per ${period || 100000} us` : "no CPU limit";

/** Makes the fault (after faultProblem found none) and records it in `store`. */
export async function inject(docker: Docker, ref: ClusterIdentity, node: ClusterNode, spec: FaultSpec, store: FaultStore): Promise<Injected> {
    const problem = await faultProblem(docker, ref, node, spec, store.list());
    if (problem !== undefined) throw new CliError(problem);
    const container = docker.getContainer(node.id);
    const info = await container.inspect();
    const done = (what: string, undo?: UndoInfo): Injected => {
        const atMs = Date.now();
        const record = undo === undefined ? undefined : newRecord(node, spec, atMs, what, undo);
        if (record !== undefined) store.add(record);
        return { atMs, what, ...(record !== undefined ? { record } : {}) };
    };
    switch (spec.kind) {
        case "crash": {
            const pid = info.State.Pid;
            process.kill(pid, "SIGKILL");
            const policy = info.HostConfig.RestartPolicy;
            const restart =
                policy?.Name === "on-failure"
                    ? `Docker's restart policy (on-failure, ${policy.MaximumRetryCount} retries) restarts it`
                    : `its restart policy is ${policy?.Name || "no"}: it stays down`;
            return done(`SIGKILL to its main process (host pid ${pid}); ${restart}`);
        }
        case "lose":
            await container.kill({ signal: "SIGKILL" });
            return done("killed and stopped, a manual stop that Docker's restart policy ignores: it stays down until heal starts it", { kind: "lose" });
        case "hang": {
            await container.pause();
            const timeout = envOf(info, "DDPSIM_COLLECTIVE_TIMEOUT_SECONDS");
            const notice = timeout === undefined ? "" : `; its peers notice after the collective timeout (${timeout} s)`;
            return done(`paused (docker pause: every process frozen)${notice}`, { kind: "hang" });
        }
        case "partition": {
            const net = (await clusterNetwork(docker, ref, info))!;
            const shortId = info.Id.slice(0, 12);
            const aliases = ((net.endpoint.Aliases ?? []) as string[]).filter((a: string) => a !== shortId && !info.Id.startsWith(a));
            await docker.getNetwork(net.endpoint.NetworkID).disconnect({ Container: node.id, Force: false });
            return done(`disconnected from ${net.name} (address ${net.endpoint.IPAddress}, aliases ${aliases.join(", ") || "none"})`, {
                kind: "partition",
                networkId: net.endpoint.NetworkID,
                networkName: net.name,
                aliases,
                ipAddress: net.endpoint.IPAddress,
            });
        }
        case "slow": {
            const cpus = spec.cpus!;
            const prior = { cpuQuota: info.HostConfig.CpuQuota ?? 0, cpuPeriod: info.HostConfig.CpuPeriod ?? 0, nanoCpus: info.HostConfig.NanoCpus ?? 0 };
            const period = 100_000;
            // Docker refuses NanoCpus together with a quota: keep whichever form the container has.
            const update = prior.nanoCpus > 0 ? { NanoCpus: Math.round(cpus * 1e9) } : { CpuPeriod: period, CpuQuota: Math.round(cpus * period) };
            await container.update(update);
            const now = prior.nanoCpus > 0 ? `${cpus} CPUs` : `${cpus} CPUs (a CFS quota of ${update.CpuQuota} us per ${period} us)`;
            return done(`limited to ${now} with docker update; before: ${limitText(prior.cpuQuota, prior.cpuPeriod, prior.nanoCpus)}`, { kind: "slow", ...prior });
        }
        case "degrade": {
            const iface = CONTAINER_INTERFACE;
            const before = await execIn(docker, node.id, ["tc", "qdisc", "show", "dev", iface]);
            if (before.code !== 0) throw new CliError(`cannot read ${who(node)}'s qdisc (tc qdisc show dev ${iface}): ${outputLine(before)}`);
            const restore = [DELETE_ROOT, ...profileCommands(info)];
            const commands = tcCommands(spec.link!, iface);
            const failed = await runTc(docker, node.id, [DELETE_ROOT, ...commands.map((c) => c.argv)]);
            if (failed !== undefined) {
                await runTc(docker, node.id, restore);
                const command = commands.find((c) => c.argv === failed.argv);
                if (command !== undefined && /qdisc kind is unknown/.test(failed.text)) {
                    throw new CliError(
                        `degrade with ${command.keys.map((k) => FLAG_OF_KEY[k] ?? k).join("/")} needs the ${command.qdisc} qdisc, which this Docker host's kernel lacks ` +
                            `(${command.qdisc === "netem" ? "CONFIG_NET_SCH_NETEM, module sch_netem" : "CONFIG_NET_SCH_TBF"}): only --bandwidth (tbf) works here; the link profile is as it was`,
                    );
                }
                throw new CliError(`${failed.argv.join(" ")} failed in ${who(node)}: ${failed.text}; its link profile was put back`);
            }
            return done(`link set to ${describeLink(spec.link!)} (tc on ${iface}); before: ${before.stdout.trim().replace(/\s+/g, " ")}`, {
                kind: "degrade",
                interface: iface,
                priorQdisc: before.stdout.trim(),
                restore,
            });
        }
        default: {
            const never: never = spec.kind;
            throw new Error(`unknown kind ${String(never)}`);
        }
    }
}
