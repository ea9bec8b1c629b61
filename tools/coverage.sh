#!/usr/bin/env bash
# Line coverage of include/dphys: builds preset "coverage" (gcc --coverage) in build-coverage/,
# runs the unit tests and the reliability/example tests, and prints lcov's summary for
# include/dphys (HTML in build-coverage/coverage/). Needs lcov (tools/install_deps.sh
# --reliability). Exits non-zero if a test fails; DPHYS_COVERAGE_MIN=<percent> also fails below it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build="$root/build-coverage"
command -v lcov >/dev/null || { echo "coverage: lcov not found (tools/install_deps.sh --reliability)" >&2; exit 1; }
cmake --preset coverage
cmake --build --preset coverage
find "$build" -name '*.gcda' -delete
ctest --preset coverage -L 'unit|reliability|example'
info="$build/coverage.info"
lcov --quiet --capture --directory "$build" --output-file "$info.all" --rc lcov_branch_coverage=0
lcov --quiet --extract "$info.all" "$root/include/dphys/*" --output-file "$info"
if command -v genhtml >/dev/null; then
  genhtml --quiet "$info" --output-directory "$build/coverage" >/dev/null || true
fi
summary=$(lcov --summary "$info" 2>&1)
echo "$summary"
pct=$(sed -n 's/.*lines\.*: *\([0-9.]*\)%.*/\1/p' <<< "$summary")
echo "coverage: include/dphys line coverage ${pct}%"
if [[ -n ${DPHYS_COVERAGE_MIN:-} ]] && awk -v p="$pct" -v m="$DPHYS_COVERAGE_MIN" 'BEGIN { exit !(p < m) }'; then
  echo "coverage: below DPHYS_COVERAGE_MIN=${DPHYS_COVERAGE_MIN}%" >&2
  exit 1
fi
