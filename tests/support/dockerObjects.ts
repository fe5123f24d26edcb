/** The local Docker engine as the tests see it: a client, and one stack's objects found by their labels. */
import Docker from "dockerode";

export const docker = new Docker();

function ignoreMissing(err: any): void {
    if (err?.statusCode !== 404 && err?.statusCode !== 304) throw err;
}

/** Label filters that select one stack's Docker objects. */
export function stackFilter(project: string, stack: string): { label: string[] } {
    return { label: [`ddpsim.project=${project}`, `ddpsim.stack=${stack}`] };
}

/** The stack's Docker objects, found by their labels. */
export async function stackObjects(project: string, stack: string) {
    const filters = stackFilter(project, stack);
    return {
        containers: await docker.listContainers({ all: true, filters }),
        networks: await docker.listNetworks({ filters }),
        volumes: (await docker.listVolumes({ filters })).Volumes ?? [],
    };
}

/** Removes everything of a stack, retained volumes included: the cleanup that runs even when a test fails. */
export async function purgeStack(project: string, stack: string): Promise<void> {
    const found = await stackObjects(project, stack);
    await Promise.all(found.containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreMissing)));
    for (const n of found.networks) await docker.getNetwork(n.Id).remove().catch(ignoreMissing);
    for (const v of found.volumes) await docker.getVolume(v.Name).remove().catch(ignoreMissing);
}
