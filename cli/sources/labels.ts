/** The label keys every target puts on a node (docs/cli.md, "Labels"): how any source finds a cluster's nodes. */
import { LABEL_PREFIX } from "../../components/plan/plan";

export const LABELS = {
    owner: `${LABEL_PREFIX}.owner`,
    project: `${LABEL_PREFIX}.project`,
    stack: `${LABEL_PREFIX}.stack`,
    cluster: `${LABEL_PREFIX}.cluster`,
    rank: `${LABEL_PREFIX}.rank`,
    role: `${LABEL_PREFIX}.role`,
    node: `${LABEL_PREFIX}.node`,
    nodes: `${LABEL_PREFIX}.nodes`,
    gpus: `${LABEL_PREFIX}.gpus`,
    minNodes: `${LABEL_PREFIX}.minNodes`,
} as const;
