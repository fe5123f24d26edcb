/**
 * Whether the ranks of a run ended with the same parameters (pure): the checksums each rank's launcher printed for
 * every module the script wrapped in DistributedDataParallel, compared module by module, and the parameters that
 * differ named.
 */
import { RankState } from "./diagnose";
import { ModuleSummary } from "./types";

export interface Agreement {
    /** undefined: nothing to compare (no rank reported a module). */
    agree: boolean | undefined;
    /** One line per module: its type and each rank's checksum (grouped when equal). */
    lines: string[];
    /** What differs, for a failure. */
    differences: string[];
}

function modulesOf(rank: RankState): ModuleSummary[] {
    return rank.final?.modules ?? [];
}

/** Names of the parameters and buffers whose digests differ between two summaries of one module. */
export function differingTensors(a: ModuleSummary, b: ModuleSummary): string[] {
    const names = new Set([...Object.keys(a.tensors ?? {}), ...Object.keys(b.tensors ?? {})]);
    return [...names].filter((n) => a.tensors?.[n] !== b.tensors?.[n]);
}

export function compareRanks(ranks: RankState[]): Agreement {
    const reporting = ranks.filter((r) => r.final !== undefined);
    const count = Math.max(0, ...reporting.map((r) => modulesOf(r).length));
    if (reporting.length === 0 || count === 0) {
        return { agree: undefined, lines: [], differences: [] };
    }
    const lines: string[] = [];
    const differences: string[] = [];
    const counts = new Set(reporting.map((r) => modulesOf(r).length));
    if (counts.size > 1) {
        differences.push(`the ranks wrapped different numbers of modules: ${reporting.map((r) => `rank ${r.rank} ${modulesOf(r).length}`).join(", ")}`);
    }
    for (let i = 0; i < count; i++) {
        const byChecksum = new Map<string, number[]>();
        for (const r of reporting) {
            const m = modulesOf(r)[i];
            const key = m?.checksum ?? (m?.error !== undefined ? `unreadable (${m.error})` : "missing");
            byChecksum.set(key, [...(byChecksum.get(key) ?? []), r.rank]);
        }
        const first = modulesOf(reporting[0])[i];
        const name = `module ${i} (${first?.type ?? "?"}${first?.numel !== undefined ? `, ${first.numel} values` : ""})`;
        const groups = [...byChecksum].map(([sum, rs]) => `${rs.length > 1 ? "ranks" : "rank"} ${rs.join(", ")}: ${sum}`);
        lines.push(`${name}: ${groups.join("; ")}`);
        if (byChecksum.size > 1) {
            const base = reporting[0];
            const other = reporting.filter((r) => modulesOf(r)[i]?.checksum !== modulesOf(base)[i]?.checksum);
            for (const r of other) {
                const names = first !== undefined && modulesOf(r)[i] !== undefined ? differingTensors(first, modulesOf(r)[i]) : [];
                const shown = names.slice(0, 8).join(", ") + (names.length > 8 ? `, and ${names.length - 8} more` : "");
                differences.push(`${name}: rank ${r.rank} differs from rank ${base.rank}${names.length > 0 ? ` in ${shown}` : ""}`);
            }
        }
    }
    return { agree: differences.length === 0, lines, differences };
}
