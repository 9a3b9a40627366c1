#!/usr/bin/env bash
# Browser end-to-end tests of `troad idp` (Chromium via playwright-core, an openid-client
# relying party). Needs node >= 20, npm and /usr/bin/chromium (Debian: apt-get install
# nodejs npm chromium). TROAD_BINARY names the troad binary to test.
#   TROAD_BINARY=build/bin/troad tests/e2e/run.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

: "${TROAD_BINARY:?TROAD_BINARY must name the troad binary}"
case "$TROAD_BINARY" in
  /*) ;;
  *) TROAD_BINARY="$OLDPWD/$TROAD_BINARY" ;;
esac
export TROAD_BINARY
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 1; }
done
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] ||
  { echo "run.sh: ${CHROMIUM_PATH:-/usr/bin/chromium} is missing (apt-get install chromium)" >&2; exit 1; }

# node_modules exactly as package-lock.json says; reinstalled when the lock file changed.
if [ ! -f node_modules/.package-lock.json ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ] ||
   [ package.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

exec node --test --test-reporter=spec idp.test.mjs
