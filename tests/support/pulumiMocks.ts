import * as pulumi from "@pulumi/pulumi";
import { resetGpuClaims } from "../../components/gpuClaims";

/** One resource registered with the mock engine. */
export interface RegisteredResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    /** The provider reference (`urn::id`) the resource was registered with, if any. */
    provider?: string;
}

/** What a child resource was registered with, seen through a component `transformations` hook. */
export interface ObservedOptions {
    type: string;
    name: string;
    parent?: string;
    dependsOn: string[];
    retainOnDelete?: boolean;
}

export const MOCK_SUFFIX = "x7k2qa";
export const NO_ENGINE_HOST = "unix:///tmp/ddpsim-tests-no-docker-engine.sock";
export const MOCK_RUN_ID = "0a1b2c3d4e5f";

/** State the mock engine returns: the inputs, plus the outputs that providers would compute. */
function mockState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    switch (type) {
        case "random:index/randomString:RandomString":
            return { ...inputs, result: MOCK_SUFFIX };
        case "random:index/randomId:RandomId":
            return { ...inputs, hex: MOCK_RUN_ID };
        case "docker:index/remoteImage:RemoteImage":
            return { ...inputs, imageId: `sha256:${name}`, repoDigest: `${inputs.name}@sha256:0` };
        default:
            return inputs;
    }
}

/**
 * Sets fresh mocks that record every registered resource. `newResource` may be replaced (the end-to-end
 * harness applies resources to a real Docker engine). Any invoke throws: none is expected.
 */
export async function useMocks(
    config: Record<string, string> = {},
    options: { project?: string; stack?: string; preview?: boolean; secretKeys?: string[] } = {},
    apply?: (args: pulumi.runtime.MockResourceArgs) => Promise<{ id: string; state: Record<string, any> }>,
): Promise<RegisteredResource[]> {
    const registered: RegisteredResource[] = [];
    resetGpuClaims(); // a new program: its clusters' GPU claims start empty
    await pulumi.runtime.setMocks(
        {
            newResource: async (args) => {
                insertInSeries(registered, {
                    type: args.type,
                    name: args.name,
                    inputs: args.inputs,
                    ...(args.provider !== undefined && args.provider !== "" ? { provider: args.provider } : {}),
                });
                if (apply !== undefined) return apply(args);
                return { id: `${args.name}-id`, state: mockState(args.type, args.name, args.inputs) };
            },
            call: (args) => {
                throw new Error(`Mock not implemented: ${args.token}`);
            },
        },
        options.project ?? "ddpsim",
        options.stack ?? "test",
        options.preview ?? false,
    );
    // A Docker host with no engine behind it: planning asks the engine nothing (local image ids, running containers),
    // so these tests give the same result on any machine. The end-to-end tests talk to the real engine.
    pulumi.runtime.setAllConfig({ "docker:host": NO_ENGINE_HOST, ...config }, options.secretKeys);
    return registered;
}

/**
 * Records a resource in registration order, except within a numbered series (`ddp-node-0`, `ddp-node-1`, ...: the
 * nodes of a cluster, registered at once, in whatever order their inputs resolve), which is kept in number order.
 */
function insertInSeries(registered: RegisteredResource[], resource: RegisteredResource): void {
    const series = /^(.*)-(\d+)$/.exec(resource.name);
    const later =
        series === null
            ? -1
            : registered.findIndex((r) => {
                  const other = /^(.*)-(\d+)$/.exec(r.name);
                  return r.type === resource.type && other !== null && other[1] === series[1] && Number(other[2]) > Number(series[2]);
              });
    if (later === -1) registered.push(resource);
    else registered.splice(later, 0, resource);
}

/** Resolves an Output's value (through the public apply, not the SDK's internals). */
export function valueOf<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}

/** A `transformations` entry that records each child's type, name, parent and dependsOn names. */
export function observeOptions(seen: ObservedOptions[]): pulumi.ResourceTransformation {
    return (args) => {
        const dependsOn = ([] as any[])
            .concat(args.opts.dependsOn ?? [])
            .map((r) => (r as any).__name as string);
        seen.push({
            type: args.type,
            name: args.name,
            parent: (args.opts.parent as any)?.__name,
            dependsOn,
            retainOnDelete: args.opts.retainOnDelete,
        });
        return undefined;
    };
}

/** Runs a stack program in a fresh module scope and waits for every registration to finish. */
export async function runStackProgram(modulePath: string): Promise<Record<string, any>> {
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(modulePath)) delete require.cache[key];
    }
    const outputs = await pulumi.runtime.runInPulumiStack(async () => require(modulePath));
    return (outputs ?? {}) as Record<string, any>;
}
