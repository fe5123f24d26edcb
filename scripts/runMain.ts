/** Runs a script's `main(argv)` and turns its result or error into the process exit code and one message. */
export function runMain(main: (argv: string[]) => number): void {
    try {
        process.exitCode = main(process.argv.slice(2));
    } catch (err) {
        console.error(err instanceof Error ? err.message : String(err));
        process.exitCode = 1;
    }
}
