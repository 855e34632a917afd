#!/usr/bin/env bash
# Proves the CuPy backend on a machine with an NVIDIA GPU, in one run of a few minutes:
#   1. the GPU, driver/CUDA, CuPy and NumPy versions            -> $OUT/versions.txt
#   2. the whole test suite with the real "cuda" device enabled  -> $OUT/junit.xml, $OUT/pytest.log
#      (tests/conftest.py adds "cuda" to the `device` fixture whenever CuPy sees a GPU)
#   3. tools/gpu_bench.py: training step at batch 128 and 512 and the conv shapes, against
#      PyTorch CUDA when it is importable, synchronised timings -> $OUT/gpu_bench.json, $OUT/gpu_bench.txt
#   4. the unit's CNN trained on Fashion-MNIST for 3 epochs on the GPU -> $OUT/train.log, $OUT/metrics.json
#   5. one summary                                               -> $OUT/summary.md
#
# Usage (repository root):  OUT=gpu-out DATA=data/fashion-mnist bash tools/gpu_check.sh
# Dry run on the CPU (tests this script with the "strict" CuPy stand-in, tiny sizes):
#   GPU_CHECK_DEVICE=strict OUT=/tmp/gpu-dry bash tools/gpu_check.sh
# Each step runs even if an earlier one failed; the exit code is the number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check-out}
DEVICE=${GPU_CHECK_DEVICE:-cuda}
DATA=${DATA:-data/fashion-mnist}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
failed=0
step() { echo "=== $1"; }

if [ "$DEVICE" = strict ]; then  # dry run: tiny sizes, a few tests, built-in data
  BENCH_ARGS=(--batch 4 --rounds 1 --steps 1 --conv small); TESTS=(tests/test_backend.py)
  TRAIN_DEVICE=cpu  # the train CLI offers cpu and cuda only; the dry run checks this script's plumbing
  TRAIN_ARGS=(--dataset builtin --epochs 1 --limit 256 --batch-size 64)
else
  TRAIN_DEVICE=$DEVICE
  BENCH_ARGS=(--batch 128 512 --rounds 5 --steps 10 --conv unit); TESTS=()
  TRAIN_ARGS=(--dataset fashion-mnist --data-dir "$DATA" --epochs 3 --batch-size 128)
fi

step "versions"
{
  if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; else echo "nvidia-smi: not found"; fi
  "$PY" - "$DEVICE" <<'PY'
import platform, sys
import numpy
print("python", platform.python_version(), "numpy", numpy.__version__)
try:
    import cupy
    rt = cupy.cuda.runtime
    print("cupy", cupy.__version__, "CUDA runtime", rt.runtimeGetVersion(), "driver", rt.driverGetVersion(),
          "GPU", rt.getDeviceProperties(0)["name"].decode())
except Exception as exc:  # no CuPy or no GPU: said, not fatal here
    print("cupy: unavailable:", exc)
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
except ImportError:
    print("torch: not installed")
import minitorch_cnn.backend as b
print("minitorch_cnn cuda_is_available:", b.cuda_is_available(), "| device under test:", sys.argv[1])
PY
} 2>&1 | tee "$OUT/versions.txt" || failed=$((failed + 1))

step "test suite (junit: $OUT/junit.xml)"
"$PY" -m pytest -q -p no:cacheprovider --junitxml="$OUT/junit.xml" "${TESTS[@]}" >"$OUT/pytest.log" 2>&1 \
  || failed=$((failed + 1))
tail -n 25 "$OUT/pytest.log"

step "benchmarks"
"$PY" tools/gpu_bench.py --device "$DEVICE" "${BENCH_ARGS[@]}" --json "$OUT/gpu_bench.json" 2>&1 \
  | tee "$OUT/gpu_bench.txt" || failed=$((failed + 1))

step "training ($TRAIN_DEVICE)"
RUN_DIR=$(mktemp -d)  # checkpoints stay out of $OUT (only a few small files come back from a device run)
"$PY" -m minitorch_cnn.train --device "$TRAIN_DEVICE" "${TRAIN_ARGS[@]}" --out "$RUN_DIR" >"$OUT/train.log" 2>&1 \
  || failed=$((failed + 1))
tail -n 15 "$OUT/train.log"
cp "$RUN_DIR/metrics.json" "$OUT/metrics.json" 2>/dev/null || echo "no metrics.json written" >&2
rm -rf "$RUN_DIR"

{
  echo "# GPU check ($DEVICE), $(date -u +%FT%TZ)"
  echo; echo '```'; cat "$OUT/versions.txt"; echo '```'
  echo; echo "Tests: $(tail -n 1 "$OUT/pytest.log")"
  echo; echo '```'; cat "$OUT/gpu_bench.txt" 2>/dev/null; echo '```'
  echo; echo "Training: $(grep -iE 'best|accuracy' "$OUT/train.log" | tail -n 2 | tr '\n' ' ')"
  echo; echo "Failed steps: $failed"
} >"$OUT/summary.md"
cat "$OUT/summary.md"
exit "$failed"
