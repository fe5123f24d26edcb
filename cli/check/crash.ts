/**
 * The lost-node run's crash: SIGKILL to a node's main process, so that Docker's restart policy brings it back as
 * after a real crash (`docker kill` would be a manual stop, which restart policies ignore). From the Docker host
 * itself this is `ddpsim fault crash`; where the CLI cannot signal that process (a runner user without the node's
 * uid, a Docker engine in a VM or another container, as GitLab's docker:dind), a helper container in the host's PID
 * namespace, with only the KILL capability, sends the signal instead.
 */
import Docker from "dockerode";
import { LABEL_PREFIX } from "../../components/plan/labels";
import { FaultStore } from "../faults/records";
import { demuxText } from "../sources/docker/demux";
import { DockerSource } from "../sources/docker/source";
import { ClusterNode } from "../sources/source";

export interface CrashMade {
    atMs: number;
    what: string;
}

/** SIGKILL from a helper container that sees the engine's processes (--pid=host), as root with CAP_KILL only. */
export async function killFromHelper(docker: Docker, node: Pick<ClusterNode, "id">): Promise<CrashMade> {
    const info = await docker.getContainer(node.id).inspect();
    const pid = info.State.Pid;
    const helper = await docker.createContainer({
        Image: info.Image,
        Entrypoint: [],
        Cmd: ["python3", "-c", `import os, signal; os.kill(${pid}, signal.SIGKILL)`],
        User: "0:0",
        NetworkDisabled: true,
        Labels: { [`${LABEL_PREFIX}.helper`]: "check-crash" },
        HostConfig: { PidMode: "host", NetworkMode: "none", CapDrop: ["ALL"], CapAdd: ["KILL"], SecurityOpt: ["no-new-privileges:true"] },
    });
    try {
        await helper.start();
        const done = (await helper.wait()) as { StatusCode: number };
        const atMs = Date.now();
        if (done.StatusCode !== 0) {
            const text = demuxText((await helper.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer, true);
            throw new Error(`the helper container could not signal pid ${pid}: ${text.stderr.trim().split("\n").pop() ?? ""}`);
        }
        return { atMs, what: `SIGKILL to its main process (pid ${pid} on the Docker host) from a helper container (--pid=host, CAP_KILL)` };
    } finally {
        await helper.remove({ force: true }).catch(() => undefined);
    }
}

export async function crashNode(source: DockerSource, node: ClusterNode): Promise<CrashMade> {
    const problem = await source.faults.problem(node, { kind: "crash" }, []);
    if (problem === undefined) {
        const made = await source.faults.inject(node, { kind: "crash" }, FaultStore.of(source.ref));
        return { atMs: made.atMs, what: made.what };
    }
    return killFromHelper(source.docker, node);
}
