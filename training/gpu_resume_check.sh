#!/usr/bin/env bash
# Resume on GPUs, without Docker: train_ddp.py on NCCL with 2 processes, undisturbed, then twice interrupted and
# resumed by torchrun's worker restart: a worker killed (SIGKILL), and one rank alone stopped by SIGTERM (the other
# stops at the same step through the per-step all-reduce, waits --peer-stop-wait for a signal of its own, fails, and
# torchrun restarts both). Each interrupted run must resume from its checkpoint, finish, and end with the undisturbed
# run's parameters (the checksum, bit for bit). Then a world-size change, as elastic training makes one: 30 steps on
# 2 processes, the rest on 1 from that checkpoint, which must end within 1e-4 of the undisturbed parameter norm (the
# same samples and steps, summed in another order). With fewer than 2 GPUs both processes share GPU 0, each under its
# own NCCL_HOSTID (nccl_host_id.py): NCCL refuses one GPU used twice within a host.
#   training/gpu_resume_check.sh OUT_DIR     (exit 0 when the interrupted and the resized runs all end as required)
case "${1:-}" in -h|--help|"") sed -n '2,/^case /{/^case /!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -uo pipefail
out="$(mkdir -p "$1" && cd "$1" && pwd)"
cd "$(dirname "${BASH_SOURCE[0]}")"
# NVLink multicast stays off (it can take a host's shared GPUs out of service).
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 PYTHONUNBUFFERED=1
gpus="$(python3 -c 'import torch; print(torch.cuda.device_count())')"
launch=(train_ddp.py)
if [ "$gpus" -lt 2 ]; then launch=(nccl_host_id.py train_ddp.py); export NCCL_SOCKET_IFNAME=lo; fi
args=(--device cuda --steps 60 --checkpoint-every 5 --log-every 20 --seed 7 --batch-size 16 --peer-stop-wait 2)

# run NAME [extra args]: torchrun with one restart allowed; its log in OUT_DIR/NAME.log, checkpoints in a temp folder
# (kept when NPROC or FOLDER says so: NPROC=1 FOLDER=other run NAME ...).
run() {
  local name="$1" folder="/tmp/ddpsim-resume-${FOLDER:-$1}"; shift
  [ -n "${FOLDER:-}" ] || rm -rf "$folder"
  python3 -m torch.distributed.run --standalone --nproc-per-node "${NPROC:-2}" --max-restarts 1 "${launch[@]}" \
    --checkpoint-dir "$folder" "${args[@]}" "$@" >"$out/$name.log" 2>&1
}
# interrupt NAME SIGNAL: once NAME has logged 10 steps, SIGNAL to the worker of local rank 0 (of the first attempt).
interrupt() {
  local metrics="/tmp/ddpsim-resume-$1/metrics.jsonl"
  for _ in $(seq 600); do [ -f "$metrics" ] && [ "$(wc -l <"$metrics")" -ge 10 ] && break; sleep 0.2; done
  for p in $(pgrep -f -- 'train_ddp.py --checkpoint-dir /tmp/ddpsim-resume-'"$1"); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx LOCAL_RANK=0 && kill "-$2" "$p" && echo "$1: SIG$2 to pid $p (local rank 0)"
  done
}
result() { python3 -c 'import json,sys; r=[json.loads(l.split(" ",1)[1]) for l in open(sys.argv[1]) if l.startswith("DDPSIM_RESULT ")]; print(json.dumps(r[-1]) if r else "{}")' "$out/$1.log"; }

{
  nvidia-smi -L
  python3 -c "import torch; print('torch', torch.__version__, 'nccl', torch.cuda.nccl.version(), 'gpus', torch.cuda.device_count())"
  run reference; echo "reference: exit $?"
  run killed --step-sleep 0.2 & interrupt killed KILL; wait $!; echo "killed: exit $?"
  run peerstop --step-sleep 0.2 & interrupt peerstop TERM; wait $!; echo "peerstop: exit $?"
  run resized-2 --steps 30; echo "resized, 2 processes to step 30: exit $?"
  NPROC=1 FOLDER=resized-2 run resized-1; echo "resized, 1 process from there: exit $?"
  grep -h "PeerStopped\|stopped by\|resuming from\|world size .* since" "$out/peerstop.log" "$out/killed.log" "$out/resized-1.log" | cut -c1-240
  python3 - "$(result reference)" "$(result killed)" "$(result peerstop)" "$(result resized-1)" <<'PY'
import json, sys
ref, runs = json.loads(sys.argv[1]), {"killed": json.loads(sys.argv[2]), "peerstop": json.loads(sys.argv[3])}
resized = json.loads(sys.argv[4])
print(f"reference: step {ref.get('final_step')}, checksum {ref.get('checksum')}, param_norm {ref.get('param_norm')}")
ok = bool(ref.get("checksum"))
for name, r in runs.items():
    good = r.get("final_step") == ref.get("final_step") and r.get("restarts") == 1 and r.get("resumed_from_step") \
        and r.get("agree") and r.get("checksum") == ref.get("checksum")
    ok = ok and bool(good)
    print(f"{name}: {'ok' if good else 'FAILED'}: step {r.get('final_step')}, restarts {r.get('restarts')}, resumed from "
          f"step {r.get('resumed_from_step')}, checksum {r.get('checksum')} ({'equal' if r.get('checksum') == ref.get('checksum') else 'different'})")
gap = abs(resized.get("param_norm", 0) - ref.get("param_norm", 0)) / max(ref.get("param_norm", 1), 1e-12)
good = resized.get("final_step") == ref.get("final_step") and resized.get("resumed_from_step") == 30 and gap < 1e-4
ok = ok and good
print(f"resized: {'ok' if good else 'FAILED'}: world sizes {resized.get('world_sizes')}, resumed from step "
      f"{resized.get('resumed_from_step')}, step {resized.get('final_step')}, param_norm {resized.get('param_norm')} "
      f"({gap:.1e} from the undisturbed run's)")
sys.exit(0 if ok else 1)
PY
} 2>&1 | tee "$out/summary.txt"
