/** The run volume of a kubernetes stack after `pulumi destroy`: its claim is kept (retainOnDelete) unless purged. */
import { CliError } from "../../errors";
import { apiProblem, KubernetesApi, statusOf } from "./client";

/** Deletes the claim (`purge`) or says that it is kept and how to remove it. */
export async function afterKubernetesDestroy(
    api: KubernetesApi,
    claim: string,
    namespace: string,
    purge: boolean,
    say: (line: string) => void,
): Promise<void> {
    const ns = namespace === "" ? api.namespace : namespace;
    try {
        await api.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: ns });
    } catch (err) {
        if (statusOf(err) === 404) return;
        throw new CliError(apiProblem(err, api));
    }
    if (!purge) {
        say(`kept the run volume's claim ${claim} in namespace ${ns} (the next up resumes from it; --purge or \`kubectl delete pvc ${claim} -n ${ns}\` removes it)`);
        return;
    }
    try {
        await api.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace: ns });
    } catch (err) {
        throw new CliError(apiProblem(err, api));
    }
    say(`removed the run volume's claim ${claim} in namespace ${ns} (--purge)`);
}
