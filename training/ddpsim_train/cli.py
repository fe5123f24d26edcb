"""Command-line flags of train_ddp.py."""
import argparse
import os

DEFAULT_BENCH_SIZES = "1K,4K,16K,64K,256K,1M,4M,16M,64M"


def parse_size(text):
    """'64K' -> 65536, '1M' -> 1048576, '123' -> 123 (bytes, powers of 1024)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    factor = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    value = int(float(number) * factor)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def parse_sizes(text):
    try:
        return [parse_size(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"bad size list {text!r}: {error}") from None


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_float(text):
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _env_int(name, fallback):
    """A positive whole number from the environment, else fallback (an unusable value is ignored)."""
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return fallback
    return value if value >= 1 else fallback


def build_parser():
    p = argparse.ArgumentParser(
        prog="train_ddp.py",
        description="A DDP trainer that survives restarts. Start it with torchrun, e.g. "
        "torchrun --nproc-per-node 2 train_ddp.py --steps 100",
    )
    io = p.add_argument_group("files")
    io.add_argument("--checkpoint-dir", default=os.environ.get("DDPSIM_CHECKPOINT_DIR", "/checkpoints"),
                    help="shared directory for checkpoints, metrics.jsonl, result.json "
                         "(default $DDPSIM_CHECKPOINT_DIR, else /checkpoints)")
    io.add_argument("--data-dir", default=os.environ.get("DDPSIM_DATA_DIR") or None,
                    help="optional dataset directory (see make_dataset.py); default $DDPSIM_DATA_DIR, else a "
                         "synthetic dataset")
    io.add_argument("--checkpoint-every", type=positive_int, default=10, help="steps between checkpoints (default 10)")
    io.add_argument("--keep-checkpoints", type=positive_int, default=3, help="how many checkpoints to keep (default 3)")

    train = p.add_argument_group("training")
    train.add_argument("--model", choices=["mlp", "transformer"], default="mlp", help="model (default mlp)")
    train.add_argument("--steps", type=positive_int, default=100, help="total optimizer steps (default 100)")
    train.add_argument("--batch-size", type=positive_int, default=32,
                       help="samples per rank per micro-batch at the run's start (default 32); the global batch, this "
                            "times the world size, stays the same when a resumed run has another world size")
    train.add_argument("--grad-accum", type=positive_int, default=1, help="micro-batches per optimizer step (default 1)")
    train.add_argument("--lr", type=float, default=3e-3, help="peak learning rate of AdamW (default 3e-3)")
    train.add_argument("--warmup-steps", type=int, default=5, help="linear warm-up, then constant (default 5)")
    train.add_argument("--seed", type=int, default=1234, help="seed of the model, the data order and dropout (default 1234)")
    train.add_argument("--bf16", action="store_true", help="bf16 autocast for forward and loss")
    train.add_argument("--log-every", type=positive_int, default=10, help="progress line every N steps (default 10)")
    train.add_argument("--step-sleep", type=non_negative_float, default=0.0,
                       help="artificial delay per step in seconds, so tests can stop a run mid-way (default 0)")

    model = p.add_argument_group("model size")
    model.add_argument("--input-dim", type=positive_int, default=32, help="MLP input features (synthetic data)")
    model.add_argument("--hidden", type=positive_int, default=128, help="MLP hidden width")
    model.add_argument("--depth", type=positive_int, default=3, help="MLP hidden layers")
    model.add_argument("--classes", type=positive_int, default=10, help="MLP classes (synthetic data)")
    model.add_argument("--vocab", type=positive_int, default=64, help="transformer vocabulary (synthetic data)")
    model.add_argument("--seq-len", type=positive_int, default=32, help="transformer sequence length")
    model.add_argument("--d-model", type=positive_int, default=64, help="transformer width")
    model.add_argument("--n-layers", type=positive_int, default=2, help="transformer layers")
    model.add_argument("--n-heads", type=positive_int, default=4, help="transformer attention heads")
    model.add_argument("--dropout", type=float, default=0.1, help="transformer dropout")

    dist = p.add_argument_group("distributed")
    dist.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                      help="auto: CUDA when a GPU is visible, else CPU")
    dist.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto",
                      help="auto: nccl on CUDA, gloo on CPU")
    dist.add_argument("--peer-stop-wait", type=non_negative_float, default=10.0, metavar="SECONDS",
                      help="when another rank was stopped by a signal and this one was not, how long it waits for its "
                           "own signal before leaving with an error, so that torchrun restarts it into the next "
                           "rendezvous instead of counting the node as finished (default 10)")
    dist.add_argument("--timeout-seconds", type=positive_int, default=_env_int("DDPSIM_COLLECTIVE_TIMEOUT_SECONDS", 300),
                      help="process group timeout for collectives: how long a rank waits for a hung or cut-off peer "
                           "(default $DDPSIM_COLLECTIVE_TIMEOUT_SECONDS, which ddpsim sets from collectiveTimeoutSeconds, "
                           "else 300)")

    debug = p.add_argument_group("testing the cluster")
    debug.add_argument("--debug-perturb-rank", type=int, default=None, metavar="RANK",
                       help="after the last step, change one parameter on this rank, so that the ranks disagree "
                            "(tests the failure path)")
    debug.add_argument("--debug-slow-checkpoint", type=non_negative_float, default=0.0, metavar="SECONDS",
                       help="when stopped by a signal, take this long to write the checkpoint (tests the stop grace "
                            "period)")

    bench = p.add_argument_group("all-reduce benchmark")
    bench.add_argument("--bench", action="store_true", help="measure all-reduce bandwidth and latency instead of training")
    bench.add_argument("--bench-sizes", type=parse_sizes, default=parse_sizes(DEFAULT_BENCH_SIZES),
                       help=f"message sizes in bytes, K/M/G suffixes (default {DEFAULT_BENCH_SIZES})")
    bench.add_argument("--bench-iters", type=positive_int, default=20, help="timed all-reduces per size (default 20)")
    bench.add_argument("--bench-warmup", type=int, default=5, help="untimed all-reduces per size (default 5)")
    return p


def parse_args(argv=None):
    args = build_parser().parse_args(argv)
    if args.model == "transformer" and args.d_model % args.n_heads:
        build_parser().error(f"--d-model {args.d_model} is not a multiple of --n-heads {args.n_heads}")
    return args
