/**
 * The undisturbed run a chaos run is compared with (`--reference`): a parameter checksum, a result.json of an earlier
 * run, or `run`: the same trainer, arguments and world size in one container (torchrun --standalone, as many
 * processes as the cluster has ranks), which ends with the same parameters as an undisturbed cluster run, bit for bit.
 */
import * as fs from "fs";
import Docker from "dockerode";
import { CONTAINER_PATHS } from "../../components/plan/defaults";
import { LABELS } from "../../components/plan/labels";
import { CliError } from "../errors";
import { demuxAll } from "../sources/docker/demux";
import { parseResult } from "../logs/logParsers";
import { envOf } from "../sources/docker/faults/inject";
import { Reference } from "./analysis";

const CHECKSUM = /^[0-9a-f]{15}$/;
const REFERENCE_TIMEOUT_MS = 30 * 60_000;

function fromResult(result: Record<string, unknown>, source: string): Reference {
    if (typeof result.checksum !== "string") throw new CliError(`${source} has no parameter checksum`);
    return {
        checksum: result.checksum,
        ...(typeof result.param_norm === "number" ? { paramNorm: result.param_norm } : {}),
        ...(typeof result.world_size === "number" ? { worldSize: result.world_size } : {}),
        source,
    };
}

/** `--reference CHECKSUM` or `--reference path/to/result.json`; `run` is handled by runReference. */
export function parseReference(text: string): Reference {
    if (CHECKSUM.test(text)) return { checksum: text, source: "--reference checksum" };
    if (!fs.existsSync(text)) {
        throw new CliError(`--reference must be a parameter checksum (15 hex digits), a result.json of an undisturbed run, or run; got ${JSON.stringify(text)}`);
    }
    try {
        return fromResult(JSON.parse(fs.readFileSync(text, "utf8")), text);
    } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`--reference ${text} is not a result.json: ${(err as Error).message}`);
    }
}

/** Runs the cluster's trainer undisturbed in one container and returns its result. Our trainer only. */
export async function runReference(docker: Docker, nodeId: string, say: (line: string) => void, signal: AbortSignal, timeoutMs = REFERENCE_TIMEOUT_MS): Promise<Reference> {
    const info = await docker.getContainer(nodeId).inspect();
    const cmd = info.Config.Cmd ?? [];
    const torchrun = cmd.indexOf("torchrun");
    const script = cmd.findIndex((w, i) => i > torchrun && /(^|\/)train_ddp\.py$/.test(w));
    if (torchrun < 0 || script < 0) {
        throw new CliError("--reference run works with ddpsim's trainer (train_ddp.py) only: pass the checksum or the result.json of an undisturbed run");
    }
    const world = Number(envOf(info, "DDPSIM_NODES") ?? "1") * Number(envOf(info, "DDPSIM_PROCS_PER_NODE") ?? "1");
    const mounts = (info.Mounts ?? [])
        .filter((m) => m.Destination === CONTAINER_PATHS.code || m.Destination === CONTAINER_PATHS.data)
        .map((m) => ({ Type: m.Type as "bind" | "volume", Source: m.Type === "volume" ? m.Name! : m.Source, Target: m.Destination, ReadOnly: true }));
    const keep = (info.Config.Env ?? []).filter((e) => /^(PYTHONPATH|PYTHONUNBUFFERED|PYTHONDONTWRITEBYTECODE|TORCH_DISABLE_SHARE_RDZV_TCP_STORE|DDPSIM_DATA_DIR|DDPSIM_CODE_DIR)=/.test(e));
    const dir = "/tmp/ddpsim-reference";
    say(`reference: the same trainer undisturbed, ${world} process(es) in one container (torchrun --standalone)`);
    const container = await docker.createContainer({
        Image: info.Image,
        Entrypoint: [],
        Cmd: ["torchrun", "--standalone", "--nproc-per-node", String(world), ...cmd.slice(script)],
        Env: [...keep, `DDPSIM_CHECKPOINT_DIR=${dir}`, "GLOO_SOCKET_IFNAME=lo"],
        WorkingDir: "/tmp",
        // No network: torchrun's store resolves its own host name, which only "localhost" does then.
        Hostname: "localhost",
        Labels: { [LABELS.helper]: "chaos-reference" },
        HostConfig: { NetworkMode: "none", Mounts: mounts, ShmSize: 2 * 1024 * 1024 * 1024, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges:true"] },
    });
    try {
        await container.start();
        const stop = () => void container.kill().catch(() => undefined);
        const timer = setTimeout(stop, timeoutMs);
        signal.addEventListener("abort", stop, { once: true });
        const done = (await container.wait().finally(() => {
            clearTimeout(timer);
            signal.removeEventListener("abort", stop);
        })) as { StatusCode: number };
        const logs = demuxAll((await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer, true);
        const result = logs.map((l) => parseResult(l.line)).find((r) => r !== undefined);
        if (done.StatusCode !== 0 || result === undefined) {
            const tail = logs.slice(-5).map((l) => l.line).join(" | ");
            throw new CliError(`the reference run failed (exit ${done.StatusCode}): ${tail}`);
        }
        return fromResult(result, `reference run of ${world} process(es) in one container`);
    } finally {
        await container.remove({ force: true }).catch(() => undefined);
    }
}
