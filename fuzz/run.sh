#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each for RUNS
# executions (default 1,000,000) or SECONDS of wall time, whichever ends first, starting from the
# seeds of fuzz/seeds.py plus the checked-in corpus. Prints per target: executions, crashes, corpus
# size. With --merge the checked-in corpus fuzz/corpus/<target>/ is replaced by the minimized union
# (libFuzzer -merge=1 -use_counters=0: one input per covered edge). Targets run one after another, or --jobs N at a time.
#
#   fuzz/run.sh [--merge] [--runs N] [--max-time SECONDS] [--jobs N] [target...]
#   targets: config npy thresholds nm_compress liberty (default: all)
#
# Not part of CTest (minutes to hours); CTest replays the checked-in corpus (Fuzz.Replay.*). A crash
# leaves build-fuzz/crashes/<target>/crash-*; replay it with build/fuzz/fuzz_replay_<target> FILE.
# Needs build/accelgen (for the thresholds seeds' config hashes) and python3-numpy (seeds.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
bdir=$root/build-fuzz
runs=1000000
max_time=0
jobs=1
merge=0
targets=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --merge) merge=1 ;;
    --runs) runs=$2; shift ;;
    --max-time) max_time=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[[ ${#targets[@]} -gt 0 ]] || targets=(config npy thresholds nm_compress liberty)

cmake -S "$root" -B "$bdir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DACCELGEN_FUZZ=ON >/dev/null
cmake --build "$bdir" --target "${targets[@]/#/fuzz_}" -j 2 >/dev/null

# The thresholds seeds must carry the fuzz target's config hashes (the defaults, absolute and relative).
hash_of() {
  local cfg=$bdir/seed-$1.json out=$bdir/seed-$1-rtl
  printf '%s' "$2" >"$cfg"
  rm -rf "$out"
  "$root/build/accelgen" generate --config "$cfg" --out "$out" >/dev/null
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["config_hash"])' "$out/manifest.json"
}
abs_hash=$(hash_of absolute '{}')
rel_hash=$(hash_of relative '{"threshold_modes": ["absolute", "relative"]}')
rm -rf "$bdir/seeds"
/usr/bin/python3 "$here/seeds.py" "$bdir/seeds" "{\"absolute\": \"$abs_hash\", \"relative\": \"$rel_hash\"}"

# One target: fuzz, then (--merge) minimize into the checked-in corpus; the figures go to
# build-fuzz/result-<target>.txt.
fuzz_one() {
  local t=$1 work=$bdir/corpus/$1 crashes=$bdir/crashes/$1 log=$bdir/fuzz-$1.log
  mkdir -p "$work" "$crashes" "$here/corpus/$t"
  local start=$SECONDS status=0 maxlen=4096
  [[ $t == liberty ]] && maxlen=8192  # covers constraints/ge_area.lib
  "$bdir/fuzz/fuzz_$t" -runs="$runs" -max_total_time="$max_time" -max_len=$maxlen -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$work" "$bdir/seeds/$t" "$here/corpus/$t" >"$log" 2>&1 || status=$?
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [[ $merge -eq 1 && $status -eq 0 ]]; then
    rm -rf "$bdir/merged/$t"
    mkdir -p "$bdir/merged/$t"
    # -use_counters=0: keep one input per covered edge (not per hit count), a few hundred files.
    "$bdir/fuzz/fuzz_$t" -merge=1 -use_counters=0 -max_len=$maxlen "$bdir/merged/$t" "$here/corpus/$t" "$bdir/seeds/$t" \
      "$work" >>"$log" 2>&1
    rm -rf "${here:?}/corpus/$t"
    mv "$bdir/merged/$t" "$here/corpus/$t"
  fi
  printf '%-12s %12s %8s %8s %8s %s\n' "$t" "${execs:-?}" "$(find "$crashes" -type f | wc -l)" \
    "$(find "$here/corpus/$t" -type f | wc -l)" "$((SECONDS - start))" \
    "$([[ $status -eq 0 ]] || echo "fuzzer exit $status, see $log")" >"$bdir/result-$t.txt"
}

running=0
for t in "${targets[@]}"; do
  rm -f "$bdir/result-$t.txt"
  fuzz_one "$t" &
  running=$((running + 1))
  if [[ $running -ge $jobs ]]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
printf '%-12s %12s %8s %8s %8s\n' target executions crashes corpus seconds
for t in "${targets[@]}"; do cat "$bdir/result-$t.txt"; done
