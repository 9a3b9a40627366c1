#!/usr/bin/env bash
# troad set-up for a fresh Debian 12 machine (run as root).
#
#   scripts/setup.sh demo   install what is needed, build, run `troad demo`
#   scripts/setup.sh test   install what is needed, build, run every test
#
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo),
# JOBS (default: number of cores), TROAD_SKIP_APT=1 to skip the package step.
set -euo pipefail

mode="${1:-}"
case "$mode" in
  demo|test|build) ;;
  *) echo "usage: $0 demo|test|build" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
build_type="${BUILD_TYPE:-RelWithDebInfo}"
jobs="${JOBS:-$(nproc)}"

# Debian packages: the toolchain, the libraries troad links, and the tools its tests
# and demo run (python3 for the sample agencies, curl as an X-Road client, openssl as
# the outside verifier of certificates and signatures, sqlite3 to read message logs,
# 7z to read MyData's AES-encrypted packages as a person would, Python's cryptography
# as a second AES-GCM implementation to check ours against, aiosmtpd as the mail relay
# MyData's notices are sent to).
# The browser tests also need Chromium and Node.js (below); Node's npm fetches
# playwright-core and openid-client from the npm registry when they first run.
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libssl-dev openssl libsqlite3-dev sqlite3
  nlohmann-json3-dev libsimdjson-dev libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libexpected-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev libargon2-dev libqrencode-dev argon2
  libcbor-dev libzip-dev libcurl4-openssl-dev
  python3 python3-cryptography python3-aiosmtpd curl ca-certificates p7zip-full
)

# Installs those of the given Debian packages that are not installed yet.
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [[ "${TROAD_SKIP_APT:-0}" != 1 && ${#missing[@]} -gt 0 ]]; then
    echo "==> installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}
install_missing "${packages[@]}"
# The browser tests: Debian's Chromium, and Node.js with npm unless there is one.
if [[ $mode == test ]]; then
  install_missing chromium
  command -v npm >/dev/null 2>&1 || install_missing nodejs npm
fi

echo "==> configuring ($build_type) in $build_dir"
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
  -DTROAD_BUILD_TESTS="$([[ $mode == test ]] && echo ON || echo OFF)"
echo "==> building with $jobs jobs"
cmake --build "$build_dir" -j "$jobs"

case "$mode" in
  build) ;;
  demo)
    cd "$root"
    exec "$build_dir/bin/troad" demo --dir "$root/demo-data"
    ;;
  test)
    echo "==> running every test"
    cd "$build_dir"
    # Two tests at a time: the integration tests start several processes each.
    ctest --output-on-failure -j 2 --timeout 600
    ;;
esac
