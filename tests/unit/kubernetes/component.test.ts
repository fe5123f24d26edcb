/**
 * DdpKubernetesJob under Pulumi's mocks: the resources it registers, their exact inputs (valid Kubernetes objects),
 * options (retainOnDelete, deleteBeforeReplace, dependsOn, providers), outputs and schema for other languages.
 */
import * as assert from "assert";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { DdpKubernetesJob, DdpKubernetesJobArgs, defaultOwner, identityTag, SETTINGS, STACK_CONFIG_KEYS } from "../../../components";
import { kubernetesManifests, planForKubernetes } from "../../../components/targets/kubernetes";
import { checkKubernetesArgs } from "../../../components/targets/kubernetesSettings";
import { DOCKER_ONLY_KEYS, STACK_ONLY_KEYS } from "../../../components/targets/targetKeys";
import { assertValidKubernetes } from "../../support/kubernetesSchema";
import { ObservedOptions, observeOptions, RegisteredResource, useMocks, valueOf } from "../../support/pulumiMocks";

const TOKEN = "ddpsim:index:DdpKubernetesJob";
const JOB = "kubernetes:batch/v1:Job";
const SERVICE = "kubernetes:core/v1:Service";
const CLAIM = "kubernetes:core/v1:PersistentVolumeClaim";
const SECRET = "kubernetes:core/v1:Secret";
const FILES = "kubernetes:core/v1:ConfigMap";
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const jobName = (name: string) => `ddpsim-test-${name}-${identityTag(defaultOwner(), "ddpsim", "test", name)}`;

/** Inputs as plain values: secrets unwrapped. */
function plain(value: any): any {
    if (Array.isArray(value)) return value.map(plain);
    if (value !== null && typeof value === "object") {
        if (SECRET_SIG in value) return plain(value.value);
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
    }
    return value;
}

async function declare(args: DdpKubernetesJobArgs, name = "ddp", opts: pulumi.ComponentResourceOptions = {}) {
    const registered = await useMocks();
    const seen: ObservedOptions[] = [];
    const job = new DdpKubernetesJob(name, args, { ...opts, transformations: [observeOptions(seen)] });
    await valueOf(job.logsCommand);
    await valueOf(job.checkpointVolumeName);
    await valueOf(job.serviceName);
    return { registered, seen, job };
}

const ofType = (registered: RegisteredResource[], type: string) => registered.filter((r) => r.type === type);

describe("DdpKubernetesJob under Pulumi's mocks", () => {
    for (const nodes of [1, 2, 8]) {
        for (const gpus of [0, 1]) {
            it(`declares a claim, a Service, the node files and a Job, the plan's objects plus their await annotations, for ${nodes} node(s) with ${gpus} GPU(s)`, async () => {
                const args = { nodes, gpusPerNode: gpus, image: "ghcr.io/acme/train:1" };
                const { registered } = await declare(args);
                assert.deepStrictEqual(
                    registered.map((r) => [r.type, r.name]),
                    [[TOKEN, "ddp"], [FILES, "ddp-files"], [CLAIM, "ddp-checkpoints"], [SERVICE, "ddp-service"], [JOB, "ddp-job"]],
                );
                const checked = checkKubernetesArgs(args, process.cwd());
                assert.ok(checked.ok);
                const plan = planForKubernetes(checked.spec, { owner: defaultOwner(), project: "ddpsim", stack: "test", cluster: "ddp" });
                const expected = kubernetesManifests(plan, checked.settings);
                const annotated = (m: any, annotations: object) => ({ ...m, metadata: { ...m.metadata, annotations } });
                assert.deepStrictEqual(ofType(registered, CLAIM)[0].inputs, annotated(expected.checkpoints, { "pulumi.com/skipAwait": "true" }));
                assert.deepStrictEqual(ofType(registered, SERVICE)[0].inputs, annotated(expected.service, { "pulumi.com/skipAwait": "true" }));
                assert.deepStrictEqual(ofType(registered, FILES)[0].inputs, expected.files);
                // Not skipAwait: its delete would not wait for the pods either (the provider skips a Job's delete too).
                assert.deepStrictEqual(ofType(registered, JOB)[0].inputs, annotated(expected.job, { "pulumi.com/waitFor": "jsonpath={.metadata.uid}" }));
                for (const r of registered.slice(1)) assertValidKubernetes(r.inputs);

                const job = ofType(registered, JOB)[0].inputs;
                assert.strictEqual(job.metadata.name, jobName("ddp"));
                assert.deepStrictEqual(
                    [job.spec.completionMode, job.spec.completions, job.spec.parallelism, job.spec.backoffLimit, job.spec.template.spec.restartPolicy],
                    ["Indexed", nodes, nodes, 5, "Never"],
                );
                const pod = job.spec.template.spec;
                assert.strictEqual(pod.subdomain, ofType(registered, SERVICE)[0].inputs.metadata.name);
                assert.strictEqual(pod.terminationGracePeriodSeconds, 60);
                assert.deepStrictEqual(pod.containers[0].resources, gpus > 0 ? { limits: { "nvidia.com/gpu": "1" } } : undefined);
                assert.deepStrictEqual(pod.volumes.at(-1), { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "2048Mi" } });
                assert.deepStrictEqual(ofType(registered, CLAIM)[0].inputs.spec.accessModes, ["ReadWriteMany"]);
            });
        }
    }

    it("keeps the run volume's claim on destroy, replaces the Job by deleting it first, after which the claim and Service go", async () => {
        const { seen } = await declare({});
        const options = seen.filter((s) => s.type !== TOKEN).map((s) => [s.type, s.name, s.parent, s.dependsOn, s.retainOnDelete]);
        assert.deepStrictEqual(options, [
            [FILES, "ddp-files", "ddp", [], undefined],
            [CLAIM, "ddp-checkpoints", "ddp", [], true],
            [SERVICE, "ddp-service", "ddp", [], undefined],
            [JOB, "ddp-job", "ddp", ["ddp-checkpoints", "ddp-service", "ddp-files"], undefined],
        ]);
        const { seen: dropped } = await declare({ retainCheckpoints: false });
        assert.strictEqual(dropped.find((s) => s.type === CLAIM)?.retainOnDelete, false);
    });

    it("marks the Job deleteBeforeReplace: its fixed name (the pods' DNS names) cannot exist twice", async () => {
        await useMocks();
        const flags: Record<string, unknown> = {};
        const job = new DdpKubernetesJob("ddp", {}, {
            transformations: [(a) => ((a.type !== TOKEN ? (flags[a.name] = (a.opts as pulumi.CustomResourceOptions).deleteBeforeReplace) : 0), undefined)],
        });
        await valueOf(job.jobName);
        assert.deepStrictEqual(flags, { "ddp-files": undefined, "ddp-checkpoints": undefined, "ddp-service": undefined, "ddp-job": true });
    });

    it("reports the Job, Service, endpoint, nodes, claim and the kubectl command that follows the logs", async () => {
        const { job } = await declare({ nodes: 3, namespace: "ml" });
        const name = jobName("ddp");
        assert.deepStrictEqual(
            await valueOf(pulumi.all([job.jobName, job.serviceName, job.namespace, job.masterEndpoint, job.checkpointVolumeName, job.logsCommand])),
            [name, name, "ml", `${name}-0.${name}:29500`, `${name}-checkpoints`, `kubectl logs -n ml -l ddpsim.job=${name} --prefix -f --tail=-1 --max-log-requests=5`],
        );
        assert.deepStrictEqual(
            await valueOf(job.nodes),
            [0, 1, 2].map((rank) => ({ rank, hostname: `${name}-${rank}`, address: `${name}-${rank}.${name}` })),
        );
    });

    it("puts env values given as Inputs in a Secret the pods reference, secret to the end", async () => {
        const { registered } = await declare({ env: { HF_TOKEN: pulumi.secret("hf_s3cr3t"), MODE: "fast" } });
        assert.deepStrictEqual(registered.map((r) => r.type).sort(), [TOKEN, SECRET, CLAIM, SERVICE, FILES, JOB].sort());
        const secret = ofType(registered, SECRET)[0].inputs;
        assert.ok(SECRET_SIG in secret.stringData, "the Secret's data stays secret");
        assert.deepStrictEqual(plain(secret), {
            apiVersion: "v1",
            kind: "Secret",
            metadata: { name: `${jobName("ddp")}-env`, labels: ofType(registered, JOB)[0].inputs.metadata.labels },
            type: "Opaque",
            stringData: { HF_TOKEN: "hf_s3cr3t" },
        });
        assertValidKubernetes(plain(secret));
        const env = ofType(registered, JOB)[0].inputs.spec.template.spec.containers[0].env;
        assert.deepStrictEqual(env.find((e: any) => e.name === "HF_TOKEN"), { name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: `${jobName("ddp")}-env`, key: "HF_TOKEN" } } });
        assert.deepStrictEqual(env.find((e: any) => e.name === "MODE"), { name: "MODE", value: "fast" });
        assert.ok(!JSON.stringify(ofType(registered, JOB)[0].inputs).includes("hf_s3cr3t"));
    });

    it("takes the image as an Output of another resource", async () => {
        const { registered } = await declare({ image: pulumi.output("registry.example/train@sha256:" + "a".repeat(64)) });
        assert.strictEqual(ofType(registered, JOB)[0].inputs.spec.template.spec.containers[0].image, "registry.example/train@sha256:" + "a".repeat(64));
    });

    it("runs two jobs in one program side by side: no resource, object or DNS name in common", async () => {
        const registered = await useMocks();
        const a = new DdpKubernetesJob("trainers", { nodes: 2 });
        const b = new DdpKubernetesJob("evaluators", { nodes: 2 });
        await valueOf(pulumi.all([a.logsCommand, b.logsCommand, a.serviceName, b.serviceName, a.checkpointVolumeName, b.checkpointVolumeName]));
        const urns = registered.map((r) => `${r.type}::${r.name}`);
        assert.strictEqual(new Set(urns).size, urns.length);
        const objects = registered.filter((r) => r.type.startsWith("kubernetes:")).map((r) => `${r.inputs.kind}/${r.inputs.metadata.name}`);
        assert.deepStrictEqual(objects.sort(), [
            `PersistentVolumeClaim/${jobName("trainers")}-checkpoints`,
            `Service/${jobName("trainers")}`,
            `ConfigMap/${jobName("trainers")}-files`,
            `Job/${jobName("trainers")}`,
            `PersistentVolumeClaim/${jobName("evaluators")}-checkpoints`,
            `Service/${jobName("evaluators")}`,
            `ConfigMap/${jobName("evaluators")}-files`,
            `Job/${jobName("evaluators")}`,
        ].sort());
        const selectors = ofType(registered, SERVICE).map((s) => s.inputs.spec.selector);
        const podLabels = ofType(registered, JOB).map((j) => j.inputs.spec.template.metadata.labels);
        assert.deepStrictEqual(selectors.map((sel, i) => Object.entries(sel).every(([k, v]) => podLabels[i][k] === v)), [true, true]);
        assert.deepStrictEqual(selectors.map((sel, i) => Object.entries(sel).every(([k, v]) => podLabels[1 - i][k] === v)), [false, false]);
    });

    const providerCases: [string, (p: k8s.Provider) => pulumi.ComponentResourceOptions][] = [
        ["providers as a map", (p) => ({ providers: { kubernetes: p } })],
        ["providers as a list", (p) => ({ providers: [p] })],
        ["provider", (p) => ({ provider: p })],
    ];
    for (const [title, options] of providerCases) {
        it(`gives every child the Kubernetes provider passed as ${title}`, async () => {
            const registered = await useMocks();
            const provider = new k8s.Provider("kind", { context: "kind-ddpsim" });
            const job = new DdpKubernetesJob("ddp", { env: { TOKEN: pulumi.secret("x") } }, options(provider));
            await valueOf(job.logsCommand);
            const ref = `${await valueOf(provider.urn)}::${await valueOf(provider.id)}`;
            const children = registered.filter((r) => r.type.startsWith("kubernetes:")).sort((a, b) => a.type.localeCompare(b.type));
            assert.deepStrictEqual(children.map((c) => c.type), [JOB, FILES, CLAIM, SECRET, SERVICE]);
            assert.deepStrictEqual(children.map((c) => c.provider), [ref, ref, ref, ref, ref]);
        });
    }

    it("uses the default provider when given none", async () => {
        const { registered } = await declare({});
        assert.deepStrictEqual(registered.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.provider), [undefined, undefined, undefined, undefined]);
    });

    it("refuses Docker-only arguments before any resource, naming each", async () => {
        const registered = await useMocks();
        assert.throws(
            () => new DdpKubernetesJob("ddp", { nodes: 0, gpuIds: ["0"], codeDir: "training", tolerations: ["a:Bad"] } as DdpKubernetesJobArgs),
            (err: any) => {
                assert.ok(pulumi.RunError.isInstance(err) && pulumi.InputPropertiesError.isInstance(err));
                assert.deepStrictEqual(err.errors.map((e: any) => e.propertyPath), ["gpuIds", "codeDir", "nodes", "tolerations"]);
                assert.match(err.message, /^Invalid arguments for DdpKubernetesJob "ddp":\n  - gpuIds cannot be used with target "kubernetes"/);
                return true;
            },
        );
        assert.deepStrictEqual(registered, []);
    });
});

describe("DdpKubernetesJob's schema for other Pulumi languages", function () {
    this.timeout(60_000);
    let schema: any;
    before(async () => {
        const provider = new ComponentProvider({ components: [DdpKubernetesJob], name: "ddpsim", dirname: path.resolve(__dirname, "..", "..", "..") });
        schema = JSON.parse(await provider.getSchema());
    });

    it("takes the stack config keys that mean something on Kubernetes, optional, plain but for the image", () => {
        const resource = schema.resources[TOKEN];
        const notHere: readonly string[] = [...DOCKER_ONLY_KEYS, ...STACK_ONLY_KEYS];
        assert.deepStrictEqual(
            Object.keys(resource.inputProperties).sort(),
            Object.keys(STACK_CONFIG_KEYS).filter((k) => !notHere.includes(k)).sort(),
        );
        assert.deepStrictEqual(resource.requiredInputs, []);
        const shape = (key: string) => {
            const { description, ...rest } = resource.inputProperties[key];
            // The settings table's description, as docs/configuration.md has it (wrapped as the doc comment is).
            assert.strictEqual(description.replace(/\s+/g, " "), SETTINGS[key as keyof typeof SETTINGS].description, key);
            return rest;
        };
        for (const key of Object.keys(resource.inputProperties)) shape(key);
        assert.deepStrictEqual(shape("image"), { type: "string", optional: true });
        assert.deepStrictEqual(shape("nodes"), { type: "number", optional: true, plain: true });
        assert.deepStrictEqual(shape("nodeSelector"), { type: "object", additionalProperties: { type: "string", plain: true }, optional: true, plain: true });
        assert.deepStrictEqual(shape("tolerations"), { type: "array", items: { type: "string", plain: true }, optional: true, plain: true });
    });

    it("outputs the Job, the Service, the namespace, the endpoint, the nodes, the claim and the logs command", () => {
        const resource = schema.resources[TOKEN];
        assert.deepStrictEqual(Object.keys(resource.properties), [
            "jobName", "serviceName", "namespace", "masterEndpoint", "nodes", "checkpointVolumeName", "logsCommand",
        ]);
        assert.deepStrictEqual(schema.types["ddpsim:index:DdpKubernetesNodeInfo"].required, ["address", "hostname", "rank"]);
    });
});
