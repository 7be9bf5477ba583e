#!/usr/bin/env bash
# Quick start, step 2: (re)build and run the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")"
[[ -f build/build.ninja ]] || cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build -j 2
ctest --test-dir build --output-on-failure -j 2
