#!/bin/sh
# Calibration on the real traces (docs/calibration.md "Results on real traces"): for every head (L0H0..L3H3)
# and both bit widths, fit on windows w1-w3, hold out w4, causal (offset 0), --mode auto, E = 0.02, then print
# the table (mode, margin, kept fraction, held-out error on w4, ideal bit steps / dense on w4).
# The reported run adds the margin chosen by leave-one-window-out on w1-w3 only:  EXTRA=--cv-margin bench/calib_traces.sh
# (every left-out window within E), or with the prediction bound:  EXTRA="--cv-margin --cv-rule predict" (docs).
#
#   bench/calib_traces.sh [TRACES_DIR] [OUT_DIR]        defaults: /work/shared/traces, out/calib_traces
#
# Environment: ACCELGEN (default build/accelgen), JOBS (parallel runs, default 2), E (default 0.02),
# EXTRA (more calibrate options, e.g. "--margin 0.8"), CYCLES=1 (also run the golden cycle model).
set -eu
cd "$(dirname "$0")/.."
TRACES=${1:-/work/shared/traces}
OUT=${2:-out/calib_traces}
ACCELGEN=${ACCELGEN:-build/accelgen}
JOBS=${JOBS:-2}
E=${E:-0.02}
EXTRA=${EXTRA:-}
CYC=--no-cycles
[ "${CYCLES:-0}" = 1 ] && CYC=
mkdir -p "$OUT"
for b in 12 8; do for l in 0 3; do for h in 0 1 2 3; do echo "$l $h $b"; done; done; done |
  xargs -P "$JOBS" -n 3 sh -c '
    l=$0 h=$1 b=$2 head=L${l}H${h}_b${b}
    nice -n 10 '"$ACCELGEN"' calibrate --config configs/calib/trace_b${b}.json \
      --workload '"$TRACES"'/${head}_w1 --workload '"$TRACES"'/${head}_w2 --workload '"$TRACES"'/${head}_w3 \
      --holdout-dir '"$TRACES"'/${head}_w4 --causal --causal-offset 0 --mode auto --max-error '"$E"' \
      '"$CYC"' '"$EXTRA"' --out '"$OUT"'/${head}.json > '"$OUT"'/${head}.log 2>&1 || { cat '"$OUT"'/${head}.log; exit 255; }'
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
cyc = []
print("| head | bits | mode (auto): value | margin | kept (w4) | held-out error w4 | ideal bit steps / dense (w4) | other mode: kept, error (w4) | LOWO errors (w1-w3): rule bound |")
print("|---|---|---|---|---|---|---|---|---|")
for b in (12, 8):
    for l in (0, 3):
        for h in range(4):
            j = json.load(open(os.path.join(out, f"L{l}H{h}_b{b}.json")))
            s = j["report"]["slots"][0]
            m = s["learned"]; w = m["held_out_workloads"][0]
            o = s.get("other_mode")
            other = "-"
            if o:
                ow = o["held_out_workloads"][0]
                other = f'{o["mode"][:3]} {ow["kept_fraction"]:.3f}, {ow["error"]:.4f}'
            cv = [c for c in s.get("cv_margin", []) if c["mode"] == m["mode"]]
            lowo = " ".join(f'{f["error"]:.4f}' for f in cv[0]["folds"]) if cv else "-"
            if cv and cv[0].get("bound") is not None:
                lowo += f': {cv[0]["rule"]} {cv[0]["bound"]:.4f}'
            margin = f'{m["margin"]:.2f}' + ("" if not cv or cv[0]["met"] else " (not met)")
            print(f'| L{l}H{h} | {b} | {m["mode"]} {m.get("delta", m.get("theta"))} | {margin} | {w["kept_fraction"]:.3f} | '
                  f'{w["error"]:.4f} | {w["bit_step_fraction"]:.3f} | {other} | {lowo} |')
            c, cn = m.get("cycles"), s["none"].get("cycles")
            if c and cn:  # CYCLES=1 with a cycle model that runs the rule: w1-w4 together
                cyc.append(f'| L{l}H{h} | {b} | {m["bit_steps"] / m["dense_bit_steps"]:.3f} | '
                           f'{c["bit_steps"] / m["dense_bit_steps"]:.3f} | {c["total"]} / {cn["total"]} = '
                           f'{c["total"] / cn["total"]:.3f} |')
if cyc:
    print()
    print("| head | bits | ideal bit steps / dense (w1-w4) | realized / dense (w1-w4) | cycles learned / none (w1-w4) |")
    print("|---|---|---|---|---|")
    print("\n".join(cyc))
PY
