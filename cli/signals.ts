import { EXIT } from "./errors";

/**
 * Runs `body` with an AbortSignal that SIGINT (Ctrl-C) and SIGTERM abort. Resolves to body's exit code, or
 * 130/143 when a signal stopped it. The handlers are removed afterwards, so nothing outlives the command.
 */
export async function untilSignal(body: (signal: AbortSignal) => Promise<number>): Promise<number> {
    const controller = new AbortController();
    let code: number | undefined;
    const on = (name: NodeJS.Signals, exit: number) => () => {
        code ??= exit;
        controller.abort(new Error(`stopped by ${name}`));
    };
    const onInt = on("SIGINT", EXIT.sigint);
    const onTerm = on("SIGTERM", EXIT.sigterm);
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    try {
        const result = await body(controller.signal);
        return code ?? result;
    } finally {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
    }
}

/** Sleeps `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
    });
}
