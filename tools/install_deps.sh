#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages dphys needs to build, test and plot. Idempotent: installs
# only what dpkg reports missing, and runs `apt-get update` only then. With --tests, also what the
# test suite needs beyond the build: OpenMPI (the MPI island model, tests/mpi; tools/run_tests.sh
# turns DPHYS_WITH_MPI on when it is there). With --reliability, also what the CI's reliability
# stages need: clang 14 with libFuzzer (preset "fuzz") and lcov (tools/coverage.sh).
set -euo pipefail

packages=(
  cmake g++ make
  libboost-dev xtensor-dev libxsimd-dev libfmt-dev doctest-dev
  python3-matplotlib python3-numpy
)
for arg in "$@"; do
  case "$arg" in
    --tests) packages+=(libopenmpi-dev openmpi-bin) ;;
    --reliability) packages+=(clang-14 libclang-rt-14-dev lcov) ;;
    *) echo "install_deps: unknown option '$arg' (valid: --tests, --reliability)" >&2; exit 2 ;;
  esac
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install_deps: not a Debian-based system; install these (or your distribution's" \
       "equivalents) yourself: ${packages[*]}"
  exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install_deps: missing packages: ${missing[*]}" >&2
  echo "install_deps: not root and no sudo; run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "install_deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
echo "install_deps: done"
