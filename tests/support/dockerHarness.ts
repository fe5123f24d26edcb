/**
 * Plays the Docker provider for Pulumi's mock runtime: each resource the stack program declares is created
 * for real on the local Docker engine, translating the @pulumi/docker 5.2 inputs as the provider does.
 * An input this harness does not translate fails loudly by name, so nothing is silently dropped.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import type * as pulumi from "@pulumi/pulumi";

export const docker = new Docker();

type Inputs = Record<string, any>;
type Created = { id: string; state: Inputs };

/** The inputs the harness understands, per resource type; anything else is an error. */
const TRANSLATED: Record<string, string[]> = {
    "random:index/randomString:RandomString": ["length", "special", "upper", "lower", "numeric"],
    "random:index/randomId:RandomId": ["byteLength", "keepers"],
    "docker:index/network:Network": ["name", "driver", "labels"],
    "docker:index/remoteImage:RemoteImage": ["name", "keepLocally", "build"],
    "docker:index/volume:Volume": ["name", "labels"],
    "docker:index/container:Container": [
        "name", "image", "hostname", "networksAdvanced", "envs", "command", "entrypoints", "workingDir", "mounts",
        "shmSize", "restart", "maxRetryCount", "mustRun", "stopSignal", "stopTimeout", "destroyGraceSeconds",
        "labels", "healthcheck", "wait", "waitTimeout", "capabilities", "gpus", "deviceRequests", "user", "securityOpts",
    ],
};

export class UntranslatedInputError extends Error {}

function checkTranslated(type: string, inputs: Inputs): void {
    const known = TRANSLATED[type];
    if (known === undefined) throw new UntranslatedInputError(`the Docker harness cannot create a ${type}`);
    const unknown = Object.keys(inputs).filter((k) => inputs[k] !== undefined && !known.includes(k));
    if (unknown.length > 0) {
        throw new UntranslatedInputError(`the Docker harness does not translate ${type} input(s): ${unknown.join(", ")}`);
    }
}

const labelsOf = (labels?: { label: string; value: string }[]) =>
    Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));

/** "2s", "500ms", "1m30s" to nanoseconds, as Docker's API wants durations. */
export function durationNs(text: string | undefined): number | undefined {
    if (text === undefined) return undefined;
    const units: Record<string, number> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
    let total = 0;
    const re = /(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)/g;
    let consumed = "";
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        total += Number(m[1]) * units[m[2]];
        consumed += m[0];
    }
    if (consumed !== text) throw new UntranslatedInputError(`cannot read the duration ${JSON.stringify(text)}`);
    return Math.round(total);
}

/** The provider's `gpus` string (`all`, `device=0,1`, `"device=0,1"`) as a Docker device request. */
function gpusRequest(gpus: string): Inputs {
    const value = gpus.replace(/^"|"$/g, "");
    if (value === "all") return { Driver: "", Count: -1, Capabilities: [["gpu"]] };
    const ids = value.startsWith("device=") ? value.slice("device=".length).split(",") : undefined;
    if (ids === undefined) throw new UntranslatedInputError(`cannot read gpus ${JSON.stringify(gpus)}`);
    return { Driver: "", DeviceIDs: ids, Capabilities: [["gpu"]] };
}

function containerOptions(inputs: Inputs): Docker.ContainerCreateOptions {
    const networks: { name: string; aliases?: string[] }[] = inputs.networksAdvanced ?? [];
    const deviceRequests = [
        ...(inputs.deviceRequests ?? []).map((d: Inputs) => ({
            Driver: d.driver ?? "",
            Count: d.count,
            DeviceIDs: d.deviceIds,
            Capabilities: d.capabilities === undefined ? undefined : [d.capabilities],
        })),
        ...(inputs.gpus === undefined ? [] : [gpusRequest(inputs.gpus)]),
    ];
    const health = inputs.healthcheck;
    return {
        name: inputs.name,
        Image: inputs.image,
        Hostname: inputs.hostname,
        Env: inputs.envs,
        Cmd: inputs.command,
        Entrypoint: inputs.entrypoints,
        WorkingDir: inputs.workingDir,
        User: inputs.user,
        Labels: labelsOf(inputs.labels),
        StopSignal: inputs.stopSignal,
        StopTimeout: inputs.stopTimeout,
        Healthcheck:
            health === undefined
                ? undefined
                : {
                      Test: health.tests,
                      Interval: durationNs(health.interval),
                      Timeout: durationNs(health.timeout),
                      StartPeriod: durationNs(health.startPeriod),
                      Retries: health.retries,
                  },
        HostConfig: {
            NetworkMode: networks[0]?.name,
            Mounts: (inputs.mounts ?? []).map((m: Inputs) => ({
                Type: m.type,
                Source: m.source,
                Target: m.target,
                ReadOnly: m.readOnly ?? false,
            })),
            ShmSize: inputs.shmSize === undefined ? undefined : inputs.shmSize * 1024 * 1024,
            RestartPolicy:
                inputs.restart === undefined
                    ? undefined
                    : { Name: inputs.restart, MaximumRetryCount: inputs.restart === "on-failure" ? inputs.maxRetryCount ?? 0 : 0 },
            SecurityOpt: inputs.securityOpts,
            CapAdd: inputs.capabilities?.adds,
            CapDrop: inputs.capabilities?.drops,
            DeviceRequests: deviceRequests.length > 0 ? deviceRequests : undefined,
        },
        NetworkingConfig: {
            EndpointsConfig: Object.fromEntries(networks.map((n) => [n.name, { Aliases: n.aliases ?? [] }])),
        },
    };
}

async function waitHealthy(container: Docker.Container, timeoutSeconds: number): Promise<void> {
    const deadline = Date.now() + timeoutSeconds * 1000;
    for (;;) {
        const info = await container.inspect();
        const status = info.State.Health?.Status;
        if (status === "healthy") return;
        if (!info.State.Running && !info.State.Restarting) {
            throw new Error(`container ${info.Name} exited (code ${info.State.ExitCode}) before it became healthy`);
        }
        if (Date.now() > deadline) {
            throw new Error(`container ${info.Name} not healthy after ${timeoutSeconds}s (health: ${status})`);
        }
        await new Promise((r) => setTimeout(r, 500));
    }
}

async function createContainer(inputs: Inputs): Promise<Created> {
    const container = await docker.createContainer(containerOptions(inputs));
    await container.start();
    if (inputs.wait === true) await waitHealthy(container, inputs.waitTimeout ?? 60);
    if (inputs.mustRun === true) {
        const info = await container.inspect();
        if (!info.State.Running) throw new Error(`container ${inputs.name} is not running (mustRun)`);
    }
    return { id: container.id, state: { ...inputs, containerId: container.id } };
}

/**
 * RemoteImage as the provider makes it (terraform-provider-docker's docker_image): with `build`, the context folder
 * (relative to the program's working directory) built with its Dockerfile and build args, tagged `name`; without,
 * the image found locally by name, else pulled. Its imageId is the local image's id.
 */
async function remoteImage(inputs: Inputs): Promise<Created> {
    const build = inputs.build as Inputs | undefined;
    if (build !== undefined) {
        const unknown = Object.keys(build).filter((k) => build[k] !== undefined && !["context", "dockerfile", "buildArgs"].includes(k));
        if (unknown.length > 0) throw new UntranslatedInputError(`the Docker harness does not translate RemoteImage build input(s): ${unknown.join(", ")}`);
        const context = path.resolve(build.context);
        const stream = await docker.buildImage(
            { context, src: fs.readdirSync(context) },
            { t: inputs.name, dockerfile: build.dockerfile ?? "Dockerfile", buildargs: build.buildArgs ?? {} },
        );
        const events: { error?: string }[] = await new Promise((resolve, reject) =>
            docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))),
        );
        const failed = events.find((e) => e.error !== undefined);
        if (failed !== undefined) throw new Error(`building ${inputs.name}: ${failed.error}`);
    } else {
        await docker.getImage(inputs.name).inspect().catch(async () => {
            await new Promise((resolve, reject) =>
                docker.pull(inputs.name, (err: Error | null, s: NodeJS.ReadableStream) =>
                    err ? reject(err) : docker.modem.followProgress(s, (e: Error | null) => (e ? reject(e) : resolve(undefined))),
                ),
            );
        });
    }
    const id = (await docker.getImage(inputs.name).inspect()).Id;
    return { id: `${id}${inputs.name}`, state: { ...inputs, imageId: id, repoDigest: "" } };
}

function randomString(inputs: Inputs): string {
    const alphabet =
        (inputs.lower === false ? "" : "abcdefghijklmnopqrstuvwxyz") +
        (inputs.upper === false ? "" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ") +
        (inputs.numeric === false ? "" : "0123456789") +
        (inputs.special === true ? "!@#$%&*()-_=+[]{}<>:?" : "");
    return Array.from(crypto.randomBytes(inputs.length), (b) => alphabet[b % alphabet.length]).join("");
}

/** The `newResource` of the mock runtime: creates the resource for real and returns its id and state. */
export async function applyResource(args: pulumi.runtime.MockResourceArgs): Promise<Created> {
    const inputs = args.inputs as Inputs;
    // Components and the stack itself are logical: nothing to create.
    if (args.custom === false) return { id: "", state: inputs };
    checkTranslated(args.type, inputs);
    switch (args.type) {
        case "random:index/randomString:RandomString":
            return { id: args.name, state: { ...inputs, result: randomString(inputs) } };
        case "random:index/randomId:RandomId": {
            const bytes = crypto.randomBytes(inputs.byteLength);
            return { id: bytes.toString("base64url"), state: { ...inputs, hex: bytes.toString("hex"), b64Url: bytes.toString("base64url") } };
        }
        case "docker:index/network:Network": {
            const network = await docker.createNetwork({
                Name: inputs.name,
                Driver: inputs.driver ?? "bridge",
                CheckDuplicate: true,
                Labels: labelsOf(inputs.labels),
            });
            return { id: network.id, state: inputs };
        }
        case "docker:index/volume:Volume": {
            await docker.createVolume({ Name: inputs.name, Labels: labelsOf(inputs.labels) });
            return { id: inputs.name, state: inputs };
        }
        case "docker:index/container:Container":
            return createContainer(inputs);
        case "docker:index/remoteImage:RemoteImage":
            return remoteImage(inputs);
        default:
            throw new UntranslatedInputError(`the Docker harness cannot create a ${args.type}`);
    }
}


/** What the harness created for one resource: Pulumi's state entry, in short. */
export interface StateEntry {
    type: string;
    name: string;
    id: string;
    inputs: Inputs;
    retainOnDelete: boolean;
}

/**
 * Plays `pulumi destroy` from the recorded state: deletes in reverse creation order, stopping each container
 * with its `destroyGraceSeconds`, and keeps (forgets) what is marked retainOnDelete. Returns what it removed.
 */
export async function destroyFromState(state: StateEntry[]): Promise<StateEntry[]> {
    const removed: StateEntry[] = [];
    const live = [...state].reverse().filter((e) => !e.retainOnDelete);
    // Containers go first and together: Pulumi deletes independent resources in parallel.
    await Promise.all(
        live
            .filter((e) => e.type === "docker:index/container:Container")
            .map(async (e) => {
                const container = docker.getContainer(e.id);
                await container.stop({ t: e.inputs.destroyGraceSeconds ?? 0 }).catch(() => undefined);
                await container.remove({ force: true, v: false }).catch(ignoreMissing);
                removed.push(e);
            }),
    );
    for (const e of live) {
        if (e.type === "docker:index/network:Network") await docker.getNetwork(e.id).remove().catch(ignoreMissing);
        else if (e.type === "docker:index/volume:Volume") await docker.getVolume(e.id).remove().catch(ignoreMissing);
        else continue;
        removed.push(e);
    }
    return removed;
}

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
    await Promise.all(found.containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(ignoreMissing)));
    for (const n of found.networks) await docker.getNetwork(n.Id).remove().catch(ignoreMissing);
    for (const v of found.volumes) await docker.getVolume(v.Name).remove().catch(ignoreMissing);
}
