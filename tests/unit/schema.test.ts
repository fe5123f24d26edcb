/**
 * The multi-language schema of the component package: what `pulumi package add <this repo>` generates SDKs from.
 * Built here exactly as the Node.js plugin host builds it, with @pulumi/pulumi's ComponentProvider inferring it
 * from the TypeScript types of DdpClusterArgs and DdpCluster's outputs.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import { parse } from "yaml";
import { DdpCluster } from "../../components";
import { defaultOwner } from "../../components/owner";
import { identityTag, SETTINGS, STACK_CONFIG_KEYS } from "../../components/plan";
import { KUBERNETES_ONLY_KEYS, STACK_ONLY_KEYS } from "../../components/targets/targetKeys";
import { MOCK_SUFFIX, useMocks } from "../support/pulumiMocks";

const root = path.resolve(__dirname, "..", "..");
const TOKEN = "ddpsim:index:DdpCluster";

/** The schema type of each kind of stack config key (the stack config keys are the component's arguments). */
const SCHEMA_OF_KIND: Record<string, object> = {
    integer: { type: "number" },
    number: { type: "number" },
    string: { type: "string" },
    boolean: { type: "boolean" },
    list: { type: "array", items: { type: "string", plain: true } },
    integerList: { type: "array", items: { type: "number", plain: true } },
    /** `env`: a plain map whose values may be Inputs (secrets from another language stay secret). */
    map: { type: "object", additionalProperties: { type: "string" } },
};

/** Arguments that may be Outputs of other resources; every other argument is plain (it shapes the plan). */
const INPUT_ARGS = ["image"];

describe("the component package schema (PulumiPlugin.yaml, ComponentProvider)", function () {
    this.timeout(60_000);
    let schema: any;
    let provider: ComponentProvider;

    before(async () => {
        provider = new ComponentProvider({ components: [DdpCluster], name: "ddpsim", dirname: root });
        schema = JSON.parse(await provider.getSchema());
    });

    it("declares a nodejs plugin named after package.json, with DdpCluster as ddpsim:index:DdpCluster", () => {
        assert.deepStrictEqual(parse(fs.readFileSync(path.join(root, "PulumiPlugin.yaml"), "utf8")), { runtime: "nodejs" });
        const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
        assert.strictEqual(schema.name, pkg.name);
        assert.strictEqual(schema.version, pkg.version);
        assert.deepStrictEqual(Object.keys(schema.resources), [TOKEN]);
        assert.strictEqual(schema.resources[TOKEN].isComponent, true);
        assert.match(schema.resources[TOKEN].description, /^A simulated multi-node PyTorch DDP cluster/);
    });

    it("finds DdpCluster where the plugin host looks: the exports of package.json's main", () => {
        // The host requires the package folder (package.json "main", built by `npm install`'s prepare step) and
        // serves every ComponentResource class it exports.
        const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
        assert.strictEqual(pkg.scripts.prepare, "tsc -p tsconfig.json");
        assert.ok(fs.existsSync(path.join(root, pkg.main)), `${pkg.main} is missing: run npm run build`);
        const components = getPulumiComponents(require(root));
        assert.deepStrictEqual(components.map((c) => c.name), ["DdpCluster", "DdpKubernetesJob"]);
    });

    it("takes every stack config setting as an input, typed, optional, plain except the image and env values", () => {
        const resource = schema.resources[TOKEN];
        // The Kubernetes target's keys are DdpKubernetesJob's (tests/unit/kubernetes/component.test.ts); `target` the stack's.
        const notHere: readonly string[] = [...KUBERNETES_ONLY_KEYS, ...STACK_ONLY_KEYS];
        const keys = Object.entries(STACK_CONFIG_KEYS).filter(([key]) => !notHere.includes(key));
        assert.deepStrictEqual(Object.keys(resource.inputProperties).sort(), keys.map(([key]) => key).sort());
        assert.deepStrictEqual(resource.requiredInputs, []);
        for (const [key, kind] of keys) {
            const { description, ...property } = resource.inputProperties[key];
            const plain = INPUT_ARGS.includes(key) ? {} : { plain: true };
            assert.deepStrictEqual(property, { ...SCHEMA_OF_KIND[kind], optional: true, ...plain }, key);
            // The settings table's description, as docs/configuration.md has it (wrapped as the doc comment is).
            assert.strictEqual(description.replace(/\s+/g, " "), SETTINGS[key as keyof typeof SETTINGS].description, `description of ${key}`);
        }
    });

    it("spells out the inputs a caller in another language relies on", () => {
        const inputs = schema.resources[TOKEN].inputProperties;
        const shape = (key: string) => {
            const { description, ...rest } = inputs[key];
            return rest;
        };
        assert.deepStrictEqual(shape("nodes"), { type: "number", optional: true, plain: true });
        assert.deepStrictEqual(shape("image"), { type: "string", optional: true });
        assert.deepStrictEqual(shape("gpuIds"), { type: "array", items: { type: "string", plain: true }, optional: true, plain: true });
        assert.deepStrictEqual(shape("env"), {
            type: "object",
            additionalProperties: { type: "string" },
            optional: true,
            plain: true,
        });
        assert.deepStrictEqual(shape("datasetVolume"), { type: "string", optional: true, plain: true });
    });

    it("outputs the network, the endpoint, the nodes, the container names, the volume and the logs command", () => {
        const resource = schema.resources[TOKEN];
        const outputs = Object.fromEntries(
            Object.entries(resource.properties).map(([key, { description, ...rest }]: [string, any]) => [key, rest]),
        );
        assert.deepStrictEqual(outputs, {
            networkName: { type: "string" },
            masterEndpoint: { type: "string" },
            nodes: { type: "array", items: { $ref: "#/types/ddpsim:index:DdpNodeInfo" } },
            containerNames: { type: "array", items: { type: "string" } },
            checkpointVolumeName: { type: "string" },
            logsCommand: { type: "string" },
            interconnect: { $ref: "#/types/ddpsim:index:DdpInterconnectInfo" },
        });
        assert.deepStrictEqual(resource.required, Object.keys(outputs).sort());
        assert.deepStrictEqual(schema.types["ddpsim:index:DdpNodeInfo"], {
            type: "object",
            properties: {
                rank: { type: "number" },
                containerName: { type: "string" },
                hostname: { type: "string" },
                gpuIds: { type: "array", items: { type: "string" } },
            },
            required: ["containerName", "gpuIds", "hostname", "rank"],
        });
    });

    it("constructs the component from another language's inputs and returns its outputs", async () => {
        const registered = await useMocks({}, { stack: "py" });
        const result = await provider.construct("trainers", TOKEN, { nodes: 3, gpusPerNode: 1, image: "ghcr.io/acme/train:1" }, {});
        const state = result.state as Record<string, any>;
        const value = (key: string) => new Promise((resolve) => state[key].apply(resolve));
        assert.deepStrictEqual(Object.keys(state).sort(), Object.keys(schema.resources[TOKEN].properties).sort());
        assert.strictEqual(await value("masterEndpoint"), "trainers-node-0:29500");
        const prefix = `ddpsim-py-trainers-${identityTag(defaultOwner(), "ddpsim", "py", "trainers")}`;
        assert.deepStrictEqual(await value("containerNames"), [0, 1, 2].map((r) => `${prefix}-node-${r}-${MOCK_SUFFIX}`));
        assert.deepStrictEqual(
            registered.filter((r) => r.type === "docker:index/container:Container").map((r) => r.inputs.deviceRequests[0].deviceIds),
            [["0"], ["1"], ["2"]],
        );
    });
});
