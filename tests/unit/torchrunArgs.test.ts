import * as assert from "assert";
import { resolveClusterSpec, scriptArgsSetting, torchrunArgsProblems } from "../../components/plan";

describe("torchrunArgs: flags the cluster owns are refused in every spelling argparse accepts", () => {
    const refused: [string[], string][] = [
        [["--nnodes", "3"], '"--nnodes" sets --nnodes, which the cluster sets from nodes'],
        [["--nnodes=3"], '"--nnodes=3" sets --nnodes, which the cluster sets from nodes'],
        [["--nnodes=1:3"], '"--nnodes=1:3" sets --nnodes, which the cluster sets from nodes'],
        [["--nn", "3"], '"--nn" abbreviates --nnodes, which the cluster sets from nodes'],
        [["--nproc_per_node", "2"], '"--nproc_per_node" sets --nproc-per-node, which the cluster sets from procsPerNode'],
        [["--nproc=2"], '"--nproc=2" abbreviates --nproc-per-node, which the cluster sets from procsPerNode'],
        [["--max-restarts", "9"], '"--max-restarts" sets --max-restarts, which the cluster sets from maxRestarts'],
        [["--max_restarts=9"], '"--max_restarts=9" sets --max-restarts, which the cluster sets from maxRestarts'],
        [["--max-re", "9"], '"--max-re" abbreviates --max-restarts, which the cluster sets from maxRestarts'],
        [["--rdzv-endpoint", "x:1"], '"--rdzv-endpoint" sets --rdzv-endpoint, which the cluster sets from the cluster\'s c10d rendezvous (masterPort)'],
        [["--rdzv_backend=static"], '"--rdzv_backend=static" sets --rdzv-backend, which the cluster sets from the cluster\'s c10d rendezvous'],
        [["--rdzv-id=x"], '"--rdzv-id=x" sets --rdzv-id, which the cluster sets from the cluster\'s c10d rendezvous'],
        [["--rdzv", "x"], '"--rdzv" abbreviates --rdzv-backend, --rdzv-endpoint, --rdzv-id, which the cluster sets from the cluster\'s c10d rendezvous'],
        [["--node-rank", "1"], '"--node-rank" sets --node-rank, which the cluster sets from the node\'s place in the cluster'],
        [["--node_rank=1"], '"--node_rank=1" sets --node-rank, which the cluster sets from the node\'s place in the cluster'],
        [["--master-addr", "a"], '"--master-addr" sets --master-addr, which the cluster sets from the cluster\'s c10d rendezvous'],
        [["--master_port=1"], '"--master_port=1" sets --master-port, which the cluster sets from the cluster\'s c10d rendezvous (masterPort)'],
        [["--mast", "a"], '"--mast" abbreviates --master-addr, --master-port, which the cluster sets from the cluster\'s c10d rendezvous'],
        [["--standalone"], '"--standalone" sets --standalone, which the cluster sets from the cluster\'s c10d rendezvous'],
        [["--local-addr", "h"], '"--local-addr" sets --local-addr, which the cluster sets from the node\'s host name, which orders the ranks'],
        [["--local_a=h"], '"--local_a=h" abbreviates --local-addr, which the cluster sets from the node\'s host name, which orders the ranks'],
        [["-m"], '"-m" sets -m (--module), which the cluster sets from script / module'],
        [["--module"], '"--module" sets --module, which the cluster sets from script / module'],
        [["--no-python"], '"--no-python" sets --no-python, which the cluster sets from script / module'],
        [["--run_path"], '"--run_path" sets --run-path, which the cluster sets from script / module'],
        [["train.py"], '"train.py" is not a torchrun flag: the script comes from script or module, its arguments from scriptArgs'],
    ];
    for (const [args, problem] of refused) {
        it(`refuses ${JSON.stringify(args)}`, () => {
            assert.deepStrictEqual(torchrunArgsProblems(args), [problem]);
        });
    }

    const allowed: string[][] = [
        ["--rdzv-conf", "join_timeout=900"],
        ["--rdzv_conf=join_timeout=900,last_call_timeout=5"],
        ["--tee", "3"],
        ["-t", "3"],
        ["--redirects=3", "--log-dir", "/workspace/logs"],
        ["--monitor-interval", "1", "--start-method", "spawn", "--role", "trainer"],
        ["--local-ranks-filter", "0"],
        ["--some-future-flag", "value"],
    ];
    for (const args of allowed) {
        it(`passes ${JSON.stringify(args)}`, () => {
            assert.deepStrictEqual(torchrunArgsProblems(args), []);
        });
    }

    it("names the key, the value and the reason in the config error", () => {
        const result = resolveClusterSpec({ torchrunArgs: ["--tee", "3", "--nnodes=4"] });
        assert.deepStrictEqual(result.ok ? [] : result.errors, [
            {
                propertyPath: "torchrunArgs",
                reason:
                    'torchrunArgs must not hold "--nnodes=4" sets --nnodes, which the cluster sets from nodes, ' +
                    'got ["--tee","3","--nnodes=4"]',
            },
        ]);
    });
});

describe("scriptArgs against a flag the cluster passes (checkpointDirArg)", () => {
    const table: [string[], string[]][] = [
        [["--save-dir", "/x"], ["--save-dir"]],
        [["--save-dir=/x"], ["--save-dir=/x"]],
        [["--save_dir", "/x"], ["--save_dir"]],
        [["--save-d", "/x"], ["--save-d"]],
        [["--sa=/x"], ["--sa=/x"]],
        [["10", "5", "--batch_size", "32"], []],
        [["--save-dirs", "/x"], []],
        [["-s", "/x"], []],
    ];
    for (const [args, found] of table) {
        it(`${JSON.stringify(args)} -> ${JSON.stringify(found)}`, () => {
            assert.deepStrictEqual(scriptArgsSetting("--save-dir", args), found);
        });
    }
});
