#!/usr/bin/env bash
# The README's search example: two synthetic workloads, a 24-trial NSGA-II search over lanes x wk x
# early termination (dense_baseline) x back-end overlap on the OSU 0.18 um liberty, then the report.
# Run ./setup.sh once first. Outputs: out/search/ (study.db, report/pareto.svg, points.csv, ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p out/search
for kind in peaky gaussian; do
  ./build/accelgen workload --config search/examples/base.json --kind "$kind" --lq 16 --lk 32 --seed 1 \
    --out "out/search/wl_$kind"
done
./build/accelgen-search run search/examples/attention.json --storage sqlite:///out/search/study.db \
  --cache "${ACCELGEN_CACHE:-$PWD/build/search-cache}"
./build/accelgen-search report --storage sqlite:///out/search/study.db --out out/search/report
