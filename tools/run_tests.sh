#!/usr/bin/env bash
# Builds everything in build/ and runs the whole CTest suite (unit tests, header self-containment,
# consumer and example smoke tests). Extra arguments are passed to the CMake configure step,
# e.g. tools/run_tests.sh -DDPHYS_WARNINGS_AS_ERRORS=ON. Exits non-zero on any failure.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jobs=${DPHYS_JOBS:-2}
build="$root/build"

"$root/tools/install_deps.sh" --tests

start=$SECONDS
# The MPI island model (tests/mpi, dphys_koki2_islands_mpi) is built and tested when MPI is there.
mpi_option=()
if command -v mpicxx >/dev/null 2>&1 && command -v mpiexec >/dev/null 2>&1; then
  mpi_option=(-DDPHYS_WITH_MPI=ON)
fi
echo "== configure ($build)"
cmake -S "$root" -B "$build" "${mpi_option[@]}" "$@"
echo "== build (-j$jobs)"
cmake --build "$build" -j "$jobs"
built=$SECONDS
echo "== test (-j$jobs)"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
echo "== all tests passed (build $((built - start)) s, tests $((SECONDS - built)) s)"
