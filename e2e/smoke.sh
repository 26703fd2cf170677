#!/usr/bin/env bash
# Smoke test of the e2e toolchain: builds what the control plane needs (cached after the first
# time), starts the control plane in a temp dir, checks that every listener of its processes is on
# 127.0.0.1, runs e2e/smoke.ts (Rollout Healthy; Jobs and AnalysisRuns run for real by the job
# runner) and stops the cluster again, also on failure or Ctrl-C. Prints the timings.
set -euo pipefail
E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$E2E_DIR")"

"$E2E_DIR/build.sh" etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok rollouts-controller
(cd "$ROOT" && npx tsc -p e2e/tsconfig.json)

DIR="$(mktemp -d "${TMPDIR:-/tmp}/tandem-e2e-smoke.XXXXXX")"
trap '"$E2E_DIR/cluster.sh" stop --dir "$DIR"' EXIT
t0=$(date +%s.%N)
env_lines="$("$E2E_DIR/cluster.sh" start --dir "$DIR")"
t1=$(date +%s.%N)
while IFS= read -r line; do export "${line?}"; done <<<"$env_lines"
echo "control plane started in $(echo "$t1 - $t0" | bc | xargs printf '%.1f') s"

# Every TCP listener of the cluster's processes must be on the loopback address.
pids="$(cat "$DIR"/run/*.pid | paste -sd'|')"
listeners="$(ss -Htlnp | grep -E "pid=($pids)," || true)"
echo "$listeners" | awk '{print "  listening " $4}' | sort -u
if echo "$listeners" | awk '{print $4}' | grep -vqE '^127\.0\.0\.1:'; then
  echo "smoke: FAILED: a listener is not on 127.0.0.1" >&2; exit 1
fi

node "$ROOT/dist/e2e/smoke.js"
t2=$(date +%s.%N)
"$E2E_DIR/cluster.sh" stop --dir "$DIR"
trap - EXIT
t3=$(date +%s.%N)
[[ ! -e "$DIR" ]] || { echo "smoke: FAILED: $DIR still there after stop" >&2; exit 1; }
# (a zombie that init has not reaped yet counts as gone)
left="$(for p in ${pids//|/ }; do
  if [[ -d /proc/$p ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then echo "$p"; fi
done)"
[[ -z "$left" ]] || { echo "smoke: FAILED: processes left after stop: $left" >&2; exit 1; }
echo "smoke checks took $(echo "$t2 - $t1" | bc | xargs printf '%.1f') s; stop took $(echo "$t3 - $t2" | bc | xargs printf '%.1f') s"
