#!/usr/bin/env bash
# One-shot GPU run of sciddm: training and sampling throughput, guided decoding, a
# 5-minute MOSES training and its MOSES table, in at most 10 minutes of wall time.
# Writes OUT/gpu_run.json and OUT/gpu_run.md (OUT: --out, default gpu_run_out).
#
#   benchmarks/gpu_run.sh                  # on a machine with one GPU
#   benchmarks/gpu_run.sh --smoke          # tiny sizes, any machine (the test suite runs it)
#
# The whole run is bounded: each section has its own time cap inside the script, and
# this wrapper kills it after GPU_RUN_TIMEOUT seconds (default 600; the results of the
# sections already finished are on disk by then).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
py="${PYTHON:-}"
if [ -z "$py" ]; then
    if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python3; fi
fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec timeout --kill-after=20 "${GPU_RUN_TIMEOUT:-600}" "$py" "$here/gpu_run.py" "$@"
