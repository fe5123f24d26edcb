# ddpsim on Kubernetes: turns a pod of the cluster's Indexed Job into node JOB_COMPLETION_INDEX, then runs the node agent.
"""The command of every pod of a ddpsim Job, before the node agent:

    python3 /opt/ddpsim/indexed_node.py '{"address": "<job>-{index}.<service>", "nodes": N, "dnsWaitSeconds": S}' python3 /opt/ddpsim/node_agent.py ...

1. Sets PET_LOCAL_ADDR, which torchrun reads as its --local-addr: the name this node gives the c10d rendezvous, which
   numbers nodes in the sorted order of those names. A pod's host name is `<job>-<index>`, unpadded, so past ten
   nodes `<job>-10` would sort before `<job>-2`. The names given here are zero-padded (`<job>-02.<service>`), except
   node 0's, `<job>-0.<service>`, which sorts first all the same: it is the one name torchrun resolves, since rank 0
   publishes its own as MASTER_ADDR for the workers' process group. The others are only compared.
2. Waits until this pod's DNS name (`<job>-<index>.<service>`, a record of the headless Service) resolves: node 0's
   torchrun hosts the rendezvous store only if the endpoint's name resolves to its own address, and a lookup made
   before the record exists would leave every node waiting for a store that nobody hosts.
3. Replaces itself with the rest of its arguments (the node agent) in the same process, which stays PID 1.
Standard library only, Python >= 3.8.
"""
import json
import os
import signal
import socket
import sys
import time

EXIT_NO_DNS = 69  # EX_UNAVAILABLE: the pod's name never resolved


def local_address(template, index, nodes):
    """The name node `index` of `nodes` gives the rendezvous: names sort in index order."""
    width = len(str(max(nodes - 1, 0)))
    return template.replace("{index}", str(index) if index == 0 else str(index).zfill(width))


def wait_for_name(name, seconds, say):
    deadline = time.monotonic() + seconds
    announced = False
    while True:
        try:
            socket.getaddrinfo(name, None)
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            if not announced:
                say(f"waiting for {name} to resolve (a record of the headless Service)")
                announced = True
            time.sleep(1.0)


def main():
    signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
    config = json.loads(sys.argv[1])
    index = int(os.environ["JOB_COMPLETION_INDEX"])
    host = socket.gethostname()

    def say(message):
        sys.stdout.write(f"[ddpsim {host}] {message}\n")
        sys.stdout.flush()

    own = config["address"].replace("{index}", str(index))
    os.environ["PET_LOCAL_ADDR"] = local_address(config["address"], index, int(config["nodes"]))
    if not wait_for_name(own, float(config["dnsWaitSeconds"]), say):
        sys.stderr.write(
            f"[ddpsim {host}] {own} did not resolve within {config['dnsWaitSeconds']} s: is the headless Service "
            f"{own.split('.', 1)[-1]} in this pod's namespace, selecting its pods?\n"
        )
        sys.exit(EXIT_NO_DNS)
    sys.stdout.flush()
    os.execvp(sys.argv[2], sys.argv[2:])


if __name__ == "__main__" and len(sys.argv) > 2:
    main()
