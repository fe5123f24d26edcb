/**
 * The settings table (components/plan/settings.ts) is the one place a setting lives. What is derived from it cannot
 * disagree; what is written by hand is held to it here: the Args interfaces' fields and doc comments, the ranges and
 * values the checks enforce, the defaults a cluster gets, and a refusal for every key one target lacks.
 * (Pulumi.yaml's config block and docs/configuration.md: tests/unit/docs.test.ts; the schema: schema.test.ts.)
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import {
    defaultText,
    DEFAULTS,
    resolveClusterSpec,
    Setting,
    SETTING_NAMES,
    SettingName,
    SETTINGS,
    settingsOf,
    STACK_CONFIG_KEYS,
    Target,
} from "../../components/plan";
import { checkKubernetesArgs } from "../../components/targets/kubernetesSettings";
import { DOCKER_ONLY_KEYS, KUBERNETES_ONLY_KEYS, readTarget, STACK_ONLY_KEYS, targetProblems } from "../../components/targets/targetKeys";

const root = path.resolve(__dirname, "..", "..");
const table = SETTINGS as Record<SettingName, Setting>;

interface Field {
    name: string;
    type: string;
    body: string;
    defaultTag: string | undefined;
}

/** The fields of an interface declared in a file of components/, with their doc comments. */
function interfaceFields(file: string, name: string): { fields: Field[]; extended: string[] } {
    const source = ts.createSourceFile(file, fs.readFileSync(path.join(root, "components", file), "utf8"), ts.ScriptTarget.ES2022, true);
    const declaration = source.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === name);
    assert.ok(declaration, `${name} in components/${file}`);
    const extended = (declaration.heritageClauses ?? []).flatMap((c) => c.types.map((t) => t.expression.getText(source)));
    const fields = declaration.members.filter(ts.isPropertySignature).map((member) => {
        const doc = ts.getJSDocCommentsAndTags(member).find(ts.isJSDoc);
        const text = (comment: string | ts.NodeArray<ts.JSDocComment> | undefined) => ts.getTextOfJSDocComment(comment)?.replace(/\s+/g, " ").trim();
        const tag = doc?.tags?.find((t) => t.tagName.text === "default");
        return { name: member.name.getText(source), type: member.type!.getText(source), body: text(doc?.comment) ?? "", defaultTag: text(tag?.comment) };
    });
    return { fields, extended };
}

const TYPES: Record<string, string[]> = {
    integer: ["number"],
    number: ["number"],
    string: ["string", "pulumi.Input<string>"],
    boolean: ["boolean"],
    list: ["string[]"],
    integerList: ["number[]"],
    map: ["Record<string, string>", "Record<string, pulumi.Input<string>>"],
};

const common = SETTING_NAMES.filter((n) => table[n].targets.length === 2);
const only = (target: Target) => settingsOf(target).filter((n) => table[n].targets.length === 1);

describe("the settings table: one place for a setting", () => {
    const interfaces: [string, string, SettingName[], string[]][] = [
        ["ddpCommonArgs.ts", "DdpCommonArgs", common, []],
        ["ddpClusterArgs.ts", "DdpClusterArgs", only("docker"), ["DdpCommonArgs"]],
        ["ddpKubernetesJobArgs.ts", "DdpKubernetesJobArgs", only("kubernetes"), ["DdpCommonArgs"]],
    ];
    for (const [file, name, expected, extended] of interfaces) {
        it(`${name} declares exactly its settings, in the table's order, with the table's description, @default and type`, () => {
            const found = interfaceFields(file, name);
            assert.deepStrictEqual(found.extended, extended);
            assert.deepStrictEqual(found.fields.map((f) => f.name), expected);
            for (const field of found.fields) {
                const setting = table[field.name as SettingName];
                assert.strictEqual(field.body, setting.description, `doc comment of ${name}.${field.name}`);
                assert.strictEqual(field.defaultTag, defaultText(setting), `@default of ${name}.${field.name}`);
                assert.ok(TYPES[setting.kind].includes(field.type), `${name}.${field.name}: ${field.type} for a ${setting.kind}`);
            }
        });
    }

    it("derives the kinds, the defaults and each target's keys", () => {
        assert.deepStrictEqual(Object.keys(STACK_CONFIG_KEYS), SETTING_NAMES);
        for (const name of SETTING_NAMES) assert.strictEqual(STACK_CONFIG_KEYS[name], table[name].kind, name);
        assert.deepStrictEqual(
            Object.keys(DEFAULTS),
            SETTING_NAMES.filter((n) => table[n].default !== undefined),
        );
        assert.deepStrictEqual([...DOCKER_ONLY_KEYS], only("docker"));
        assert.deepStrictEqual([...KUBERNETES_ONLY_KEYS], only("kubernetes"));
        assert.deepStrictEqual([...STACK_ONLY_KEYS], ["target"]);
    });

    it("gives a cluster the table's defaults on both targets", () => {
        const docker = resolveClusterSpec({}, root);
        assert.ok(docker.ok);
        const k8s = checkKubernetesArgs({ imageMode: "registry" }, root);
        assert.ok(k8s.ok);
        for (const [name, value] of Object.entries(DEFAULTS)) {
            const setting = table[name as SettingName];
            if (name === "imageContext" || setting.targets.length === 0) continue; // a folder (made absolute); the stack's own
            const spec: unknown = name === "interconnect" ? docker.spec.interconnect.preset : (docker.spec as any)[name];
            if (setting.targets.includes("docker")) assert.deepStrictEqual(spec, value, `Docker's ${name}`);
            if (setting.targets.includes("kubernetes") && name !== "imageMode") {
                const got: unknown = name in k8s.settings ? (k8s.settings as any)[name] : (k8s.spec as any)[name];
                assert.deepStrictEqual(got, value, `Kubernetes' ${name}`);
            }
        }
        assert.strictEqual(docker.spec.imageContext, path.join(root, DEFAULTS.imageContext));
        assert.deepStrictEqual(readTarget(undefined), { ok: true, target: DEFAULTS.target });
    });

    /** What a setting needs beside it to be checked alone (the rules between settings satisfied). */
    const BESIDE: Record<string, Record<string, unknown>> = { minNodes: { nodes: 256 }, linkJitterMs: { linkLatencyMs: 1 } };

    /** Each target's check of one argument: the errors naming it. */
    function refusals(target: Target, name: string, value: unknown): string[] {
        const raw = { ...BESIDE[name], [name]: value };
        const result = target === "docker" ? resolveClusterSpec(raw, root) : checkKubernetesArgs({ imageMode: "registry", ...raw }, root);
        return result.ok ? [] : result.errors.filter((e) => e.propertyPath === name).map((e) => e.reason);
    }

    for (const name of SETTING_NAMES.filter((n) => table[n].range !== undefined)) {
        it(`checks ${name} against the table's range on every target that takes it`, () => {
            const setting = table[name];
            const [min, max] = setting.range!;
            const outside = (v: number) => (setting.kind === "integerList" ? [v] : v);
            for (const target of setting.targets) {
                for (const bad of [min - 1, max + 1]) {
                    const errors = refusals(target, name, outside(bad));
                    assert.strictEqual(errors.length, 1, `${target}: ${name} = ${bad} gave ${JSON.stringify(errors)}`);
                    assert.ok(errors[0].includes(`from ${min} to ${max}`), `${target}: ${errors[0]}`);
                }
                assert.deepStrictEqual(refusals(target, name, outside(max)), [], `${target}: ${name} = ${max}`);
            }
        });
    }

    for (const name of SETTING_NAMES.filter((n) => table[n].values !== undefined)) {
        it(`takes only the table's values for ${name}`, () => {
            const values = table[name].values!;
            const listed = values.map((v) => `"${v}"`).join(", ");
            if (name === "target") {
                assert.ok(!readTarget("nowhere").ok && (readTarget("nowhere") as any).error.reason.includes(listed));
                return;
            }
            for (const target of table[name].targets) {
                const errors = refusals(target, name, "nothing-like-it");
                assert.strictEqual(errors.length, 1, `${target}: ${JSON.stringify(errors)}`);
                assert.ok(errors[0].includes(listed), `${target}: ${errors[0]}`);
            }
        });
    }

    it("refuses every Docker-only setting on Kubernetes and every Kubernetes-only setting on Docker, when it asks for something", () => {
        const asking: Record<string, unknown> = {
            gpuIds: ["0"], gpuSharing: true, imageContext: "x", imageDockerfile: "D", codeDir: "x", codeMode: "image",
            datasetDir: "/d", allowSystemPaths: true, dockerHost: "ssh://h", minNodes: 1, checkHooks: true, interconnect: "1gbe",
            linkBandwidthMbit: 1, linkLatencyMs: 1, linkJitterMs: 1, linkLossPercent: 1,
            namespace: "ml", imagePullSecrets: ["r"], nodeSelector: { a: "b" }, tolerations: ["a:NoSchedule"],
            serviceAccountName: "s", checkpointStorageClass: "c", checkpointSize: "1Gi", checkpointAccessMode: "ReadWriteOnce",
        };
        const unrefused = (target: Target, keys: readonly string[]) =>
            keys.filter((key) => !targetProblems(target, { [key]: asking[key] }).some((e) => e.propertyPath === key));
        // imageContext and imageDockerfile only matter with imageMode build, which Kubernetes refuses already.
        assert.deepStrictEqual(unrefused("kubernetes", DOCKER_ONLY_KEYS), ["imageContext", "imageDockerfile"]);
        assert.deepStrictEqual(unrefused("docker", KUBERNETES_ONLY_KEYS), []);
    });
});
