#!/usr/bin/env node
/** The `ddpsim` executable (package.json "bin"). */
import { runCli } from "./program";

// `ddpsim logs | head`: the reader went away; stop quietly, as `docker logs` does.
for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (err: NodeJS.ErrnoException) => process.exit(err.code === "EPIPE" ? 0 : 1));
}

runCli(process.argv.slice(2)).then((code) => process.exit(code));
