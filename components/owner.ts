import * as os from "os";

/**
 * Who deploys a cluster when `owner` is not set: the OS user. Two people on one host get different names for
 * everything (volumes, networks, containers); people sharing one account set `owner` (e.g. `ddpsim:owner`).
 */
export function defaultOwner(): string {
    try {
        return os.userInfo().username;
    } catch {
        return process.env.USER ?? process.env.USERNAME ?? "unknown";
    }
}
