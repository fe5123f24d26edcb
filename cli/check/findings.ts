/**
 * The check's findings from its runs (pure): runs at each world size, no hang, ranks agree, survives a lost node.
 * Each names what it checked, whether it passed, and the evidence. Exit code 0 only when none failed.
 */
import { compareRanks } from "./agreement";
import { diagnoseRun, rankLine, RankState, RunVerdict, SourceReader } from "./diagnose";
import { LostNodeAnalysis } from "./lostNode";
import { Finding, RunRecord } from "./types";

export interface CheckInputs {
    /** The plain runs, one per world size, in order. */
    plain: RunRecord[];
    /** The lost-node run and its analysis, or why it was not run. */
    lostNode: { run: RunRecord; analysis: LostNodeAnalysis } | { skipped: string };
    requireResume: boolean;
    sourceOf?: SourceReader;
}

const secondsOf = (run: RunRecord) => Math.round(run.upSeconds + run.runSeconds + (run.downSeconds ?? 0));

function runsFinding(run: RunRecord, verdict: RunVerdict): Finding {
    const base = {
        id: `runs-${run.nodes}`,
        title: `runs on ${run.nodes} nodes`,
        checks: `every one of ${run.nodes} nodes exits 0 within ${run.timeoutSeconds} s`,
        seconds: secondsOf(run),
    };
    const details = verdict.ranks.map(rankLine);
    switch (verdict.status) {
        case "ok": {
            const steps = verdict.ranks.map((r) => r.steps ?? 0);
            return { ...base, status: "pass", summary: `every node exited 0 after ${Math.max(...steps)} step(s), in ${run.runSeconds.toFixed(0)} s`, details };
        }
        case "crashed": {
            const c = verdict.culprit;
            return { ...base, status: "fail", summary: `rank ${c.rank} (${c.node}) ${c.text}${c.where !== undefined ? ` at ${c.where}` : ""}`, details };
        }
        case "hung":
            return { ...base, status: "fail", summary: `${verdict.reason} (see no hang)`, details };
        case "failed":
        case "no cluster":
            return { ...base, status: "fail", summary: verdict.reason, details };
        default: {
            const never: never = verdict;
            throw new Error(`unknown verdict ${JSON.stringify(never)}`);
        }
    }
}

const ranksText = (ranks: RankState[]) => `${ranks.length > 1 ? "ranks" : "rank"} ${ranks.map((r) => r.rank).join(", ")}`;

/** Who waited for whom, in one sentence. */
export function hangSentence(waiting: RankState[], missing: RankState[], reason: string): string {
    if (waiting.length === 0) return reason;
    const at = [...new Set(waiting.map((r) => r.steps))].filter((s) => s !== undefined);
    const step = at.length === 1 ? ` at step ${at[0]}` : "";
    if (missing.length === 0) {
        return `every rank waited in a collective${step} and none completed: the ranks' collectives did not match (${waiting[0].text})`;
    }
    const where = missing.map((r) => `rank ${r.rank} ${r.steps !== undefined ? `after ${r.steps} step(s), ` : ""}${r.text}${r.where !== undefined ? ` at ${r.where}` : ""}`);
    return `${ranksText(waiting)} waited in a collective${step} that ${ranksText(missing)} did not arrive at: ${where.join("; ")}`;
}

function noHangFinding(runs: RunRecord[], verdicts: RunVerdict[]): Finding {
    const base = {
        id: "no-hang",
        title: "no hang",
        checks: "every collective completes: no rank waits past the collective timeout for a rank that does not arrive",
    };
    const hung = verdicts.map((v, i) => [runs[i], v] as const).filter(([, v]) => v.status === "hung");
    if (hung.length === 0) {
        const judged = verdicts.filter((v) => v.status === "ok").length;
        if (judged === 0) return { ...base, status: "skip", summary: "not judged: no run got far enough to tell", details: [] };
        return { ...base, status: "pass", summary: `no collective waited in ${judged} run(s)`, details: [] };
    }
    const details: string[] = [];
    let summary = "";
    for (const [run, v] of hung) {
        if (v.status !== "hung") continue;
        const line = `${run.nodes} nodes: ${hangSentence(v.waiting, v.missing, v.reason)}`;
        summary ||= line;
        details.push(`${run.label}: ${v.reason}`, ...v.ranks.map((r) => `  ${rankLine(r)}`));
    }
    return { ...base, status: "fail", summary, details };
}

function agreeFinding(runs: RunRecord[], verdicts: RunVerdict[]): Finding {
    const base = {
        id: "ranks-agree",
        title: "ranks agree",
        checks: "at the end, every module wrapped in DistributedDataParallel has the same parameters on every rank (sha256 per rank)",
    };
    const done = verdicts.map((v, i) => [runs[i], v] as const).filter(([, v]) => v.status === "ok");
    if (done.length === 0) return { ...base, status: "skip", summary: "not checked: no run ended with every rank's report", details: [] };
    const details: string[] = [];
    const problems: string[] = [];
    let compared = 0;
    for (const [run, v] of done) {
        const agreement = compareRanks(v.ranks);
        if (agreement.agree === undefined) {
            details.push(`${run.label}: the script wrapped no module in DistributedDataParallel`);
            continue;
        }
        compared++;
        details.push(...agreement.lines.map((l) => `${run.label}: ${l}`));
        problems.push(...agreement.differences.map((d) => `${run.label}: ${d}`));
    }
    if (compared === 0) return { ...base, status: "skip", summary: "not checked: the script wrapped no module in DistributedDataParallel", details };
    if (problems.length > 0) return { ...base, status: "fail", summary: problems[0], details: [...problems.slice(1), ...details] };
    return { ...base, status: "pass", summary: `every rank ended with the same parameters in ${compared} run(s)`, details };
}

function lostNodeFinding(inputs: CheckInputs): Finding {
    const base = {
        id: "lost-node",
        title: "survives a lost node",
        checks: "a node's main process killed mid-training: training resumes, ends on every node with exit 0, and the ranks agree",
    };
    if ("skipped" in inputs.lostNode) return { ...base, status: "skip", summary: `not run: ${inputs.lostNode.skipped}`, details: [] };
    const { run, analysis: a } = inputs.lostNode;
    const seconds = secondsOf(run);
    const crash = run.crash;
    if (crash === undefined || !crash.made) {
        return { ...base, seconds, status: "fail", summary: `no node was killed: ${crash?.what ?? "the run never reached the step"}`, details: a.verdict.ranks.map(rankLine) };
    }
    const details = [
        `killed ${crash.node} (rank ${crash.rank}) after ${a.stepsBefore} of ${a.baselineSteps} step(s): ${crash.what}`,
        ...(a.detectSeconds !== undefined ? [`noticed ${a.detectSeconds} s later`] : []),
        ...(a.recoverSeconds !== undefined ? [`training again ${a.recoverSeconds} s after the kill`] : []),
        ...a.verdict.ranks.map(rankLine),
    ];
    if (a.verdict.status !== "ok") {
        const why = a.verdict.status === "crashed" ? `rank ${a.verdict.culprit.rank} ${a.verdict.culprit.text}` : a.verdict.reason;
        return { ...base, seconds, status: "fail", summary: `training did not finish after the kill: ${why}`, details };
    }
    if (a.agreement.agree === false) {
        return { ...base, seconds, status: "fail", summary: `after the restart the ranks disagree: ${a.agreement.differences[0]}`, details: [...details, ...a.agreement.lines] };
    }
    details.push(...a.agreement.lines);
    if (a.fromScratch) {
        const summary = `restarted from scratch: the last attempt trained all ${a.finalSteps} step(s) again (${a.redone} redone); the script resumes from nothing it saved`;
        return { ...base, seconds, status: inputs.requireResume ? "fail" : "pass", warning: !inputs.requireResume, summary: inputs.requireResume ? `${summary} (--require-resume)` : summary, details };
    }
    const summary = `resumed at step ${a.resumedAt} and finished; ${a.redone} step(s) redone${a.recoverSeconds !== undefined ? `, training again ${a.recoverSeconds} s after the kill` : ""}`;
    return { ...base, seconds, status: "pass", summary, details };
}

/** Every finding, in the order the report shows them. */
export function findings(inputs: CheckInputs): Finding[] {
    const verdicts = inputs.plain.map((run) => diagnoseRun(run, inputs.sourceOf));
    return [
        ...inputs.plain.map((run, i) => runsFinding(run, verdicts[i])),
        noHangFinding(inputs.plain, verdicts),
        agreeFinding(inputs.plain, verdicts),
        lostNodeFinding(inputs),
    ];
}

export function passed(all: Finding[]): boolean {
    return all.every((f) => f.status !== "fail");
}
