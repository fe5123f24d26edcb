/**
 * Undoing a recorded fault, back to the exact prior state: unpause, start, reconnect (same aliases; the interface
 * renamed back to eth0 and the link profile put back), the prior CPU limits, the prior qdisc.
 */
import Docker from "dockerode";
import { CONTAINER_INTERFACE } from "../../../../components/plan/defaults";
import { shellJoin } from "../../../../components/plan/interconnect";
import { execIn, hasNetAdmin, inNetworkNamespace, outputLine } from "./dockerOps";
import { profileCommands } from "./inject";
import { FaultRecord, FaultStore, Healed } from "../../../faults/records";

/**
 * The script a helper runs in a reconnected node's network namespace: Docker names a reconnected interface eth1
 * (eth2, ...), while NCCL/GLOO_SOCKET_IFNAME and the link profile name eth0; rename it back, restore the default
 * route, apply the cluster's link profile again (a new interface has none).
 */
export function reconnectScript(gateway: string, shaping: string[][]): string {
    const lines = [
        "set -e",
        `dev=$(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -v '^lo$' | head -n 1)`,
        `if [ -n "$dev" ] && [ "$dev" != ${CONTAINER_INTERFACE} ]; then`,
        `  ip link set dev "$dev" down`,
        `  ip link set dev "$dev" name ${CONTAINER_INTERFACE}`,
        `  ip link set dev ${CONTAINER_INTERFACE} up`,
        ...(gateway !== "" ? [`  ip route replace default via ${gateway} dev ${CONTAINER_INTERFACE}`] : []),
        `  echo "renamed $dev to ${CONTAINER_INTERFACE}"`,
        "fi",
        ...shaping.map((argv) => shellJoin(argv)),
    ];
    return lines.join("\n");
}

async function healPartition(docker: Docker, record: FaultRecord & { undo: { kind: "partition" } }): Promise<string> {
    const container = docker.getContainer(record.containerId);
    const before = await container.inspect();
    const undo = record.undo;
    const connected = Object.values(before.NetworkSettings.Networks ?? {}).some((e) => e.NetworkID === undo.networkId);
    if (!connected) {
        await docker.getNetwork(undo.networkId).connect({ Container: record.containerId, EndpointConfig: { Aliases: undo.aliases } });
    }
    const info = await container.inspect();
    const endpoint = Object.values(info.NetworkSettings.Networks ?? {}).find((e) => e.NetworkID === undo.networkId);
    const address = endpoint?.IPAddress ?? "?";
    const addressText = address === undo.ipAddress ? `address ${address} as before` : `address ${address} (was ${undo.ipAddress})`;
    const parts = [`reconnected to ${undo.networkName} as ${undo.aliases.join(", ") || "before"}, ${addressText}`];
    if (info.State.Running) {
        const shaping = hasNetAdmin(info) ? profileCommands(info) : [];
        const script = reconnectScript(endpoint?.Gateway ?? "", shaping);
        const result = await inNetworkNamespace(docker, record.containerId, info.Image, ["sh", "-c", script]);
        if (result.code !== 0) parts.push(`but putting its interface back failed: ${outputLine(result)}`);
        else if (result.stdout.includes("renamed")) parts.push(`interface renamed back to ${CONTAINER_INTERFACE}${shaping.length > 0 ? ", link profile applied again" : ""}`);
    } else if (info.State.Status === "exited" || info.State.Status === "created") {
        // Its restarts ran out while it was cut off: the prior state was running.
        await container.start();
        parts.push(`started again (it had exited with code ${info.State.ExitCode} while cut off)`);
    }
    return parts.join("; ");
}

/** Undoes one fault. Throws when Docker refuses; the caller keeps the record then. */
export async function healOne(docker: Docker, record: FaultRecord): Promise<string> {
    const container = docker.getContainer(record.containerId);
    const undo = record.undo;
    switch (undo.kind) {
        case "lose": {
            const info = await container.inspect();
            if (info.State.Running) return "already running";
            await container.start();
            return "started again";
        }
        case "hang": {
            const info = await container.inspect();
            if (!info.State.Paused) return "not paused any more";
            await container.unpause();
            return "unpaused";
        }
        case "partition":
            return healPartition(docker, record as FaultRecord & { undo: typeof undo });
        case "slow": {
            if (undo.nanoCpus > 0) {
                await container.update({ NanoCpus: undo.nanoCpus });
                return `CPU limit back to ${undo.nanoCpus / 1e9} CPUs`;
            }
            if (undo.cpuQuota > 0) {
                await container.update({ CpuQuota: undo.cpuQuota, CpuPeriod: undo.cpuPeriod || 100_000 });
                return `CPU quota back to ${undo.cpuQuota} us per ${undo.cpuPeriod || 100_000} us`;
            }
            // Docker's update API reads 0 as "unchanged": -1 is the kernel's "no limit" (cfs_quota_us), the period its default.
            await container.update({ CpuQuota: -1, CpuPeriod: undo.cpuPeriod || 100_000 });
            return "no CPU limit again (CFS quota -1, as before; Docker now shows CpuQuota -1 instead of 0, it cannot set 0 back)";
        }
        case "degrade": {
            const failures: string[] = [];
            for (const argv of undo.restore) {
                const result = await execIn(docker, record.containerId, argv);
                if (result.code !== 0 && argv[2] !== "del") failures.push(`${argv.join(" ")}: ${outputLine(result)}`);
            }
            if (failures.length > 0) throw new Error(`putting the link profile back failed: ${failures.join("; ")}`);
            const now = await execIn(docker, record.containerId, ["tc", "qdisc", "show", "dev", undo.interface]);
            const same = now.stdout.trim() === undo.priorQdisc;
            return same ? "link profile back as before (tc qdisc show is identical)" : `link profile applied again; tc now shows: ${now.stdout.trim().replace(/\s+/g, " ")}`;
        }
        default: {
            const never: never = undo;
            throw new Error(`unknown fault ${JSON.stringify(never)}`);
        }
    }
}

/**
 * Heals the given records in reverse order of injection; a record whose container is gone is dropped. Returns what
 * was done and what failed (those records stay).
 */
export async function healAll(docker: Docker, store: FaultStore, records: FaultRecord[]): Promise<{ healed: Healed[]; failed: { record: FaultRecord; error: string }[] }> {
    const healed: Healed[] = [];
    const failed: { record: FaultRecord; error: string }[] = [];
    const ordered = [...records].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
    for (const record of ordered) {
        try {
            const what = await healOne(docker, record);
            store.remove(record.id);
            healed.push({ record, atMs: Date.now(), what });
        } catch (err) {
            if ((err as { statusCode?: number }).statusCode === 404) {
                store.remove(record.id);
                healed.push({ record, atMs: Date.now(), what: "its container is gone (the stack was destroyed?): record dropped" });
                continue;
            }
            failed.push({ record, error: (err as Error).message });
        }
    }
    return { healed, failed };
}
