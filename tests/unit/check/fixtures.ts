/** Log lines and run records as the check reads them, for the unit tests of cli/check (pure). */
import { LogLine } from "../../../cli";
import { CheckEvent, NodeRecord, RunRecord } from "../../../cli/check";

export const T0 = 1_800_000_000;

/** Lines of one node, one every 10 ms from `start` (unix seconds). */
export function lines(node: string, rank: number, texts: string[], start = T0): LogLine[] {
    return texts.map((text, i) => {
        const t = start + i / 100;
        const sec = Math.floor(t);
        const nanos = Math.round((t - sec) * 1e9);
        return { node, rank, stream: "stdout", timestamp: new Date(t * 1000).toISOString(), sec, nanos, text };
    });
}

/** A DDPSIM_CHECK line of the launcher. */
export function event(fields: Partial<CheckEvent> & Pick<CheckEvent, "event" | "rank" | "steps">): string {
    const full: CheckEvent = { worldSize: 2, node: `ddp-node-${fields.rank}`, restart: 0, pid: 10 + fields.rank, started: T0, time: T0 + 5, ...fields };
    return `DDPSIM_CHECK ${JSON.stringify(full)}`;
}

export function module(checksum: string, tensors: Record<string, string> = { "0.weight": checksum.slice(0, 12), "0.bias": "b1" }) {
    return { type: "Sequential", numel: 2177, checksum, tensors };
}

export function nodeRecord(rank: number, texts: string[], more: Partial<NodeRecord> = {}): NodeRecord {
    const node = `ddp-node-${rank}`;
    return { node, rank, state: "exited", exitCode: 0, restarts: 0, lines: lines(node, rank, texts), ...more };
}

export function run(nodeRecords: NodeRecord[], more: Partial<RunRecord> = {}): RunRecord {
    return {
        label: `${nodeRecords.length} nodes`,
        kind: "plain",
        nodes: nodeRecords.length,
        stack: "check-n2-abcdef",
        startedMs: T0 * 1000,
        upSeconds: 10,
        runSeconds: 20,
        downSeconds: 5,
        end: "done",
        timeoutSeconds: 300,
        nodeRecords,
        ...more,
    };
}

/** Two ranks that trained `steps` steps and exited 0, with these checksums. */
export function okRun(checksums: [string, string], steps = 192): RunRecord {
    return run([0, 1].map((rank) => nodeRecord(rank, [`[RANK${rank}] Epoch 2 | Steps: 64`, event({ event: "exit", rank, steps, exitCode: 0, modules: [module(checksums[rank])] })])));
}

/** The gloo lines of a rank killed by SIGABRT in a mismatched collective (faulthandler on), as torch 2.6 prints them. */
export const ABORT_DUMP = [
    "terminate called after throwing an instance of 'gloo::EnforceNotMet'",
    "  what():  [enforce fail at ./gloo/transport/tcp/pair.cc:446] op.preamble.length <= op.nbytes. 12 vs 4",
    "Fatal Python error: Aborted",
    "",
    "Thread 0x00007ff8af7ff6c0 (most recent call first):",
    "  <no Python frame>",
    "",
    "Thread 0x00007ff8d8ef2780 (most recent call first):",
    '  File "/usr/lib/python3/dist-packages/torch/distributed/distributed_c10d.py", line 2806 in all_reduce',
    '  File "/code/train.py", line 44 in main',
    '  File "/code/train.py", line 51 in <module>',
    '  File "<frozen runpy>", line 88 in _run_code',
    "E1203 09:53:36.593000 6 torch/distributed/elastic/multiprocessing/api.py:869] failed (exitcode: -6) local_rank: 0 (pid: 11) of binary: python3",
];

/** A traceback as torchrun prints a worker's, rank prefix included, ending in `error`. */
export function traceback(rank: number, frames: [string, number, string, string][], error: string): string[] {
    return [
        `[rank${rank}]: Traceback (most recent call last):`,
        ...frames.flatMap(([file, line, func, source]) => [`[rank${rank}]:   File "${file}", line ${line}, in ${func}`, `[rank${rank}]:     ${source}`]),
        `[rank${rank}]: ${error}`,
    ];
}
