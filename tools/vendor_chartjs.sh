#!/usr/bin/env bash
# Vendor Chart.js from the npm registry into the results page's static files.
# Run by hand when upgrading; the page never fetches anything at run time (issue 14).
# The tarball's integrity is checked against the registry's sha512 before anything is copied.
set -euo pipefail
VERSION=4.6.1
INTEGRITY="sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g=="
dest="$(cd "$(dirname "$0")/.." && pwd)/src/edgeperf/results/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "chart.js@${VERSION}" >/dev/null
tarball="chart.js-${VERSION}.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "vendor_chartjs: integrity mismatch for $tarball: $got" >&2
  exit 1
fi
tar xzf "$tarball"
mkdir -p "$dest"
cp package/dist/chart.umd.min.js "$dest/chart.umd.min.js"
cp package/LICENSE.md "$dest/chart.js-LICENSE.md"
sha256sum "$dest/chart.umd.min.js"
