#!/usr/bin/env bash
# Closing the loop: predict a run of the live server before it happens, from a calibration on another.
#
#   1. synthetic models; serve with cap 2, a short cleanup interval and an idle TTL (run A);
#   2. drive workload A against it; stop it (SIGTERM: it drains); calibrate on A's recording;
#   3. BEFORE run B: simulate a different workload (another seed, other shares) under different
#      settings (cap 3 and a byte budget) with A's profile, and save the prediction;
#   4. run B live with those settings; validate B's recording with A's profile (decisions, peak RSS
#      within 5 %, cold-start p50 and p95 within 10 %), and print the saved prediction beside it.
#
# Usage: scripts/close-the-loop.sh [OUT_DIR]   (default: target/close-the-loop; about 8 minutes)
# The recordings it makes are what traces/samples/loop-a.jsonl and loop-b.jsonl were made from.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/target/close-the-loop}
mlxcap="$root/mlxcap"
mkdir -p "$out"
port=${MLXCAP_LOOP_PORT:-18647}

models="$out/models"
[[ -f "$models/models.json" ]] || "$mlxcap" synth-models --out "$models"

# Workloads: A is fast/default-heavy; B has another seed and leans on the two large models.
"$mlxcap" workload synth --models "$models/models.json" --seed 11 --rate 0.8 --duration 180s \
  --mix fast=0.35,default=0.3,reasoning=0.2,command-r-plus:104b=0.15 --prompt-tokens 300:0.8 --output-tokens 24:0.5 \
  -o "$out/workload-a.jsonl" >/dev/null
"$mlxcap" workload synth --models "$models/models.json" --seed 29 --rate 0.8 --duration 180s \
  --mix fast=0.2,default=0.2,reasoning=0.3,command-r-plus:104b=0.3 --prompt-tokens 300:0.8 --output-tokens 24:0.5 \
  -o "$out/workload-b.jsonl" >/dev/null

run() { # NAME WORKLOAD ENV...: serve with ENV, drive WORKLOAD, stop; the recording is $out/NAME.jsonl
  local name=$1 workload=$2; shift 2
  rm -f "$out/$name.jsonl"
  env -u MLX_MAX_CACHED_MODELS -u MLX_MAX_CACHE_BYTES -u MLX_MODEL_IDLE_TTL_SEC "$@" \
    "$mlxcap" serve --models-dir "$models" --port "$port" --trace "$out/$name.jsonl" --memory-sample 100ms \
    >"$out/$name.serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do grep -q "listening on" "$out/$name.serve.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "listening on" "$out/$name.serve.log" || { cat "$out/$name.serve.log"; exit 1; }
  "$mlxcap" drive --trace "$workload" --url "http://127.0.0.1:$port" -o "$out/$name.client.jsonl"
  kill -TERM "$pid"; wait "$pid" || true
}

common=(MLX_PRELOAD_MODELS=fast MLX_CACHE_CLEANUP_INTERVAL_SEC=5 MLX_MODEL_IDLE_TTL_SEC=20 MLX_MEMORY_PRESSURE_THRESHOLD=off)
echo "== run A: cap 2"
run run-a "$out/workload-a.jsonl" "${common[@]}" MLX_MAX_CACHED_MODELS=2
echo "== calibrate on run A"
"$mlxcap" calibrate --trace "$out/run-a.jsonl" -o "$out/profile-a.json"

echo "== predict run B before it happens: workload B, cap 3 and a 500 MB budget, A's profile"
settings_b=(MLX_MAX_CACHED_MODELS=3 MLX_MAX_CACHE_BYTES=500MB)
set_args=(); for s in "${common[@]}" "${settings_b[@]}"; do set_args+=(--set "$s"); done
"$mlxcap" simulate --trace "$out/workload-b.jsonl" --models "$models/models.json" --profile "$out/profile-a.json" \
  "${set_args[@]}" -o "$out/prediction-b" | tee "$out/prediction-b.txt"

echo "== run B, live"
run run-b "$out/workload-b.jsonl" "${common[@]}" "${settings_b[@]}"

echo "== validate A against itself, and B against A's profile"
"$mlxcap" validate --trace "$out/run-a.jsonl" --profile "$out/profile-a.json" || true
"$mlxcap" validate --trace "$out/run-b.jsonl" --profile "$out/profile-a.json"
