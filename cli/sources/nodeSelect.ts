import { ClusterNode } from "./source";
import { CliError } from "../errors";

/** The nodes `--node` names (a rank or a hostname, repeatable); every node when none is named. */
export function selectNodes<T extends Pick<ClusterNode, "node" | "rank">>(nodes: T[], wanted: string[] | undefined): T[] {
    if (wanted === undefined || wanted.length === 0) return nodes;
    const picked: T[] = [];
    for (const want of wanted) {
        const match = nodes.find((n) => n.node === want || (/^\d+$/.test(want) && n.rank === Number(want)));
        if (match === undefined) {
            const known = nodes.map((n) => `${n.rank} (${n.node})`).join(", ");
            throw new CliError(`--node ${want}: no such node; nodes: ${known}`);
        }
        if (!picked.includes(match)) picked.push(match);
    }
    return picked.sort((a, b) => a.rank - b.rank);
}
