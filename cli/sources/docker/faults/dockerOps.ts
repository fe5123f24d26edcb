/**
 * The Docker operations faults are made of, beyond dockerode's one-liners: a command run inside a node
 * (`docker exec`), and a short-lived helper container that shares a node's network namespace with NET_ADMIN only.
 */
import Docker from "dockerode";
import { demuxText, LogDemuxer } from "../demux";
import { LABELS } from "../../../../components/plan/labels";

export interface CommandResult {
    code: number;
    stdout: string;
    stderr: string;
}

function collect(stream: NodeJS.ReadableStream, multiplexed: boolean): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const out = { stdout: [] as string[], stderr: [] as string[] };
        const demuxer = new LogDemuxer(multiplexed, (s, line) => out[s].push(line));
        stream.on("data", (chunk: Buffer) => demuxer.push(chunk));
        stream.on("error", reject);
        stream.on("end", () => {
            demuxer.end();
            resolve({ stdout: out.stdout.join("\n"), stderr: out.stderr.join("\n") });
        });
    });
}

/** `docker exec -u <user> <container> <cmd...>` to completion. */
export async function execIn(docker: Docker, containerId: string, cmd: string[], user = "0"): Promise<CommandResult> {
    const exec = await docker.getContainer(containerId).exec({ Cmd: cmd, User: user, AttachStdout: true, AttachStderr: true });
    const stream = (await exec.start({ hijack: true, stdin: false })) as NodeJS.ReadableStream;
    const { stdout, stderr } = await collect(stream, true);
    const info = await exec.inspect();
    return { code: info.ExitCode ?? -1, stdout, stderr };
}

/**
 * Runs `cmd` as root in a new container of `image` that joins `containerId`'s network namespace with NET_ADMIN as its
 * only capability (the node itself never gets it), and removes it. Used to put a reconnected interface back.
 */
export async function inNetworkNamespace(docker: Docker, containerId: string, image: string, cmd: string[]): Promise<CommandResult> {
    const helper = await docker.createContainer({
        Image: image,
        Cmd: cmd,
        Entrypoint: [],
        User: "0",
        Labels: { [LABELS.helper]: "fault" },
        HostConfig: {
            NetworkMode: `container:${containerId}`,
            CapDrop: ["ALL"],
            CapAdd: ["NET_ADMIN"],
            SecurityOpt: ["no-new-privileges:true"],
        },
    });
    try {
        await helper.start();
        const done = (await helper.wait()) as { StatusCode: number };
        const logs = (await helper.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
        return { code: done.StatusCode, ...demuxText(logs, true) };
    } finally {
        await helper.remove({ force: true }).catch(() => undefined);
    }
}

/** A one-line summary of a command's output, for error messages. */
export function outputLine(result: CommandResult): string {
    return `${result.stdout}\n${result.stderr}`.replace(/\s+/g, " ").trim();
}

/** Whether a container was created with NET_ADMIN: Docker stores capabilities as the client sent them ("NET_ADMIN", or
 * "CAP_NET_ADMIN" as the docker CLI and the Pulumi provider send them). */
export function hasNetAdmin(info: { HostConfig: { CapAdd?: string[] | null } }): boolean {
    return (info.HostConfig.CapAdd ?? []).some((cap) => ["NET_ADMIN", "CAP_NET_ADMIN"].includes(cap.toUpperCase()));
}
