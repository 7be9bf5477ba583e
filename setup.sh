#!/usr/bin/env bash
# Quick start, step 1: install what is missing (Debian packages), build, and run the main job on the
# default configuration: generate its RTL, make a sample workload, simulate it on the Verilated RTL
# against the golden cycle model (cycle by cycle) and print the summary. Outputs land in out/.
set -euo pipefail
cd "$(dirname "$0")"

packages=(verilator yosys iverilog libgtest-dev libeigen3-dev libfmt-dev libcli11-dev
          nlohmann-json3-dev zlib1g-dev cmake ninja-build g++ make opensta
          # design search (search/, docs/search.md): Optuna, plots, and the Slurm + PostgreSQL path
          python3-optuna python3-matplotlib python3-munkres slurm-wlm munge postgresql python3-psycopg2
          # fuzzing (fuzz/run.sh, not CTest): clang 14 with libFuzzer and the sanitizers; numpy for the seeds
          clang libclang-rt-14-dev python3-numpy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  echo "installing: ${missing[*]}"
  # APT's sandbox user cannot write a /dev/null of mode 0755 (seen in containers): update as root then.
  apt_opts=()
  [[ $(id -u) -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
  "${sudo[@]}" apt-get update -qq "${apt_opts[@]}"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The default liberty of `accelgen area`: the OSU 0.18 um standard cells of Debian's
# qflow-tech-osu018, unpacked into the build tree without installing the package (it would pull in
# qflow and 17 more packages). Skipped when present; see constraints/README.md.
osu_dir=build/third_party/osu018
osu_lib=$osu_dir/usr/share/qflow/tech/osu018/osu018_stdcells.lib
if [[ ! -f $osu_lib ]]; then
  echo "extracting the OSU018 liberty (qflow-tech-osu018) into $osu_dir"
  dl=$(mktemp -d)
  if ! (cd "$dl" && apt-get download -qq qflow-tech-osu018); then
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq   # package lists missing or stale
    (cd "$dl" && apt-get download -qq qflow-tech-osu018)
  fi
  mkdir -p "$osu_dir"
  dpkg-deb -x "$dl"/qflow-tech-osu018_*.deb "$osu_dir"
  rm -rf "$dl"
  [[ -f $osu_lib ]] || { echo "setup.sh: $osu_lib missing after extraction" >&2; exit 1; }
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j 2
# The design search client: run with Debian's /usr/bin/python3 (docs/search.md).
ln -sfn ../search/accelgen-search build/accelgen-search

export ACCELGEN_CACHE="${ACCELGEN_CACHE:-$PWD/build/sim-cache}"
config=configs/default.json
./build/accelgen generate --config "$config" --out out/rtl
./build/accelgen workload --config "$config" --kind peaky --lq 16 --lk 64 --seed 1 --out out/workload
./build/accelgen sim --config "$config" --workload out/workload --report out/sim_report.json \
  --out-tensor out/o.npy
echo "report: out/sim_report.json   output O: out/o.npy   RTL: out/rtl/"
