// What `pulumi up` starts (Pulumi.yaml's main). The stack program is index.ts; this runs its compiled copy
// (bin/index.js, which `npm ci` and `npm run build` write) when that is newer than every TypeScript source it is made
// of, which spares transpiling about 3,000 lines on every `pulumi up` (a second or two); after an edit, until the next
// build, it runs index.ts itself through ts-node, as a TypeScript Pulumi program runs.
const fs = require("fs");
const path = require("path");

function newestSource(dir) {
    let newest = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
        else if (entry.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(full).mtimeMs);
    }
    return newest;
}

function compiledIsCurrent(compiled) {
    if (!fs.existsSync(compiled)) return false;
    const sources = Math.max(fs.statSync(path.join(__dirname, "index.ts")).mtimeMs, newestSource(path.join(__dirname, "components")));
    return fs.statSync(compiled).mtimeMs >= sources;
}

const compiled = path.join(__dirname, "bin", "index.js");
if (compiledIsCurrent(compiled)) {
    module.exports = require(compiled);
} else {
    require("ts-node").register({ project: path.join(__dirname, "tsconfig.json"), transpileOnly: true });
    module.exports = require(path.join(__dirname, "index.ts"));
}
