/** Docker's own record of what happened to a stack's objects (`docker events`), for assertions on order. */
import { docker } from "./dockerObjects";

export interface DockerEvent {
    /** container, network, volume */
    type: string;
    /** create, start, kill, die, destroy, ... */
    action: string;
    /** The object's name (a container's or network's), or its id when it has none. */
    name: string;
    /** Seconds since the epoch (Docker's timeNano). */
    time: number;
    /** The signal of a kill event. */
    signal?: string;
}

/**
 * The events of the named objects (containers, networks, volumes) between two moments (ms since the epoch), in
 * Docker's order. By name, since Docker reports no labels on network and volume events.
 */
export async function eventsOf(names: string[], sinceMs: number, untilMs: number): Promise<DockerEvent[]> {
    const stream = (await docker.getEvents({
        since: Math.floor(sinceMs / 1000),
        until: Math.ceil(untilMs / 1000) + 1,
    })) as NodeJS.ReadableStream;
    let text = "";
    for await (const chunk of stream) text += chunk.toString();
    return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line))
        .map((e) => ({
            type: e.Type,
            action: e.Action,
            name: e.Actor?.Attributes?.name ?? e.Actor?.ID ?? "",
            time: e.timeNano / 1e9,
            ...(e.Actor?.Attributes?.signal !== undefined ? { signal: e.Actor.Attributes.signal } : {}),
        }))
        .filter((e) => names.includes(e.name));
}
