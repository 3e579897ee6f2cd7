#!/usr/bin/env bash
# `npm test`: installs the Debian packages the tests need when they are missing (as root), builds,
# checks that generated code (proto, dashboards) has not drifted, then runs every test file
# one at a time (the integration tests start many processes on a 2-core machine).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# Real video (ingest): ffmpeg/ffprobe, and nginx with the rtmp module.
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || missing+=(libnginx-mod-rtmp)
# The mininet backend: Debian's mininet for the system python3, Linux bridges, ping, ethtool.
/usr/bin/python3 -c 'import mininet.net' >/dev/null 2>&1 || missing+=(mininet)
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
command -v brctl >/dev/null 2>&1 || missing+=(bridge-utils)
command -v ethtool >/dev/null 2>&1 || missing+=(ethtool)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's prometheus package may start a system instance on :9090: the tests leave it alone
    # (their own Prometheus servers listen on free ports, `livepath up`'s on a pod address).
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "test: missing Debian packages (${missing[*]}); run as root or install them: tests that need them will say they are skipped"
  fi
fi

npm run build --silent

# Formatting and lint (biome), types and the proto's lint: `npm run format` fixes what it can.
npm run lint --silent

# Generated code must be what the generators produce from the sources.
node scripts/gen.mjs
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  drift=$(git status --porcelain -- services/gen grafana/dashboards charts/livepath/dashboards charts/livepath/files)
  if [ -n "$drift" ]; then
    echo "$drift" >&2
    echo "test: generated code drifted from its sources: run 'npm run gen' and commit the result" >&2
    exit 1
  fi
fi

# Tests run from their TypeScript sources (tsx), beside the fixtures and scripts they read; the
# CLI they start runs from dist/, built above.
# --test-force-exit: a test file's process ends once its tests have, even with a handle left open.
# kubernetes-backend.test.ts passed all its tests and then spun at ~90 % CPU without exiting (twice,
# 2026-11-29/30), which held `npm test` until CI's timeout; the handle is not found yet.
mapfile -t files < <(find test -name '*.test.ts' | sort)
node --import tsx --test --test-force-exit --test-concurrency=1 --test-reporter=spec "${files[@]}"
