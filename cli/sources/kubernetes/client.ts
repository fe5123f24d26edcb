/**
 * The Kubernetes API as the CLI reaches it: @kubernetes/client-node (an ES module, loaded on first use so that a
 * Docker-only run never loads it), with the kubeconfig kubectl would use ($KUBECONFIG, else ~/.kube/config).
 */
import type * as K8s from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { CliError } from "../../errors";

export type KubernetesModule = typeof K8s;

export interface KubernetesApi {
    k8s: KubernetesModule;
    config: K8s.KubeConfig;
    core: K8s.CoreV1Api;
    batch: K8s.BatchV1Api;
    /** The current context's namespace ("default" when it names none). */
    namespace: string;
    /** Where the cluster is, for messages. */
    server: string;
}

export async function connectKubernetes(): Promise<KubernetesApi> {
    const k8s: KubernetesModule = await import("@kubernetes/client-node");
    const config = new k8s.KubeConfig();
    try {
        config.loadFromDefault();
    } catch (err) {
        throw new CliError(`cannot read the kubeconfig (${process.env.KUBECONFIG ?? "~/.kube/config"}): ${err instanceof Error ? err.message : String(err)}`);
    }
    const cluster = config.getCurrentCluster();
    if (cluster === null) throw new CliError(`no current cluster in the kubeconfig (${process.env.KUBECONFIG ?? "~/.kube/config"}): set KUBECONFIG or a current context`);
    const context = config.getContextObject(config.getCurrentContext());
    return {
        k8s,
        config,
        core: config.makeApiClient(k8s.CoreV1Api),
        batch: config.makeApiClient(k8s.BatchV1Api),
        namespace: context?.namespace ?? "default",
        server: cluster.server,
    };
}

/** The HTTP status of a failed API call, if it has one. */
export function statusOf(err: unknown): number | undefined {
    const code = (err as { code?: unknown }).code;
    return typeof code === "number" ? code : undefined;
}

/** A failed API call as one line: its status and the API server's message. */
export function apiProblem(err: unknown, api: Pick<KubernetesApi, "server">): string {
    const status = statusOf(err);
    const body = (err as { body?: unknown }).body;
    let message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    if (typeof body === "string") {
        try {
            message = JSON.parse(body).message ?? message;
        } catch {
            // not JSON: keep the error's own first line
        }
    }
    return `the Kubernetes API at ${api.server} answered ${status ?? "with an error"}: ${message}`;
}
