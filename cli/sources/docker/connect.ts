import Docker from "dockerode";
import { CliError } from "../../errors";

/** Where dockerode will connect: DOCKER_HOST when set, else the local socket. */
export function dockerEndpoint(docker?: Docker): string {
    const host = process.env.DOCKER_HOST;
    if (host !== undefined && host !== "") return `DOCKER_HOST=${host}`;
    const socket = (docker?.modem as { socketPath?: unknown } | undefined)?.socketPath;
    return `the socket ${typeof socket === "string" ? socket : "/var/run/docker.sock"} (DOCKER_HOST is not set)`;
}

const PING_TIMEOUT_MS = 10_000;

/**
 * A dockerode client that answered a ping, honouring DOCKER_HOST (and DOCKER_TLS_VERIFY, DOCKER_CERT_PATH);
 * a CliError naming the endpoint when Docker cannot be reached.
 */
export async function connectDocker(): Promise<Docker> {
    let docker: Docker;
    try {
        docker = new Docker();
    } catch (err) {
        throw new CliError(`cannot use ${dockerEndpoint()}: ${(err as Error).message}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${PING_TIMEOUT_MS / 1000}s`)), PING_TIMEOUT_MS);
    });
    try {
        await Promise.race([docker.ping(), timeout]);
    } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const why = e.code !== undefined ? `${e.code}${e.message.includes(e.code) ? "" : `: ${e.message}`}` : e.message;
        throw new CliError(
            `Docker is not reachable at ${dockerEndpoint(docker)} (${why.trim()}); start the Docker engine or set DOCKER_HOST`,
        );
    } finally {
        clearTimeout(timer);
    }
    return docker;
}
