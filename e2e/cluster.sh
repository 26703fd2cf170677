#!/usr/bin/env bash
# A throwaway, loopback-only Kubernetes control plane for the end-to-end suite, from the binaries
# that e2e/build.sh builds: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok (one
# fake node, so Deployment/ReplicaSet/Rollout pods become Ready without a kubelet) and the Argo
# Rollouts controller with its CRDs. Every listener is on 127.0.0.1, on free ports.
#
#   e2e/cluster.sh start [--dir DIR]   start (idempotent: prints the env of a running one); prints
#                                      KUBECONFIG=... lines on stdout, progress on stderr
#   e2e/cluster.sh stop  [--dir DIR]   stop every process it started and remove DIR (idempotent)
#   e2e/cluster.sh status [--dir DIR]  exit 0 when all processes run and the API server is ready
#   e2e/cluster.sh env   [--dir DIR]   print the env lines of a running cluster
#
# DIR defaults to $TANDEM_E2E_CLUSTER_DIR or ${TMPDIR:-/tmp}/tandem-e2e-cluster-$UID. Pods of Jobs
# (label batch.kubernetes.io/job-name) are left alone by kwok: e2e/job-runner.ts runs them on the
# host. Binaries: $TANDEM_E2E_BIN, else the bin/ of `e2e/build.sh --print-dir`.
set -euo pipefail

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CMD="${1:-}"; shift || true
DIR="${TANDEM_E2E_CLUSTER_DIR:-${TMPDIR:-/tmp}/tandem-e2e-cluster-$(id -u)}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) DIR="$2"; shift 2 ;;
    --dir=*) DIR="${1#--dir=}"; shift ;;
    *) echo "cluster.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
DIR="$(mkdir -p "$(dirname "$DIR")" && cd "$(dirname "$DIR")" && pwd)/$(basename "$DIR")"
TOOLCHAIN="$("$E2E_DIR/build.sh" --print-dir)"
BIN="${TANDEM_E2E_BIN:-$TOOLCHAIN/bin}"
CRDS="${TANDEM_E2E_CRDS:-$TOOLCHAIN/crds}"
STAGES="${TANDEM_E2E_KWOK_STAGES:-$TOOLCHAIN/kwok-stages}"
# Start order; stop goes the other way.
PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok rollouts-controller)
NODE_NAME=kwok-node-0

log() { echo "cluster: $*" >&2; }

pid_of() { # NAME: the pid if the process runs and is ours (its command line names DIR)
  local f="$DIR/run/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid="$(cat "$f")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$DIR" || return 1
  echo "$pid"
}

# A process just spawned may still be in exec (its cmdline can read empty then): for "has it
# died?" look at the pid only.
alive() { [[ -d "/proc/$1" ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

kctl() { "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" "$@"; }

api_ready() {
  [[ -f "$DIR/ports.env" ]] || return 1
  # shellcheck disable=SC1091
  source "$DIR/ports.env"
  curl -fsS --max-time 3 --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" --key "$DIR/pki/admin.key" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" >/dev/null 2>&1
}

all_running() {
  local p
  for p in "${PROCS[@]}"; do pid_of "$p" >/dev/null || return 1; done
  api_ready
}

print_env() {
  cat "$DIR/env"
}

stop_group() { # NAME...: SIGTERM to each process group, wait up to 10 s, then SIGKILL
  local p pid pids=()
  for p in "$@"; do
    if pid="$(pid_of "$p")"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for _ in $(seq 1 100); do
    local running=0
    for pid in "${pids[@]}"; do alive "$pid" && running=1; done
    [[ $running -eq 0 ]] && return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; done
}

do_stop() {
  # The clients of the API server together, then the API server, then etcd.
  stop_group rollouts-controller kwok kube-scheduler kube-controller-manager
  stop_group kube-apiserver
  stop_group etcd
  # A process may hold DIR (etcd's data) until it is reaped.
  for _ in $(seq 1 25); do
    local left=0
    for p in "${PROCS[@]}"; do pid_of "$p" >/dev/null && left=1; done
    [[ $left -eq 0 ]] && break; sleep 0.2
  done
  if [[ -d "$DIR" ]]; then
    if [[ -f "$DIR/.tandem-e2e-cluster" ]]; then rm -rf "$DIR"
    elif [[ -z "$(ls -A "$DIR")" ]]; then rmdir "$DIR"
    else log "refusing to remove $DIR: not a cluster directory"; return 1
    fi
  fi
}

wait_for() { # WHAT SECONDS COMMAND...: poll until COMMAND succeeds; fail naming WHAT
  local what="$1" secs="$2"; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [[ $(date +%s) -ge $end ]]; then log "timed out after ${secs}s waiting for $what"; return 1; fi
    local p
    for p in "${PROCS[@]}"; do
      if [[ -f "$DIR/run/$p.pid" ]] && ! alive "$(cat "$DIR/run/$p.pid")"; then
        log "$p exited; last lines of $DIR/logs/$p.log:"; tail -n 25 "$DIR/logs/$p.log" >&2 || true; return 1
      fi
    done
    sleep 0.25
  done
  [[ -z "${T0:-}" ]] || log "$what ready at +$(printf '%.1f' "$(echo "$(date +%s.%N) - $T0" | bc)") s"
}

spawn() { # NAME BINARY ARGS...: start detached in its own session, log to DIR/logs/NAME.log
  local name="$1"; shift
  [[ -x "$1" ]] || { log "missing binary $1 (run e2e/build.sh)"; return 1; }
  (cd "$DIR" && exec setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null) &
  echo $! >"$DIR/run/$name.pid"
}

free_ports() { # N: N distinct free TCP ports on 127.0.0.1
  node -e '
    const net = require("net"); const n = Number(process.argv[1]); const servers = [];
    (async () => {
      for (let i = 0; i < n; i++) {
        const s = net.createServer(); servers.push(s);
        await new Promise((res, rej) => s.once("error", rej).listen(0, "127.0.0.1", res));
      }
      console.log(servers.map((s) => s.address().port).join(" "));
      servers.forEach((s) => s.close());
    })().catch((e) => { console.error(e); process.exit(1); });' "$1"
}

make_pki() {
  local pki="$DIR/pki"
  mkdir -p "$pki"; chmod 700 "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 7 \
      -subj "/CN=tandem-e2e-ca" 2>/dev/null
    leaf() { # NAME SUBJECT EXTENSIONS
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%b' "$3" >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 8)" \
        -days 7 -out "$1.crt" -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    leaf apiserver "/CN=kube-apiserver" \
      "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature"
    leaf admin "/O=system:masters/CN=tandem-e2e-admin" \
      "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature"
    openssl ecparam -name prime256v1 -genkey -noout -out sa.key 2>/dev/null
    openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
  )
}

write_kubeconfig() {
  local ca crt key
  ca="$(base64 -w0 "$DIR/pki/ca.crt")"; crt="$(base64 -w0 "$DIR/pki/admin.crt")"; key="$(base64 -w0 "$DIR/pki/admin.key")"
  cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: tandem-e2e
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $ca
users:
- name: tandem-e2e-admin
  user:
    client-certificate-data: $crt
    client-key-data: $key
contexts:
- name: tandem-e2e
  context: {cluster: tandem-e2e, user: tandem-e2e-admin, namespace: default}
current-context: tandem-e2e
EOF
  chmod 600 "$DIR/kubeconfig"
}

write_kwok_config() {
  # The node stages as shipped; the pod stages as shipped except that pods of Jobs are not faked
  # (no Running, no Succeeded): the job runner runs their commands for real.
  local out="$DIR/kwok.yaml" f
  {
    for f in "$STAGES/node/fast/node-initialize.yaml" "$STAGES/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" \
      "$STAGES/pod/fast/pod-delete.yaml"; do
      [[ -f "$f" ]] || { log "missing kwok stage $f (run e2e/build.sh kwok)"; return 1; }
      cat "$f"; echo "---"
    done
    [[ -f "$STAGES/pod/fast/pod-ready.yaml" ]] || { log "missing kwok stage pod-ready.yaml"; return 1; }
    awk '{ print } /^    matchExpressions:$/ && !done {
      print "    - key: '"'"'.metadata.labels[\"batch.kubernetes.io/job-name\"]'"'"'"
      print "      operator: '"'"'DoesNotExist'"'"'"
      done = 1 }' "$STAGES/pod/fast/pod-ready.yaml"
  } >"$out"
  grep -q 'batch.kubernetes.io/job-name' "$out" || { log "could not add the Job-pod exclusion to pod-ready"; return 1; }
}

do_start() {
  if [[ -f "$DIR/env" ]] && all_running; then
    log "already running in $DIR"; print_env; return 0
  fi
  if [[ -f "$DIR/.tandem-e2e-cluster" ]]; then log "cleaning up a stale cluster in $DIR"; do_stop
  elif [[ -d "$DIR" && -n "$(ls -A "$DIR")" ]]; then log "$DIR exists and is not a cluster directory"; return 1
  fi
  T0=$(date +%s.%N)
  mkdir -p "$DIR/run" "$DIR/logs" "$DIR/etcd"
  touch "$DIR/.tandem-e2e-cluster"
  chmod 700 "$DIR/etcd"
  trap 'log "start failed; stopping"; do_stop' ERR

  read -r ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KWOK_PORT ROLLOUTS_METRICS_PORT ROLLOUTS_HEALTHZ_PORT < <(free_ports 6)
  cat >"$DIR/ports.env" <<EOF
ETCD_PORT=$ETCD_PORT
ETCD_PEER_PORT=$ETCD_PEER_PORT
APISERVER_PORT=$APISERVER_PORT
KWOK_PORT=$KWOK_PORT
ROLLOUTS_METRICS_PORT=$ROLLOUTS_METRICS_PORT
ROLLOUTS_HEALTHZ_PORT=$ROLLOUTS_HEALTHZ_PORT
EOF
  make_pki
  write_kubeconfig
  write_kwok_config
  local pki="$DIR/pki"

  spawn etcd "$BIN/etcd" --name=node0 --data-dir="$DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="node0=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new \
    --auto-compaction-retention=1 --quota-backend-bytes=1073741824 --unsafe-no-fsync --log-level=warn
  wait_for etcd 60 curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

  spawn kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" --etcd-prefix=/registry \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=10.96.0.0/16 --endpoint-reconciler-type=none \
    --authorization-mode=RBAC --allow-privileged=true \
    --enable-priority-and-fairness=false --max-requests-inflight=0 --max-mutating-requests-inflight=0 \
    --profiling=false --v=1
  wait_for kube-apiserver 120 api_ready

  spawn kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig="$DIR/kubeconfig" \
    --secure-port=0 --leader-elect=false --use-service-account-credentials=false \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-name=tandem-e2e --kube-api-qps=500 --kube-api-burst=1000 \
    --node-monitor-grace-period=60s --profiling=false --v=1
  spawn kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$DIR/kubeconfig" \
    --secure-port=0 --leader-elect=false --kube-api-qps=500 --kube-api-burst=1000 --profiling=false --v=1
  spawn kwok "$BIN/kwok" --kubeconfig="$DIR/kubeconfig" --config="$DIR/kwok.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --server-address="127.0.0.1:$KWOK_PORT" --node-ip=127.0.0.1 --node-lease-duration-seconds=40 --v=INFO

  kctl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "250"}
  capacity: {cpu: "64", memory: 256Gi, pods: "250"}
EOF
  kctl apply --server-side --force-conflicts -f "$CRDS" >/dev/null
  wait_for "node $NODE_NAME" 60 kctl wait --timeout=2s --for=condition=Ready "node/$NODE_NAME"
  wait_for "Argo Rollouts CRDs" 60 kctl wait --timeout=2s --for=condition=Established \
    crd/rollouts.argoproj.io crd/analysisruns.argoproj.io crd/analysistemplates.argoproj.io \
    crd/clusteranalysistemplates.argoproj.io crd/experiments.argoproj.io
  wait_for "default service account" 60 kctl get serviceaccount default -n default

  spawn rollouts-controller "$BIN/rollouts-controller" --kubeconfig="$DIR/kubeconfig" \
    --metricsPort="$ROLLOUTS_METRICS_PORT" --healthzPort="$ROLLOUTS_HEALTHZ_PORT" \
    --leader-elect=false --loglevel=info
  wait_for rollouts-controller 60 curl -fsS --max-time 2 "http://127.0.0.1:$ROLLOUTS_HEALTHZ_PORT/healthz"

  cat >"$DIR/env" <<EOF
KUBECONFIG=$DIR/kubeconfig
TANDEM_E2E_CLUSTER_DIR=$DIR
TANDEM_E2E_BIN=$BIN
TANDEM_E2E_APISERVER=https://127.0.0.1:$APISERVER_PORT
EOF
  trap - ERR
  log "control plane up in $(printf '%.1f' "$(echo "$(date +%s.%N) - $T0" | bc 2>/dev/null || echo 0)") s ($DIR)"
  print_env
}

case "$CMD" in
  start) do_start ;;
  stop) do_stop; log "stopped ($DIR)" ;;
  status)
    if [[ -f "$DIR/env" ]] && all_running; then log "running ($DIR)"; exit 0; fi
    log "not running ($DIR)"; exit 1 ;;
  env) [[ -f "$DIR/env" ]] && all_running || { log "not running ($DIR)"; exit 1; }; print_env ;;
  *) sed -n '2,17p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
esac
