/** Exit codes of every verb (docs/cli.md lists them). */
export const EXIT = {
    ok: 0,
    /** `wait`: the run failed (a node exited non-zero, or a DDPSIM_VERDICT line). */
    runFailed: 1,
    /** Bad flags, Docker not reachable, no such stack or cluster. */
    error: 2,
    /** `wait --timeout` ran out. */
    timeout: 124,
    /** Stopped by SIGINT (Ctrl-C) or SIGTERM. */
    sigint: 130,
    sigterm: 143,
} as const;

/** An error the user can act on: one line on stderr, then `exitCode`. */
export class CliError extends Error {
    constructor(
        message: string,
        readonly exitCode: number = EXIT.error,
    ) {
        super(message);
        this.name = "CliError";
    }
}
