/**
 * The stand-in for the Docker provider under Pulumi's mock runtime: each resource the stack program declares is
 * created for real on the local Docker engine, translating the @pulumi/docker 5.2 inputs as the provider does, and
 * deleted as the provider deletes it.
 *
 * "As the provider does" means as the Terraform docker provider that pulumi-docker wraps, read in its source
 * (github.com/kreuzwerker/terraform-provider-docker, internal/provider/resource_docker_container_funcs.go and
 * friends, the commit scripts/pulumi-toolchain.sh builds) and compared with it on the real engine
 * (tests/real/standIn.test.ts). docs/testing.md lists what still differs and why no test depends on it.
 *
 * Every input this stand-in does not translate, at any depth (`healthcheck.startInterval`, `mounts[0].bindOptions`),
 * fails by name: nothing is silently dropped.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import type * as pulumi from "@pulumi/pulumi";
import type { StateEntry } from "./standInState";

export const docker = new Docker();

type Inputs = Record<string, any>;
export type Created = { id: string; state: Inputs };

export class UntranslatedInputError extends Error {}

/**
 * A create that failed after the provider had made the resource (the container exists, but connecting it or starting
 * it failed). The engine records such a resource in the state with its error; the runner does the same.
 */
export class PartialCreateError extends Error {
    constructor(
        message: string,
        public readonly created: Created,
    ) {
        super(message);
    }
}

/**
 * What the stand-in translates. `true`: a value taken as it is (a scalar, a list of strings, a free-form map);
 * an object: a nested object whose keys are checked; a one-element array: a list of such objects.
 */
type Shape = true | { [key: string]: Shape } | [Shape];

const LABELS: Shape = [{ label: true, value: true }];

export const TRANSLATED: Record<string, { [key: string]: Shape }> = {
    "random:index/randomString:RandomString": { length: true, special: true, upper: true, lower: true, numeric: true },
    "random:index/randomId:RandomId": { byteLength: true, keepers: true },
    "docker:index/network:Network": { name: true, driver: true, labels: LABELS },
    "docker:index/volume:Volume": { name: true, labels: LABELS },
    "docker:index/remoteImage:RemoteImage": {
        name: true,
        keepLocally: true,
        build: { context: true, dockerfile: true, buildArgs: true },
    },
    "docker:index/container:Container": {
        name: true,
        image: true,
        hostname: true,
        networksAdvanced: [{ name: true, aliases: true }],
        envs: true,
        command: true,
        workingDir: true,
        user: true,
        mounts: [{ type: true, source: true, target: true, readOnly: true }],
        shmSize: true,
        restart: true,
        maxRetryCount: true,
        mustRun: true,
        stopSignal: true,
        stopTimeout: true,
        destroyGraceSeconds: true,
        labels: LABELS,
        healthcheck: { tests: true, interval: true, timeout: true, startPeriod: true, retries: true },
        capabilities: { adds: true, drops: true },
        securityOpts: true,
        deviceRequests: [{ driver: true, deviceIds: true, capabilities: true }],
    },
};

/** The paths of every input of `inputs` (of a resource of `type`) the stand-in does not translate. */
export function untranslatedInputs(type: string, inputs: Inputs): string[] {
    const shape = TRANSLATED[type];
    if (shape === undefined) return ["(the resource type)"];
    const found: string[] = [];
    const walk = (value: any, shape: Shape, at: string): void => {
        if (shape === true || value === undefined || value === null) return;
        if (Array.isArray(shape)) {
            if (Array.isArray(value)) value.forEach((item, i) => walk(item, shape[0], `${at}[${i}]`));
            return;
        }
        if (typeof value !== "object") return;
        for (const key of Object.keys(value)) {
            if (value[key] === undefined) continue;
            const path = at === "" ? key : `${at}.${key}`;
            if (!(key in shape)) found.push(path);
            else walk(value[key], shape[key], path);
        }
    };
    walk(inputs, shape, "");
    return found;
}

/** Throws, naming every untranslated input, unless the stand-in translates all of them. */
export function checkTranslated(type: string, inputs: Inputs): void {
    if (TRANSLATED[type] === undefined) throw new UntranslatedInputError(`the Docker stand-in cannot create a ${type}`);
    const unknown = untranslatedInputs(type, inputs);
    if (unknown.length > 0) {
        throw new UntranslatedInputError(`the Docker stand-in does not translate ${type} input(s): ${unknown.join(", ")}`);
    }
}

const labelsOf = (labels?: { label: string; value: string }[]) =>
    Object.fromEntries((labels ?? []).map((l) => [l.label, l.value]));

/** An object without its undefined values (so that translations compare exactly). */
function defined<T extends Record<string, any>>(object: T): T {
    return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * A healthcheck duration in nanoseconds, read as Go's time.ParseDuration reads it ("2s", "1m30s", "500ms", "0"),
 * refused as the provider's schema refuses it (validateDurationGeq0: not a duration, or negative).
 */
export function durationNs(text: string): number {
    const match = /^([-+]?)(.*)$/.exec(text)!;
    const body = match[2];
    let total = 0;
    if (body !== "0") {
        const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
        let at = 0;
        for (let m = re.exec(body); m !== null; m = re.exec(body)) {
            total += Number(m[1]) * DURATION_UNITS[m[2]];
            at = re.lastIndex;
        }
        if (body === "" || at !== body.length) throw new Error(`'${text}' is not a valid duration`);
    }
    if (match[1] === "-" && total > 0) throw new Error(`'${text}' duration must not be negative`);
    return Math.round(total);
}

/**
 * Capabilities as the Docker Go client (github.com/docker/docker v28.5.2, client/container_create.go, which the
 * provider uses) sends them: upper case, with the CAP_ prefix (ALL stays ALL), without repeats, sorted; none is null.
 */
export function normalizeCapabilities(caps: string[] | undefined): string[] | undefined {
    const normalized = [...new Set((caps ?? []).map((c) => c.toUpperCase()).map((c) => (c === "ALL" || c.startsWith("CAP_") ? c : `CAP_${c}`)))];
    return normalized.length > 0 ? normalized.sort() : undefined;
}

/** The network attachments the provider makes after creating a container (NetworkConnect, with aliases). */
export interface NetworkConnection {
    network: string;
    aliases: string[];
}

export interface ContainerConfig {
    /** The body of ContainerCreate. */
    create: Docker.ContainerCreateOptions;
    /** Connected after the create, once the container is off the default bridge. */
    networks: NetworkConnection[];
}

/**
 * A docker.Container's inputs as the provider's resourceDockerContainerCreate turns them into Docker's API:
 * `stopTimeout` only when not 0 (d.GetOk), restart "no" unless given, the retry count as given, capabilities as the
 * Docker client normalises them, device requests and security options as their sets, `systempaths=unconfined` as empty masked and read-only paths,
 * healthcheck durations parsed, shm size in MB, `init` false, the container created on the default bridge and then
 * moved to its networks.
 */
export function containerConfig(inputs: Inputs): ContainerConfig {
    checkTranslated("docker:index/container:Container", inputs);
    const command: string[] | undefined = inputs.command?.length > 0 ? inputs.command : undefined;
    if (command?.some((c) => c === "")) throw new Error("values for command may not be empty");
    const envs: string[] | undefined = inputs.envs?.length > 0 ? inputs.envs : undefined;
    // The provider keeps env as a set (hash order): with a name given twice, which value wins is not the input order.
    const envNames = (envs ?? []).map((e) => e.split("=")[0]);
    const repeated = envNames.filter((n, i) => envNames.indexOf(n) !== i);
    if (repeated.length > 0) {
        throw new UntranslatedInputError(`envs name ${repeated.join(", ")} more than once (the provider's set order decides which wins)`);
    }
    const health = inputs.healthcheck;
    const security: string[] | undefined = inputs.securityOpts?.length > 0 ? inputs.securityOpts : undefined;
    const unconfined = security?.includes("systempaths=unconfined") === true;
    return {
        create: defined({
            name: inputs.name,
            Image: inputs.image,
            Hostname: inputs.hostname,
            StopSignal: inputs.stopSignal,
            StopTimeout: inputs.stopTimeout ? inputs.stopTimeout : undefined,
            Env: envs,
            Cmd: command,
            User: inputs.user ? inputs.user : undefined,
            WorkingDir: inputs.workingDir ? inputs.workingDir : undefined,
            Labels: inputs.labels?.length > 0 ? labelsOf(inputs.labels) : undefined,
            Healthcheck:
                health === undefined
                    ? undefined
                    : defined({
                          Test: health.tests,
                          Interval: durationNs(health.interval ?? "0s"),
                          Timeout: durationNs(health.timeout ?? "0s"),
                          StartPeriod: durationNs(health.startPeriod ?? "0s"),
                          Retries: health.retries ?? 0,
                      }),
            HostConfig: defined({
                NetworkMode: "bridge",
                RestartPolicy: { Name: inputs.restart ?? "no", MaximumRetryCount: inputs.maxRetryCount ?? 0 },
                Mounts: (inputs.mounts ?? []).map((m: Inputs) => ({
                    Type: m.type,
                    Target: m.target,
                    Source: m.source ?? "",
                    ReadOnly: m.readOnly ?? false,
                })),
                ShmSize: inputs.shmSize ? inputs.shmSize * 1024 * 1024 : undefined,
                CapAdd: normalizeCapabilities(inputs.capabilities?.adds),
                CapDrop: normalizeCapabilities(inputs.capabilities?.drops),
                SecurityOpt: security?.filter((o) => o !== "systempaths=unconfined"),
                MaskedPaths: unconfined ? [] : undefined,
                ReadonlyPaths: unconfined ? [] : undefined,
                DeviceRequests:
                    inputs.deviceRequests?.length > 0
                        ? inputs.deviceRequests.map((d: Inputs) => ({
                              Driver: d.driver ?? "cdi",
                              Count: 0,
                              DeviceIDs: d.deviceIds ?? [],
                              Capabilities: [d.capabilities ?? []],
                              Options: {},
                          }))
                        : undefined,
                Init: false,
            }),
        }),
        networks: (inputs.networksAdvanced ?? []).map((n: Inputs) => ({ network: n.name, aliases: n.aliases ?? [] })),
    };
}

/** A Docker API error's message, as the provider's errors carry it (without dockerode's "(HTTP code N)" prefix). */
function dockerMessage(err: any): string {
    return typeof err?.json?.message === "string" ? err.json.message : String(err?.message ?? err);
}

/** Inspects an image by name or id; pulls it when it is not there (the provider's findImage). */
async function findImage(name: string): Promise<Docker.ImageInspectInfo> {
    const found = await docker.getImage(name).inspect().catch(() => undefined);
    if (found !== undefined) return found;
    await new Promise((resolve, reject) =>
        docker.pull(name, (err: Error | null, s: NodeJS.ReadableStream) =>
            err ? reject(err) : docker.modem.followProgress(s, (e: Error | null) => (e ? reject(e) : resolve(undefined))),
        ),
    );
    return docker.getImage(name).inspect();
}

/** resourceDockerContainerCreate: find the image, create, move to the networks, start. Never waits for health. */
async function createContainer(inputs: Inputs): Promise<Created> {
    const config = containerConfig(inputs);
    await findImage(inputs.image).catch((err) => {
        throw new Error(`Unable to create container with image ${inputs.image}: ${dockerMessage(err)}`);
    });
    const container = await docker.createContainer(config.create).catch((err) => {
        throw new Error(`Unable to create container: ${dockerMessage(err)}`);
    });
    const created: Created = { id: container.id, state: { ...inputs, containerId: container.id } };
    // From here on the container exists: a failure leaves it, and the engine keeps it in the state.
    const partial = (message: string) => (err: any) => {
        throw new PartialCreateError(`${message}: ${dockerMessage(err)}`, created);
    };
    if (config.networks.length > 0) {
        await docker
            .getNetwork("bridge")
            .disconnect({ Container: container.id, Force: false })
            .catch((err) => {
                if (!/is not connected to the network bridge/.test(dockerMessage(err))) {
                    partial("Unable to disconnect the default network")(err);
                }
            });
        for (const n of config.networks) {
            await docker
                .getNetwork(n.network)
                .connect({ Container: container.id, EndpointConfig: { Aliases: n.aliases } })
                .catch(partial(`Unable to connect to network '${n.network}'`));
        }
    }
    await container.start().catch(partial("Unable to start container"));
    // `mustRun` is read only when the provider refreshes a container; a create never fails on it.
    return created;
}

/**
 * RemoteImage as the provider makes it (docker_image): with `build`, the context folder (relative to the program's
 * working directory) built with its Dockerfile and build args and tagged `name`; then the image found locally by
 * name, else pulled. Its id is the image id followed by the name.
 */
async function remoteImage(inputs: Inputs): Promise<Created> {
    const build = inputs.build as Inputs | undefined;
    if (build !== undefined) {
        const context = path.resolve(build.context);
        const stream = await docker.buildImage(
            { context, src: fs.readdirSync(context) },
            { t: inputs.name, dockerfile: build.dockerfile ?? "Dockerfile", buildargs: build.buildArgs ?? {} },
        );
        const events: { error?: string }[] = await new Promise((resolve, reject) =>
            docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))),
        );
        const failed = events.find((e) => e.error !== undefined);
        if (failed !== undefined) throw new Error(`Error running legacy build: ${failed.error}`);
    }
    const found = await findImage(inputs.name).catch((err) => {
        throw new Error(`Unable to read Docker image into resource: ${dockerMessage(err)}`);
    });
    return { id: `${found.Id}${inputs.name}`, state: { ...inputs, imageId: found.Id, repoDigest: found.RepoDigests?.[0] ?? "" } };
}

function randomString(inputs: Inputs): string {
    const alphabet =
        (inputs.lower === false ? "" : "abcdefghijklmnopqrstuvwxyz") +
        (inputs.upper === false ? "" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ") +
        (inputs.numeric === false ? "" : "0123456789") +
        (inputs.special === false ? "" : "!@#$%&*()-_=+[]{}<>:?");
    return Array.from(crypto.randomBytes(inputs.length), (b) => alphabet[b % alphabet.length]).join("");
}

/**
 * The `newResource` of the mock runtime: creates the resource for real and returns its id and state. Throws a
 * PartialCreateError when the resource exists but its create failed afterwards.
 */
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
            const network = await docker
                .createNetwork(defined({ Name: inputs.name, Driver: inputs.driver, Labels: labelsOf(inputs.labels) }))
                .catch((err) => {
                    throw new Error(`Unable to create network: ${dockerMessage(err)}`);
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
            throw new UntranslatedInputError(`the Docker stand-in cannot create a ${args.type}`);
    }
}

/** What the provider's delete does to Docker for one state entry. */
export type DeleteAction =
    | { kind: "retain" }
    | { kind: "nothing"; why: string }
    | { kind: "container"; stopSeconds: number; removeVolumes: true }
    | { kind: "network" }
    | { kind: "volume" }
    | { kind: "image"; name: string };

/**
 * The provider's delete for an entry: a retained resource is only forgotten (the engine never calls the provider);
 * a container is stopped with `destroyGraceSeconds` (0 when unset: Docker's SIGKILL at once) and removed with its
 * anonymous volumes (`remove_volumes` defaults to true); a RemoteImage with keepLocally stays.
 */
export function deleteAction(entry: Pick<StateEntry, "type" | "custom" | "retainOnDelete" | "inputs">): DeleteAction {
    if (entry.retainOnDelete) return { kind: "retain" };
    if (!entry.custom) return { kind: "nothing", why: "a component" };
    switch (entry.type) {
        case "docker:index/container:Container": {
            const grace = entry.inputs.destroyGraceSeconds;
            return { kind: "container", stopSeconds: typeof grace === "number" && grace > 0 ? grace : 0, removeVolumes: true };
        }
        case "docker:index/network:Network":
            return { kind: "network" };
        case "docker:index/volume:Volume":
            return { kind: "volume" };
        case "docker:index/remoteImage:RemoteImage":
            return entry.inputs.keepLocally === true ? { kind: "nothing", why: "keepLocally" } : { kind: "image", name: entry.inputs.name };
        case "random:index/randomString:RandomString":
        case "random:index/randomId:RandomId":
            return { kind: "nothing", why: "random values live only in the state" };
        default:
            throw new UntranslatedInputError(`the Docker stand-in cannot delete a ${entry.type}`);
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `attempt` while Docker says `busy` (the provider's StateChangeConf, 30 s), ignoring "not found". */
async function removeWhileBusy(attempt: () => Promise<unknown>, busy: RegExp, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
        try {
            await attempt();
            return;
        } catch (err: any) {
            if (err?.statusCode === 404) return;
            if (!busy.test(dockerMessage(err)) || Date.now() > deadline) throw new Error(`${what}: ${dockerMessage(err)}`);
        }
        await sleep(500);
    }
}

/** Deletes one entry as the provider would (see deleteAction). */
export async function deleteResource(entry: StateEntry): Promise<void> {
    const action = deleteAction(entry);
    switch (action.kind) {
        case "retain":
        case "nothing":
            return;
        case "container": {
            const container = docker.getContainer(entry.id);
            await container.stop({ t: action.stopSeconds }).catch((err) => {
                // 304: already stopped; 404: already gone.
                if (err?.statusCode !== 304 && err?.statusCode !== 404) {
                    throw new Error(`Error stopping container ${entry.id}: ${dockerMessage(err)}`);
                }
            });
            await container.remove({ force: true, v: action.removeVolumes }).catch((err) => {
                if (err?.statusCode !== 404 && !/is already in progress/.test(dockerMessage(err))) {
                    throw new Error(`Error deleting container ${entry.id}: ${dockerMessage(err)}`);
                }
            });
            return;
        }
        case "network":
            return removeWhileBusy(() => docker.getNetwork(entry.id).remove(), /has active endpoints/, `removing network ${entry.id}`);
        case "volume":
            return removeWhileBusy(() => docker.getVolume(entry.id).remove({ force: true }), /volume is in use/, `removing volume ${entry.id}`);
        case "image":
            await docker
                .getImage(action.name)
                .remove({ force: false })
                .catch((err) => {
                    if (err?.statusCode !== 404) throw new Error(`Unable to remove Docker image: ${dockerMessage(err)}`);
                });
            return;
        default: {
            const never: never = action;
            return never;
        }
    }
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
    await Promise.all(found.containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreMissing)));
    for (const n of found.networks) await docker.getNetwork(n.Id).remove().catch(ignoreMissing);
    for (const v of found.volumes) await docker.getVolume(v.Name).remove().catch(ignoreMissing);
}
