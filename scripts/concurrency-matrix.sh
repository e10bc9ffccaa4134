#!/usr/bin/env bash
# The loop of close-the-loop.sh, as a matrix of runs nobody tuned for: arrivals (poisson, on-off,
# diurnal) x workers (1, 2, 4) x settings (three pairs of A and B settings, one with Ollama keep_alive
# in the workload). Each cell: serve and drive workload A; calibrate on A; predict B (another seed,
# other shares, other settings) with A's profile BEFORE B runs, and save it; serve and drive B; then
#   - validate --timing recorded on A and on B: the exact replay, whose decisions must be the server's;
#   - validate --timing predicted on B with A's profile: the figures a planner is promised
#     (peak RSS 5 %, cold-start p50/p95 10 %, latency p50/p95 10 %).
# Every cell's figures go to OUT/matrix.md (misses included) and OUT/matrix.tsv.
#
# Usage: scripts/concurrency-matrix.sh [OUT_DIR] [CELL...]   (default OUT_DIR: target/concurrency-matrix;
#        all nine cells, about 35 minutes; name cells to run some: poisson-1 onoff-2 ...)
#        MLXCAP_MATRIX_REUSE=1 keeps recordings already made and only calibrates, predicts and validates again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/target/concurrency-matrix}
shift || true
mlxcap="$root/mlxcap"
mkdir -p "$out"
port=${MLXCAP_LOOP_PORT:-18667}
models="$out/models"
[[ -f "$models/models.json" ]] || "$mlxcap" synth-models --out "$models" >/dev/null

# Settings pairs: A's settings; B's settings; keep_alive shares of both workloads (empty: none asked).
common=(MLX_PRELOAD_MODELS=fast MLX_CACHE_CLEANUP_INTERVAL_SEC=5 MLX_MEMORY_PRESSURE_THRESHOLD=off)
settings_a() { case $1 in
  s1) echo "MLX_MAX_CACHED_MODELS=2 MLX_MODEL_IDLE_TTL_SEC=20" ;;
  s2) echo "MLX_MAX_CACHED_MODELS=2" ;;
  s3) echo "MLX_MAX_CACHED_MODELS=3 MLX_MAX_CACHE_BYTES=400MB" ;;
esac; }
settings_b() { case $1 in
  s1) echo "MLX_MAX_CACHED_MODELS=3 MLX_MAX_CACHE_BYTES=500MB MLX_MODEL_IDLE_TTL_SEC=20" ;;
  s2) echo "MLX_MAX_CACHED_MODELS=3 MLX_MODEL_IDLE_TTL_SEC=10" ;;
  s3) echo "MLX_MAX_CACHED_MODELS=2 MLX_MODEL_IDLE_TTL_SEC=15" ;;
esac; }
keep_alive() { [[ $1 == s2 ]] && echo "0=0.2,30s=0.3,none=0.5" || true; }
describe() { case $1 in
  s1) echo "A cap 2, TTL 20 s; B cap 3, 500 MB budget, TTL 20 s" ;;
  s2) echo "A cap 2; B cap 3, TTL 10 s; keep_alive 0 / 30 s / none" ;;
  s3) echo "A cap 3, 400 MB budget; B cap 2, TTL 15 s" ;;
esac; }

# The cells: arrivals-workers and its settings pair; each arrival kind meets each pair and each worker count once.
declare -A cell_settings=(
  [poisson-1]=s1 [poisson-2]=s2 [poisson-4]=s3
  [onoff-1]=s2 [onoff-2]=s3 [onoff-4]=s1
  [diurnal-1]=s3 [diurnal-2]=s1 [diurnal-4]=s2)
cells=("$@")
[[ ${#cells[@]} -gt 0 ]] || cells=(poisson-1 poisson-2 poisson-4 onoff-1 onoff-2 onoff-4 diurnal-1 diurnal-2 diurnal-4)

# workload FILE KIND WORKERS SEED MIX KEEPALIVE: about 90 s of traffic as driven (with SPEEDUP below), load rising with the workers.
workload() {
  local file=$1 kind=$2 workers=$3 seed=$4 mix=$5 keep=$6 rate
  rate=$(awk -v w="$workers" 'BEGIN { printf "%.2f", 0.45 + 0.35 * w }')
  local args=(--models "$models/models.json" --seed "$seed" --mix "$mix" --prompt-tokens 300:0.8 --output-tokens 24:0.5 -o "$file")
  [[ -n $keep ]] && args+=(--keep-alive "$keep")
  case $kind in
    poisson) "$mlxcap" workload synth "${args[@]}" --arrivals poisson --rate "$rate" --duration 90s >/dev/null ;;
    onoff) "$mlxcap" workload synth "${args[@]}" --arrivals on-off --rate "$(awk -v r="$rate" 'BEGIN { printf "%.2f", 2 * r }')" \
      --on 15s --off 15s --duration 90s >/dev/null ;;
    # Four hours around the peak of a day, driven 160 times faster: 90 s in which the rate rises and falls.
    diurnal) "$mlxcap" workload synth "${args[@]}" --arrivals diurnal --rate "$(awk -v r="$rate" 'BEGIN { printf "%.6f", r / 160 }')" \
      --amplitude 0.9 --peak-hour 2 --duration 4h >/dev/null ;;
  esac
}
speedup() { [[ $1 == diurnal ]] && echo 160 || echo 1; }

run() { # NAME WORKLOAD KIND API SETTINGS...: serve, drive, stop; the recording is $out/NAME.jsonl
  local name=$1 file=$2 kind=$3 api=$4; shift 4
  if [[ ${MLXCAP_MATRIX_REUSE:-} == 1 && -s "$out/$name.jsonl" ]]; then return; fi
  rm -f "$out/$name.jsonl"
  env -u MLX_MAX_CACHED_MODELS -u MLX_MAX_CACHE_BYTES -u MLX_MODEL_IDLE_TTL_SEC -u MLX_MAX_CONCURRENT_REQUESTS "$@" \
    "$mlxcap" serve --models-dir "$models" --port "$port" --trace "$out/$name.jsonl" --memory-sample 100ms \
    >"$out/$name.serve.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 300); do grep -q "listening on" "$out/$name.serve.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "listening on" "$out/$name.serve.log" || { cat "$out/$name.serve.log"; exit 1; }
  "$mlxcap" drive --trace "$file" --url "http://127.0.0.1:$port" --api "$api" --speedup "$(speedup "$kind")" \
    -o "$out/$name.client.jsonl" >"$out/$name.drive.txt"
  kill -TERM "$pid"; wait "$pid" || true
}

# figure FILE NAME: the error column (e.g. +3.2) of row NAME in a validate output.
figure() { awk -v n="$2" 'index($0, n) == 1 { for (i = 1; i <= NF; i++) if ($i == "%" && $(i-1) ~ /^[-+]/) { print $(i-1); exit } }' "$1"; }
within() { awk -v e="$1" -v t="$2" 'BEGIN { v = e < 0 ? -e : e; exit !(e != "" && v <= t) }'; }

tsv="$out/matrix.tsv"
printf 'cell\tsettings\texact_A\texact_B\tpeak\tcold_p50\tcold_p95\tlat_p50\tlat_p95\tdecisions\n' >"$tsv"
for cell in "${cells[@]}"; do
  kind=${cell%-*} workers=${cell#*-} pair=${cell_settings[$cell]:?unknown cell $cell}
  keep=$(keep_alive "$pair"); api=openai; [[ -n $keep ]] && api=ollama
  echo "== $cell: $(describe "$pair"), $workers workers"
  workload "$out/$cell-workload-a.jsonl" "$kind" "$workers" 11 phi3.5:3.8b=0.35,qwen2.5-coder:32b=0.3,deepseek-r1-distill-llama:70b=0.2,command-r-plus:104b=0.15 "$keep"
  workload "$out/$cell-workload-b.jsonl" "$kind" "$workers" 29 phi3.5:3.8b=0.2,qwen2.5-coder:32b=0.2,deepseek-r1-distill-llama:70b=0.3,command-r-plus:104b=0.3 "$keep"
  read -r -a sa <<<"$(settings_a "$pair")"; read -r -a sb <<<"$(settings_b "$pair")"
  run "$cell-a" "$out/$cell-workload-a.jsonl" "$kind" "$api" "${common[@]}" "${sa[@]}" MLX_MAX_CONCURRENT_REQUESTS="$workers"
  "$mlxcap" calibrate --trace "$out/$cell-a.jsonl" -o "$out/$cell-profile-a.json" >"$out/$cell-calibrate.txt"
  set_args=(); for s in "${common[@]}" "${sb[@]}" MLX_MAX_CONCURRENT_REQUESTS="$workers"; do set_args+=(--set "$s"); done
  "$mlxcap" simulate --trace "$out/$cell-workload-b.jsonl" --models "$models/models.json" --profile "$out/$cell-profile-a.json" \
    "${set_args[@]}" -o "$out/$cell-prediction-b" >"$out/$cell-prediction-b.txt"
  run "$cell-b" "$out/$cell-workload-b.jsonl" "$kind" "$api" "${common[@]}" "${sb[@]}" MLX_MAX_CONCURRENT_REQUESTS="$workers"
  "$mlxcap" validate --trace "$out/$cell-a.jsonl" --timing recorded >"$out/$cell-exact-a.txt" || true
  "$mlxcap" validate --trace "$out/$cell-b.jsonl" --timing recorded >"$out/$cell-exact-b.txt" || true
  "$mlxcap" validate --trace "$out/$cell-b.jsonl" --profile "$out/$cell-profile-a.json" --timing predicted >"$out/$cell-validate-b.txt" || true
  exact() { grep -q "^decisions     identical" "$1" && echo "identical ($(awk '/^decisions/ { print $3 }' "$1"))" || echo "DIFFER"; }
  decisions=$(grep -q "^decisions     identical" "$out/$cell-validate-b.txt" && echo same \
    || { grep -q "a race:" "$out/$cell-validate-b.txt" && echo "part after a race" || echo "part, not a race"; })
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cell" "$(describe "$pair")" "$(exact "$out/$cell-exact-a.txt")" \
    "$(exact "$out/$cell-exact-b.txt")" "$(figure "$out/$cell-validate-b.txt" "peak RSS")" \
    "$(figure "$out/$cell-validate-b.txt" "cold-start wait p50")" "$(figure "$out/$cell-validate-b.txt" "cold-start wait p95")" \
    "$(figure "$out/$cell-validate-b.txt" "latency p50")" "$(figure "$out/$cell-validate-b.txt" "latency p95")" "$decisions" >>"$tsv"
  tail -1 "$tsv"
done

{
  echo "| cell | settings | exact replay A / B | peak RSS | cold-start p50 | p95 | latency p50 | p95 | predicted decisions |"
  echo "|---|---|---|---|---|---|---|---|---|"
  tail -n +2 "$tsv" | while IFS=$'\t' read -r cell settings ea eb peak c50 c95 l50 l95 dec; do
    mark() { within "$1" "$2" && echo "$1 %" || echo "**$1 %**"; }
    echo "| $cell | $settings | $ea / $eb | $(mark "$peak" 5) | $(mark "$c50" 10) | $(mark "$c95" 10) | $(mark "$l50" 10) | $(mark "$l95" 10) | $dec |"
  done
} >"$out/matrix.md"
cat "$out/matrix.md"
