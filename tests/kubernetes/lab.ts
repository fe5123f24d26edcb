/**
 * What the Kubernetes suite shares: the cluster of scripts/kubernetes-cluster.sh (through $KUBECONFIG and
 * @kubernetes/client-node), a project folder with stacks whose target is kubernetes, the real Pulumi CLI with the
 * Node.js language host and the Kubernetes provider (ambient plugins on PATH), and the test image (the CPU image with
 * the trainer and tests/kubernetes/fixtures at /code) imported into the cluster's containerd.
 */
import * as assert from "assert";
import { execFile, spawn } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { parse, stringify } from "yaml";
import type * as K8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { ensureCpuImage } from "../support/cpuImage";
import { checkoutAt, REPO_ROOT } from "../support/stackFiles";
import { waitFor } from "../support/wait";

const run = promisify(execFile);
export const NAMESPACE = "default";
const FIXTURES = path.join(REPO_ROOT, "tests", "kubernetes", "fixtures");
const PLUGINS = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"];

export interface Finished {
    status: "Complete" | "Failed";
    reason: string;
    message: string;
    /** From the Job's start to the condition. */
    seconds: number;
}

export interface CommandResult {
    code: number | null;
    stdout: string;
    stderr: string;
    seconds: number;
}

function onPath(binary: string): boolean {
    return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && fs.existsSync(path.join(dir, binary)));
}

/** The test image: the CPU image with training/ and the fixtures at /code, tagged by their content. */
async function buildTestImage(base: string): Promise<string> {
    const context = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-k8s-image-"));
    try {
        fs.cpSync(path.join(REPO_ROOT, "training"), path.join(context, "code"), { recursive: true, filter: (src) => !src.includes("__pycache__") });
        fs.cpSync(FIXTURES, path.join(context, "code"), { recursive: true });
        fs.writeFileSync(path.join(context, "Dockerfile"), `FROM ${base}\nCOPY code/ /code/\n`);
        const hash = crypto.createHash("sha256");
        for (const file of fs.readdirSync(context, { recursive: true, encoding: "utf8" }).sort()) {
            const full = path.join(context, file);
            if (fs.statSync(full).isFile()) hash.update(file).update(fs.readFileSync(full));
        }
        const { stdout: baseId } = await run("docker", ["image", "inspect", "-f", "{{.Id}}", base]);
        const tag = `ddpsim-k8s-test:${hash.update(baseId).digest("hex").slice(0, 12)}`;
        await run("docker", ["build", "-q", "-t", tag, context], { timeout: 600_000 });
        return tag;
    } finally {
        fs.rmSync(context, { recursive: true, force: true });
    }
}

export class KubernetesLab {
    readonly stacks: string[] = [];
    private constructor(
        readonly k8s: typeof K8s,
        readonly core: K8s.CoreV1Api,
        readonly batch: K8s.BatchV1Api,
        readonly image: string,
        readonly tmp: string,
        readonly project: string,
        readonly env: NodeJS.ProcessEnv,
    ) {}

    static async open(): Promise<KubernetesLab> {
        const kubeconfig = process.env.KUBECONFIG;
        if (kubeconfig === undefined || !fs.existsSync(kubeconfig)) {
            throw new Error("KUBECONFIG names no file: run `bash tests/kubernetes/run.sh` (it brings the cluster up)");
        }
        const missing = PLUGINS.filter((b) => !onPath(b));
        if (missing.length > 0) throw new Error(`${missing.join(", ")} not on PATH: run \`bash tests/kubernetes/run.sh\``);
        const k8s = await import("@kubernetes/client-node");
        const config = new k8s.KubeConfig();
        config.loadFromFile(kubeconfig);
        const image = await buildTestImage(await ensureCpuImage());
        const started = Date.now();
        await run("bash", [path.join(REPO_ROOT, "scripts", "kubernetes-cluster.sh"), "load", image], { timeout: 600_000 });
        console.log(`      figure: test image ${image} imported into the cluster in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ddpsim-k8s-"));
        const project = checkoutAt(path.join(tmp, "project"));
        fs.mkdirSync(path.join(tmp, "state"));
        fs.mkdirSync(path.join(tmp, "home"));
        const env = {
            ...process.env,
            PULUMI_BACKEND_URL: `file://${path.join(tmp, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            // An empty plugin cache: the language host and provider can only come from PATH, never a download.
            PULUMI_HOME: path.join(tmp, "home"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
        };
        return new KubernetesLab(k8s, config.makeApiClient(k8s.CoreV1Api), config.makeApiClient(k8s.BatchV1Api), image, tmp, project, env);
    }

    /** Pulumi.<stack>.yaml of a kubernetes stack: the test image, CPU, a small /dev/shm, short grace. */
    newStack(label: string, config: Record<string, unknown>): string {
        const stack = `k8s-${label}-${crypto.randomBytes(3).toString("hex")}`;
        this.stacks.push(stack);
        const full = {
            "ddpsim:target": "kubernetes",
            "ddpsim:imageMode": "registry",
            "ddpsim:image": this.image,
            "ddpsim:nodes": 2,
            "ddpsim:gpusPerNode": 0,
            "ddpsim:shmSizeMb": 256,
            "ddpsim:stopGraceSeconds": 10,
            ...config,
        };
        fs.writeFileSync(path.join(this.project, `Pulumi.${stack}.yaml`), stringify({ config: full }));
        return stack;
    }

    setConfig(stack: string, config: Record<string, unknown>): void {
        const file = path.join(this.project, `Pulumi.${stack}.yaml`);
        const current = parse(fs.readFileSync(file, "utf8"));
        fs.writeFileSync(file, stringify({ ...current, config: { ...current.config, ...config } }));
    }

    /** A command in the project folder with the suite's Pulumi environment. */
    command(file: string, args: string[], timeoutMs = 600_000): Promise<CommandResult> {
        const started = Date.now();
        return new Promise((resolve, reject) => {
            const child = spawn(file, args, { cwd: this.project, env: this.env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
            child.on("error", reject);
            child.on("close", (code) => {
                clearTimeout(timer);
                resolve({ code, stdout, stderr, seconds: (Date.now() - started) / 1000 });
            });
        });
    }

    /** `pulumi <verb> --yes` of a stack (created when missing); fails the test on a non-zero exit. */
    async pulumi(verb: "up" | "destroy", stack: string): Promise<CommandResult> {
        await this.command("pulumi", ["stack", "select", "--create", "--secrets-provider", "passphrase", stack]);
        const result = await this.command("pulumi", [verb, "--yes", "--skip-preview", "--non-interactive", "--stack", stack]);
        assert.strictEqual(result.code, 0, `pulumi ${verb} ${stack}: exit ${result.code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
        return result;
    }

    async outputs(stack: string): Promise<Record<string, any>> {
        const result = await this.command("pulumi", ["stack", "output", "--json", "--stack", stack]);
        assert.strictEqual(result.code, 0, result.stderr);
        return JSON.parse(result.stdout);
    }

    async job(name: string): Promise<K8s.V1Job | undefined> {
        try {
            return await this.batch.readNamespacedJob({ name, namespace: NAMESPACE });
        } catch (error) {
            if ((error as { code?: number }).code === 404) return undefined;
            throw error;
        }
    }

    /** The Job's pods, by completion index then creation. */
    async pods(job: string): Promise<K8s.V1Pod[]> {
        const list = await this.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `ddpsim.job=${job}` });
        const index = (p: K8s.V1Pod) => Number(p.metadata?.annotations?.["batch.kubernetes.io/job-completion-index"] ?? -1);
        const created = (p: K8s.V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
        return list.items.sort((a, b) => index(a) - index(b) || created(a) - created(b));
    }

    async log(pod: string): Promise<string> {
        return this.core.readNamespacedPodLog({ name: pod, namespace: NAMESPACE, container: "node" });
    }

    /** Waits for the Job's Complete or Failed condition. */
    async finished(job: string, timeoutMs = 600_000): Promise<Finished> {
        return waitFor(`Job ${job} to finish`, timeoutMs, async () => {
            const found = await this.job(job);
            const end = found?.status?.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
            if (found === undefined || end === undefined) return undefined;
            const start = new Date(found.status?.startTime ?? found.metadata?.creationTimestamp ?? 0).getTime();
            const at = new Date(end.lastTransitionTime ?? Date.now()).getTime();
            return { status: end.type as Finished["status"], reason: end.reason ?? "", message: end.message ?? "", seconds: (at - start) / 1000 };
        }, 1000);
    }

    /** The host folder of the volume a claim is bound to (this one-node cluster's hostPath volumes). */
    async claimDir(claim: string): Promise<string> {
        const bound = await this.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: NAMESPACE });
        assert.strictEqual(bound.status?.phase, "Bound", `claim ${claim} is ${bound.status?.phase}`);
        const volume = await this.core.readPersistentVolume({ name: bound.spec!.volumeName! });
        return volume.spec!.hostPath!.path;
    }

    async result(claim: string): Promise<Record<string, any>> {
        return JSON.parse(fs.readFileSync(path.join(await this.claimDir(claim), "result.json"), "utf8"));
    }

    /** metrics.jsonl on the run volume, one object per step (a line still being written is skipped). */
    async metrics(claim: string): Promise<{ step: number; time: number }[]> {
        const file = path.join(await this.claimDir(claim), "metrics.jsonl");
        if (!fs.existsSync(file)) return [];
        return fs
            .readFileSync(file, "utf8")
            .split("\n")
            .flatMap((line) => {
                try {
                    return [JSON.parse(line)];
                } catch {
                    return [];
                }
            });
    }

    async steps(claim: string): Promise<number[]> {
        return (await this.metrics(claim)).map((m) => m.step);
    }

    async waitForStep(claim: string, step: number, timeoutMs = 300_000): Promise<number> {
        const started = Date.now();
        await waitFor(`step ${step} on claim ${claim}`, timeoutMs, async () => ((await this.steps(claim)).some((s) => s >= step) ? true : undefined), 500);
        return (Date.now() - started) / 1000;
    }

    /** From the Job's start to the first step in metrics.jsonl (its `time`, seconds since the epoch). */
    async firstStepSeconds(job: string, claim: string): Promise<number> {
        const found = await this.job(job);
        const start = new Date(found!.status!.startTime!).getTime() / 1000;
        const first = JSON.parse(fs.readFileSync(path.join(await this.claimDir(claim), "metrics.jsonl"), "utf8").split("\n")[0]);
        return first.time - start;
    }

    /** Destroys every stack of the suite and deletes their claims, then the project folder. */
    async close(): Promise<void> {
        for (const stack of this.stacks) {
            await this.command("pulumi", ["destroy", "--yes", "--skip-preview", "--non-interactive", "--stack", stack]).catch(() => undefined);
            const claims = await this.core.listNamespacedPersistentVolumeClaim({ namespace: NAMESPACE, labelSelector: `ddpsim.stack=${stack}` });
            for (const c of claims.items) {
                await this.core.deleteNamespacedPersistentVolumeClaim({ name: c.metadata!.name!, namespace: NAMESPACE }).catch(() => undefined);
            }
        }
        fs.rmSync(this.tmp, { recursive: true, force: true });
    }
}

/** The K8S_PEERS line each pod's fixture prints (tests/kubernetes/fixtures/k8s_peers.py). */
export interface PeersReport {
    host: string;
    index: string;
    groupRank: string;
    nodeRank: string;
    restart: string;
    peers: Record<string, string>;
}

export function peersReports(log: string): PeersReport[] {
    return [...log.matchAll(/^K8S_PEERS (\{.*\})$/gm)].map((m) => JSON.parse(m[1]));
}
