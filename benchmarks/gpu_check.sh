#!/usr/bin/env bash
# GPU check (issue 11 part 3), one call on a bare GPU machine:
#
#   bash benchmarks/gpu_check.sh              # on the GPU: tests of the accelerator path, W1/W2
#                                             # at N=1e6 (float32, float64), W3 G=1e5, W4 D=1e5,
#                                             # the cold-process benchmark; under 8 minutes
#   bash benchmarks/gpu_check.sh --cpu-smoke  # the same steps at tiny sizes on the CPU
#
# The machine has JAX with CUDA but no package registry: other dependencies come as wheels
# in .whl/ (see benchmarks/README.md, "GPU check"). Prints one table; with $OUT set, writes
# $OUT/gpu_check.json, the benchmark records and every step's log there. Every step has a
# timeout, and the steps share a total budget (GPU_CHECK_BUDGET seconds, default 460).
# Exit status 0 when every step passed.
set -u
MODE=gpu
[ "${1:-}" = "--cpu-smoke" ] && MODE=cpu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
PY=${PYTHON:-python3}
command -v "$PY" >/dev/null 2>&1 || PY=python
WORK=$(mktemp -d "${TMPDIR:-/tmp}/batchfit-gpu-check.XXXXXX")
BUDGET=${GPU_CHECK_BUDGET:-460}
export PYTHONPATH="$ROOT/src:$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # works even if the install fails
export BATCHFIT_CACHE_DIR=off   # benchmarks' cold = compiling (the cold workload sets its own)
export PYTHONUNBUFFERED=1
: > "$WORK/steps.tsv"

if [ "$MODE" = cpu ]; then
    export JAX_PLATFORMS=cpu
    N=64; G=16; D=16; PEER_CAP=8; W4_CAP=16; REPEATS=1; COLD_REPEATS=1; ROOF_B=64
    TESTS="tests/test_memory.py::test_bytes_per_fit_closed_form tests/test_memory.py::test_auto_chunk_size_only_when_needed"
else
    N=1000000; G=100000; D=100000; PEER_CAP=100; W4_CAP=1000; REPEATS=2; COLD_REPEATS=3; ROOF_B=65536
    # the accelerator path: compacting driver, memory streaming, sharding, float32/float64
    TESTS="tests/test_batch.py tests/test_memory.py tests/test_sharding.py tests/test_chunked.py
           tests/test_groups.py::test_schur_equals_dense
           tests/test_groups.py::test_schur_float32_agrees_with_float64_within_a_fraction_of_stderr
           tests/test_reliability.py::test_poison_in_a_large_batch_with_compaction
           tests/test_reliability.py::test_float32_success_is_never_far_from_the_float64_optimum"
fi

# step NAME TIMEOUT CMD...: run CMD under min(TIMEOUT, what is left of BUDGET), log it
step() {
    local name=$1 limit=$2 left rc t0
    shift 2
    left=$((BUDGET - SECONDS - 5))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -lt 5 ]; then
        printf '%s\t%s\t%s\t%s\n' "$name" skipped 0 "$limit" >> "$WORK/steps.tsv"
        echo "== $name: skipped (budget spent)"
        return
    fi
    echo "== $name (timeout ${limit}s): $*"
    t0=$SECONDS
    timeout -k 5 "$limit" "$@" > "$WORK/$name.log" 2>&1
    rc=$?
    tail -n 4 "$WORK/$name.log"
    printf '%s\t%s\t%s\t%s\n' "$name" "$rc" $((SECONDS - t0)) "$limit" >> "$WORK/steps.tsv"
}

install_deps() {
    if [ "$MODE" = cpu ] && [ -z "${GPU_CHECK_INSTALL:-}" ]; then
        echo "--cpu-smoke: install skipped (set GPU_CHECK_INSTALL=1 to run it)"; return 0
    fi
    if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
        local pkgs="" p
        for p in pytest hypothesis scipy lmfit setuptools; do  # the ones there are wheels of
            ls .whl/"$p"-*.whl >/dev/null 2>&1 && pkgs="$pkgs $p"
        done
        # shellcheck disable=SC2086
        "$PY" -m pip install -q --no-index --find-links .whl $pkgs || return 1
    else
        echo "no .whl/ folder: using the packages already installed"
    fi
    "$PY" -m pip install -q --no-deps --no-build-isolation -e . \
        || echo "editable install failed: running from src/ through PYTHONPATH"
}

export MODE PY
export -f install_deps
step install 90 bash -c install_deps
step devices 60 "$PY" -c "
import sys, jax
import batchfit
d = jax.devices()
print('jax', jax.__version__, 'batchfit', batchfit.__version__, 'devices', d)
sys.exit(0 if '$MODE' == 'cpu' or d[0].platform == 'gpu' else 'no GPU: ' + str(d))"
# shellcheck disable=SC2086
# -v: a test per line, so that the log of a step cut by its timeout shows how far it got
step tests 150 "$PY" -m pytest -v -p no:cacheprovider $TESTS
step bench_float64 130 "$PY" -m benchmarks --workload W1,W2,W3,W4 --sizes "W1=$N,W2=$N,W3=$G" \
    --global-sizes "$D" --dtype float64 --peers scipy --peer-cap "$PEER_CAP" --w4-peer-cap "$W4_CAP" \
    --repeats "$REPEATS" --out "$WORK/bench_float64"
step bench_float32 70 "$PY" -m benchmarks --workload W1,W2 --sizes "W1=$N,W2=$N" --dtype float32 \
    --peers '' --repeats "$REPEATS" --out "$WORK/bench_float32"
step cold_process 60 "$PY" -m benchmarks --workload cold --repeats "$COLD_REPEATS" \
    --out "$WORK/bench_cold"
step roofline 30 "$PY" -m benchmarks --roofline --dtype float32 --roofline-batch "$ROOF_B" \
    --out "$WORK/roofline"

"$PY" "$ROOT/benchmarks/gpu_check_report.py" "$WORK" "$MODE" "${OUT:-}"
rc=$?
rm -rf "$WORK"
exit $rc
