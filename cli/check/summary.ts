/**
 * The check's report for people and machines (pure): a Markdown summary (what GitHub shows as the job summary), the
 * same as plain text for the terminal, and check.json.
 */
import { formatDuration } from "../durations";
import { diagnoseRun } from "./diagnose";
import { Finding, RunRecord } from "./types";

/** What was checked and how it went, for the reports. */
export interface CheckSummary {
    /** `train.py 3 1` or `-m tinyimg.train --steps 40`. */
    command: string;
    codeDir: string;
    image: string;
    worldSizes: number[];
    startedAt: string;
    seconds: number;
    findings: Finding[];
    runs: RunRecord[];
    /** The timeline PNG's file name, when one was drawn. */
    timeline?: string;
    /** Why there is no timeline. */
    noTimeline?: string;
}

const ICON = { pass: "✅", fail: "❌", skip: "⏭️" } as const;

function icon(f: Finding): string {
    return f.status === "pass" && f.warning === true ? "⚠️" : ICON[f.status];
}

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
    return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function headline(s: CheckSummary): string {
    const failed = s.findings.filter((f) => f.status === "fail").length;
    return failed === 0
        ? `✅ passed: ${s.findings.filter((f) => f.status === "pass").length} of ${s.findings.length} findings passed`
        : `❌ failed: ${failed} of ${s.findings.length} findings failed`;
}

function runRow(run: RunRecord): string {
    const v = diagnoseRun(run);
    const ended = run.end === "up-failed" ? "pulumi up failed" : v.status === "ok" ? "every node exited 0" : v.status;
    const times = [run.upSeconds, run.runSeconds, run.downSeconds ?? 0].map((t) => `${t.toFixed(0)} s`);
    return `| ${cell(run.label)} | ${run.nodes} | ${times.join(" | ")} | ${cell(ended)} |`;
}

export function markdownSummary(s: CheckSummary): string {
    const lines = [
        `## ddpsim check: ${headline(s)}`,
        "",
        `\`${s.command}\` from \`${s.codeDir}\` on ${s.worldSizes.join(" and ")} simulated nodes (image \`${s.image}\`), ${formatDuration(s.seconds)}.`,
        "",
        "| | Finding | Result |",
        "| --- | --- | --- |",
        ...s.findings.map((f) => `| ${icon(f)} | ${cell(f.title)} | ${cell(f.summary)} |`),
        "",
    ];
    for (const f of s.findings) {
        if (f.details.length === 0) continue;
        const body = ["", `Checks: ${f.checks}.`, "", "```", ...f.details, "```", ""];
        if (f.status === "fail") lines.push(`### ${icon(f)} ${f.title}`, ...body);
        else lines.push(`<details><summary>${icon(f)} ${f.title}: evidence</summary>`, ...body, "</details>", "");
    }
    lines.push("### Runs", "", "| Run | Nodes | pulumi up | run | destroy | ended |", "| --- | --- | --- | --- | --- | --- |", ...s.runs.map(runRow), "");
    if (s.timeline !== undefined) lines.push(`The lost-node run's timeline: \`${s.timeline}\` in the report folder.`, "");
    else if (s.noTimeline !== undefined) lines.push(`No timeline: ${s.noTimeline}.`, "");
    return lines.join("\n");
}

/** The findings for a terminal: one line each, then the failures' evidence. */
export function textSummary(s: CheckSummary): string {
    const word = { pass: "PASS", fail: "FAIL", skip: "SKIP" } as const;
    const lines = [`ddpsim check: ${headline(s).replace(/^\S+ /, "")} (${formatDuration(s.seconds)})`];
    for (const f of s.findings) lines.push(`  ${f.status === "pass" && f.warning ? "WARN" : word[f.status]}  ${f.title}: ${f.summary}`);
    for (const f of s.findings.filter((x) => x.status === "fail")) {
        lines.push("", `${f.title} (checks: ${f.checks}):`, ...f.details.map((d) => `  ${d}`));
    }
    return lines.join("\n");
}

/** check.json: the findings, and per run its timings, how it ended and each rank's state and checksums. */
export function checkJson(s: CheckSummary, exitCode: number): object {
    return {
        passed: exitCode === 0,
        exitCode,
        command: s.command,
        codeDir: s.codeDir,
        image: s.image,
        worldSizes: s.worldSizes,
        startedAt: s.startedAt,
        seconds: Math.round(s.seconds * 10) / 10,
        findings: s.findings,
        runs: s.runs.map((run) => {
            const v = diagnoseRun(run);
            return {
                label: run.label,
                kind: run.kind,
                nodes: run.nodes,
                stack: run.stack,
                end: run.end,
                status: v.status,
                upSeconds: round(run.upSeconds),
                runSeconds: round(run.runSeconds),
                downSeconds: run.downSeconds === undefined ? null : round(run.downSeconds),
                ...(run.crash !== undefined ? { crash: run.crash } : {}),
                ranks: v.ranks.map((r) => ({
                    rank: r.rank,
                    node: r.node,
                    status: r.status,
                    text: r.text,
                    steps: r.steps ?? null,
                    where: r.where ?? null,
                    lastLine: r.lastLine ?? null,
                    modules: (r.final?.modules ?? []).map((m) => ({ type: m.type, numel: m.numel, checksum: m.checksum })),
                })),
            };
        }),
        timeline: s.timeline ?? null,
    };
}

const round = (x: number) => Math.round(x * 10) / 10;
