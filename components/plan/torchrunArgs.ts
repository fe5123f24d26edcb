/**
 * Which torchrun flags the cluster sets itself, and how to find them in a user's `torchrunArgs` in every spelling
 * torchrun's argparse accepts: `--flag value`, `--flag=value`, `--flag_with_underscores`, and any unambiguous
 * prefix (`--max-re`). Pure.
 */

/** torchrun's long options (torch 2.6-2.8), each with whether it takes a value. */
const TORCHRUN_OPTIONS: Record<string, boolean> = {
    nnodes: true, "nproc-per-node": true, "rdzv-backend": true, "rdzv-endpoint": true, "rdzv-id": true,
    "rdzv-conf": true, standalone: false, "max-restarts": true, "monitor-interval": true, "start-method": true,
    role: true, module: false, "no-python": false, "run-path": false, "log-dir": true, redirects: true, tee: true,
    "local-ranks-filter": true, "node-rank": true, "master-addr": true, "master-port": true, "local-addr": true,
    "logs-specs": true,
};

/** The flags the cluster owns, and the setting that decides each. */
const OWNED: Record<string, string> = {
    nnodes: "nodes",
    "nproc-per-node": "procsPerNode",
    "max-restarts": "maxRestarts",
    "rdzv-backend": "the cluster's c10d rendezvous",
    "rdzv-endpoint": "the cluster's c10d rendezvous (masterPort)",
    "rdzv-id": "the cluster's c10d rendezvous",
    standalone: "the cluster's c10d rendezvous",
    "node-rank": "the node's place in the cluster",
    "master-addr": "the cluster's c10d rendezvous",
    "master-port": "the cluster's c10d rendezvous (masterPort)",
    "local-addr": "the node's host name, which orders the ranks",
    module: "script / module",
    "no-python": "script / module",
    "run-path": "script / module",
};

function canonical(name: string): string {
    return name.replace(/_/g, "-");
}

/** The options a `--name` token means to argparse: the exact one, else every option it abbreviates. */
function optionsMeant(name: string): string[] {
    const wanted = canonical(name);
    if (wanted in TORCHRUN_OPTIONS) return [wanted];
    return Object.keys(TORCHRUN_OPTIONS).filter((option) => option.startsWith(wanted));
}

/**
 * `--rdzv-conf` in `args`, in every spelling torchrun accepts (`--rdzv-conf k=v,k2=v2`, `--rdzv_conf=...`, a
 * prefix): its key=value pairs in order (a later value of a key wins, as torchrun's last flag would), and the other
 * arguments as they were.
 */
export function splitRendezvousConf(args: string[]): { conf: [string, string][]; rest: string[] } {
    const conf: [string, string][] = [];
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const token = args[i];
        const [name, inline] = token.startsWith("--") ? token.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
        const meant = name === undefined ? [] : optionsMeant(name);
        if (meant.length !== 1 || meant[0] !== "rdzv-conf") {
            rest.push(token);
            continue;
        }
        const value = inline ?? args[++i] ?? "";
        for (const pair of value.split(",")) {
            const [key, v] = pair.split(/=(.*)/s, 2);
            if (key.trim() !== "") conf.push([key.trim(), (v ?? "").trim()]);
        }
    }
    return { conf, rest };
}

/** Problems with `torchrunArgs` (each a sentence without the key), empty when it is fine. */
export function torchrunArgsProblems(args: string[]): string[] {
    const problems: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const token = args[i];
        if (token.startsWith("--") && token.length > 2) {
            const [name, value] = token.slice(2).split(/=(.*)/s, 2);
            const meant = optionsMeant(name);
            const owned = meant.filter((option) => option in OWNED);
            if (owned.length > 0) {
                const what = meant.length === 1 && meant[0] === canonical(name) ? `sets --${owned[0]}` : `abbreviates --${owned.join(", --")}`;
                problems.push(`${JSON.stringify(token)} ${what}, which the cluster sets from ${OWNED[owned[0]]}`);
            }
            const takesValue = meant.length === 1 ? TORCHRUN_OPTIONS[meant[0]] : !(args[i + 1] ?? "-").startsWith("-");
            if (value === undefined && takesValue) i++;
        } else if (/^-[^-]/.test(token)) {
            if (token.slice(1).includes("m")) {
                problems.push(`${JSON.stringify(token)} sets -m (--module), which the cluster sets from script / module`);
            } else if (/^-[rt]$/.test(token)) {
                i++;
            }
        } else {
            problems.push(
                `${JSON.stringify(token)} is not a torchrun flag: the script comes from script or module, ` +
                    "its arguments from scriptArgs",
            );
        }
    }
    return problems;
}

/** Tokens of `scriptArgs` that set `flag` (e.g. `--save-dir`) in a spelling argparse reads as it. */
export function scriptArgsSetting(flag: string, args: string[]): string[] {
    const name = canonical(flag.replace(/^--/, ""));
    return args.filter((token) => {
        if (!token.startsWith("--") || token.length <= 2) return false;
        const given = canonical(token.slice(2).split("=", 1)[0]);
        return given.length > 0 && name.startsWith(given);
    });
}
