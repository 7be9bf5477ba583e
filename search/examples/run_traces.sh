#!/usr/bin/env bash
# The README's real-trace search: an 8-bit decoder attention unit (d = dv = 32, SRAM-macro memories)
# on two heads of the shared real traces (layer 0 head 0, layer 3 head 0), 100 NSGA-II trials with
# seed 1 over lanes x threshold modes. Each trial learns its thresholds with `accelgen calibrate`
# (E = 0.02, --mode auto) on windows 1-3, checks them on window 4 (held out), and evaluates area and
# latency per query on window 4 with them; feasible when the held-out error is <= 0.02.
# usage: search/examples/run_traces.sh [TRACES_DIR]   (default: ../shared/traces next to the repo)
# Run ./setup.sh once first. Outputs: out/search-traces/ (wl/, study.db, report/pareto.svg, ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
traces="${1:-../shared/traces}"
heads=(L0H0 L3H0)
names=()
for h in "${heads[@]}"; do
  for w in 1 2 3 4; do names+=("${h}_b8_w${w}"); done
done
for n in "${names[@]}"; do
  if [[ ! -f "$traces/$n/q.npy" || ! -f "$traces/$n/params.json" ]]; then
    echo "error: $traces/$n: trace directory missing (give the shared traces directory as the first argument)" >&2
    exit 2
  fi
done
mkdir -p out/search-traces
# The first 64 positions of every window, marked causal (see prepare_traces.py for why).
/usr/bin/python3 search/examples/prepare_traces.py "$traces" out/search-traces/wl 64 "${names[@]}"
./build/accelgen-search run search/examples/traces.json --storage sqlite:///out/search-traces/study.db \
  --cache "${ACCELGEN_CACHE:-$PWD/build/search-cache}"
./build/accelgen-search report --storage sqlite:///out/search-traces/study.db --out out/search-traces/report
