#!/usr/bin/env bash
# Builds the real-engine toolchain of the end-to-end suite from Go modules (through the Go module
# proxy, with the ordinary `go` client) into a cache outside the checkout:
#
#   ${TANDEM_E2E_CACHE:-~/.cache/tandem-e2e}/<hash>/bin/         the binaries
#   ${TANDEM_E2E_CACHE:-~/.cache/tandem-e2e}/<hash>/pulumi-home/ PULUMI_HOME with the plugins
#   ${TANDEM_E2E_CACHE:-~/.cache/tandem-e2e}/<hash>/crds/        the Argo Rollouts CRDs
#
# <hash> covers e2e/versions.env and e2e/go/*/go.{mod,sum}. Idempotent: a component whose binary is
# already there is skipped. One line per component ("built X in N s (CPU M s)", "cached X", "skipped X: why");
# exits non-zero naming the first component that failed (its log is in <cache>/logs/).
#
#   e2e/build.sh [COMPONENT...]    build all (default) or only the named components
#   e2e/build.sh --print-dir       print <cache>/<hash> and exit (builds nothing)
#   e2e/build.sh --list            list the components
#   e2e/build.sh --missing C...    print the named components that are not built (builds nothing)
#
# Environment: TANDEM_E2E_CACHE (cache root), TANDEM_E2E_BUILD_P (go build -p, default 2).
set -euo pipefail

# Everything is in main, so that bash has parsed the whole script before it runs (editing the
# file during a long build cannot change what the running build does).
main() {

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$E2E_DIR/versions.env"
if [[ -n "${GOTOOLCHAIN_PIN:-}" ]]; then export GOTOOLCHAIN="$GOTOOLCHAIN_PIN"; fi
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"
export CGO_ENABLED="${CGO_ENABLED:-0}"
BUILD_P="${TANDEM_E2E_BUILD_P:-2}"

COMPONENTS=(pulumi pulumi-language-nodejs pulumi-resource-kubernetes pulumi-resource-command
  etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok rollouts-controller)

versions_hash() {
  (cd "$E2E_DIR" && cat versions.env go/*/go.mod go/*/go.sum) | sha256sum | cut -c1-16
}

CACHE_ROOT="${TANDEM_E2E_CACHE:-$HOME/.cache/tandem-e2e}"
HASH="$(versions_hash)"
OUT="$CACHE_ROOT/$HASH"
BIN="$OUT/bin"
LOGS="$OUT/logs"
WORK="$OUT/work"

case "${1:-}" in
  --print-dir) echo "$OUT"; exit 0 ;;
  --list) printf '%s\n' "${COMPONENTS[@]}"; exit 0 ;;
  -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}"; exit 0 ;;
esac

command -v go >/dev/null || { echo "build.sh: go not found on PATH (need Go >= 1.26)" >&2; exit 1; }
mkdir -p "$BIN" "$LOGS" "$WORK"


gobuild() { # DIR OUTPUT PACKAGE [LDFLAGS]
  local dir="$1" out="$2" pkg="$3" ldflags="${4:-}"
  (cd "$dir" && go build -p "$BUILD_P" -trimpath -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg") &&
    mv -f "$out.tmp" "$out"
}

require_pin() { # GO_MOD MODULE VERSION: the wrapper module must require what versions.env pins
  grep -qE "^[[:space:]]*(require[[:space:]]+)?$2 $3( |$)" "$1" ||
    { echo "$1 does not require $2 $3 (versions.env)" >&2; return 1; }
}

plugin_install() { # NAME VERSION BINARY
  PULUMI_HOME="$OUT/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=1 \
    "$BIN/pulumi" plugin install resource "$1" "$2" --file "$3" --reinstall
}

K8S_LDFLAGS() {
  local v="$KUBERNETES_VERSION" major minor date
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  date="$(cd "$E2E_DIR/go/kubernetes" && go list -m -f '{{.Time}}' k8s.io/kubernetes | cut -c1-10)T00:00:00Z"
  local f
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    f+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    f+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
  done
  echo "$f"
}

# Each build_X prints nothing on success and fails non-zero; output goes to the component's log.
build_pulumi() {
  require_pin "$E2E_DIR/go/pulumi/go.mod" github.com/pulumi/pulumi/pkg/v3 "$PULUMI_VERSION"
  gobuild "$E2E_DIR/go/pulumi" "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
}

build_pulumi-language-nodejs() {
  local src="$WORK/pulumi-language-nodejs"
  copy_module "$PULUMI_LANGUAGE_NODEJS_MODULE" "$PULUMI_LANGUAGE_NODEJS_VERSION" "$src"
  # Its go.mod replaces pkg/v3 and sdk/v3 with ../ paths of the pulumi repository: use the
  # published modules at the CLI's version instead.
  (cd "$src" &&
    go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
      -require "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" -require "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" &&
    go mod tidy)
  gobuild "$src" "$BIN/pulumi-language-nodejs" . \
    "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
}

copy_module() { # MODULE VERSION DEST: a writable copy of a module from the module cache
  local dir
  dir="$(cd "$WORK" && GOFLAGS=-mod=mod go mod download -json "$1@$2" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || { echo "go mod download $1@$2 gave no directory" >&2; return 1; }
  rm -rf "$3"; cp -r "$dir" "$3"; chmod -R u+w "$3"
}

build_pulumi-resource-kubernetes() {
  local src="$WORK/pulumi-kubernetes-provider"
  copy_module github.com/pulumi/pulumi-kubernetes/provider/v4 "$PULUMI_KUBERNETES_MODULE_VERSION" "$src"
  (cd "$src" &&
    # sdk/v4 => ../sdk points into the repository: take the published module it requires.
    go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 &&
    go mod download github.com/pulumi/pulumi-kubernetes/sdk/v4 &&
    GOFLAGS="$GOFLAGS -mod=mod" go mod tidy)
  kubernetes_embed_json "$src/cmd/pulumi-resource-kubernetes"
  kubernetes_drop_components "$src/pkg/provider/provider_construct.go"
  gobuild "$src" "$BIN/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION"
  plugin_install kubernetes "$PULUMI_KUBERNETES_VERSION" "$BIN/pulumi-resource-kubernetes"
}

# The provider embeds schema-embed.json and terraform-mapping-embed.json, which the repository's
# Makefile makes with `go run generate.go`: schema.json and terraform-mapping.json unmarshalled,
# the schema's version set, marshalled again. embed-json.mjs does the same in Node without compiling
# the generator (whose 631 packages, built without -trimpath, are not reused by the provider's own
# -trimpath build). Its output is checked against the generator's bytes (sha256) for the pinned
# version; any other version, or no node, runs the generator as before.
kubernetes_embed_json() { # DIR
  local dir="$1" sums=""
  case "$PULUMI_KUBERNETES_VERSION" in
    4.25.0) sums="7f72cb159b58c6a33ecd5f5bd58ed6cfd155ba6d938727423834a87f62513ba0  schema-embed.json
f49253bd5aa05425141721ee762e5568db0fb724e340e45936366bd3e74590c1  terraform-mapping-embed.json" ;;
  esac
  if [[ -n "$sums" ]] && command -v node >/dev/null &&
    node "$E2E_DIR/embed-json.mjs" "$dir" "$PULUMI_KUBERNETES_VERSION" &&
    (cd "$dir" && sha256sum -c --quiet <<<"$sums"); then
    echo "embedded JSON written by embed-json.mjs (sha256 as the generator's)"
  else
    echo "embedded JSON: running the module's generate.go"
    (cd "$dir" && VERSION="$PULUMI_KUBERNETES_VERSION" go run -trimpath generate.go)
  fi
}

# The provider's four component resources (kubernetes:yaml/v2:ConfigFile and ConfigGroup,
# kubernetes:helm.sh/v4:Chart, kubernetes:kustomize/v2:Directory, served through Construct) are
# written on the published Go SDK pulumi-kubernetes/sdk/v4, whose 66 generated packages (about
# 500,000 lines) are most of the provider's compile time. Tandem's program uses none of them
# (Rollout, AnalysisTemplate, Service, Secret, ConfigMap: the provider's own resource code), so
# they are taken out of Construct's table: a program that asks for one gets the provider's own
# "unknown resource type" error. Everything else is the module's code.
kubernetes_drop_components() { # provider_construct.go
  local f="$1" alias='provider(yamlv2|helmv4|kustomizev2)'
  [[ "$(grep -cE "^[[:space:]]*$alias \"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider/" "$f")" == 3 &&
    "$(grep -cE "^[[:space:]]*\"kubernetes:[^\"]+\":[[:space:]]+$alias\.New" "$f")" == 4 ]] ||
    { echo "$f: not the 3 component imports and 4 table entries this build expects" >&2; return 1; }
  sed -i -E "/^[[:space:]]*$alias \"github.com\/pulumi\/pulumi-kubernetes\/provider\/v4\/pkg\/provider\//d;
    /^[[:space:]]*\"kubernetes:[^\"]+\":[[:space:]]+$alias\.New/d" "$f"
  ! grep -qE "$alias" "$f" || { echo "$f: component references left" >&2; return 1; }
}

build_pulumi-resource-command() {
  local src="$WORK/pulumi-command-provider"
  copy_module github.com/pulumi/pulumi-command/provider "$PULUMI_COMMAND_MODULE_VERSION" "$src"
  gobuild "$src" "$BIN/pulumi-resource-command" ./cmd/pulumi-resource-command \
    "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$PULUMI_COMMAND_VERSION"
  plugin_install command "$PULUMI_COMMAND_VERSION" "$BIN/pulumi-resource-command"
}

build_etcd() {
  require_pin "$E2E_DIR/go/etcd/go.mod" go.etcd.io/etcd/server/v3 "$ETCD_VERSION"
  gobuild "$E2E_DIR/go/etcd" "$BIN/etcd" go.etcd.io/etcd/server/v3
}

build_k8s() { # NAME
  require_pin "$E2E_DIR/go/kubernetes/go.mod" k8s.io/kubernetes "$KUBERNETES_VERSION"
  gobuild "$E2E_DIR/go/kubernetes" "$BIN/$1" "k8s.io/kubernetes/cmd/$1" "$(K8S_LDFLAGS)"
}
build_kube-apiserver() { build_k8s kube-apiserver; }
build_kube-controller-manager() { build_k8s kube-controller-manager; }
build_kube-scheduler() { build_k8s kube-scheduler; }
build_kubectl() { build_k8s kubectl; }

build_kwok() {
  require_pin "$E2E_DIR/go/kwok/go.mod" sigs.k8s.io/kwok "$KWOK_VERSION"
  gobuild "$E2E_DIR/go/kwok" "$BIN/kwok" sigs.k8s.io/kwok/cmd/kwok \
    "-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
  # The stage definitions kwok needs to move nodes and pods (not compiled in when standalone).
  local dir
  dir="$(cd "$E2E_DIR/go/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  rm -rf "$OUT/kwok-stages"; mkdir -p "$OUT/kwok-stages"
  cp -r "$dir/kustomize/stage/." "$OUT/kwok-stages/"; chmod -R u+w "$OUT/kwok-stages"
}

build_rollouts-controller() {
  local src="$WORK/argo-rollouts" p=github.com/argoproj/argo-rollouts/utils/version
  copy_module github.com/argoproj/argo-rollouts "$ARGO_ROLLOUTS_VERSION" "$src"
  # The controller serves metrics and healthz on 0.0.0.0 (a constant, no flag): loopback only here.
  grep -q 'listenAddr *= "0.0.0.0:%d"' "$src/controller/controller.go"
  sed -i 's/listenAddr *= "0.0.0.0:%d"/listenAddr = "127.0.0.1:%d"/' "$src/controller/controller.go"
  gobuild "$src" "$BIN/rollouts-controller" ./cmd/rollouts-controller \
    "-X $p.version=${ARGO_ROLLOUTS_VERSION#v} -X $p.gitTag=$ARGO_ROLLOUTS_VERSION -X $p.gitCommit=module-$ARGO_ROLLOUTS_VERSION -X $p.gitTreeState=clean"
  rm -rf "$OUT/crds"; mkdir -p "$OUT/crds"
  cp "$src"/manifests/crds/*-crd.yaml "$OUT/crds/"
}

# Why a component is not built (empty: it is).
skip_reason() {
  case "$1" in
    pulumi-language-nodejs) [[ -n "$PULUMI_LANGUAGE_NODEJS_VERSION" ]] ||
      echo "no version of $PULUMI_LANGUAGE_NODEJS_MODULE is served by the Go module proxy (set PULUMI_LANGUAGE_NODEJS_VERSION in versions.env)" ;;
    pulumi-resource-command) [[ -n "$PULUMI_COMMAND_MODULE_VERSION" ]] ||
      echo "github.com/pulumi/pulumi-command/provider is not served by the Go module proxy (set PULUMI_COMMAND_MODULE_VERSION in versions.env)" ;;
  esac
}

# A component's recipe revision, raised when a change of its build changes what it produces (the
# cache's hash covers the pinned versions, not this script): a build of an older revision is not
# cached and is built again, in the same cache directory. No stamp file = revision 1.
# pulumi-resource-kubernetes 2: without the component resources (kubernetes_drop_components).
recipe_of() { case "$1" in pulumi-resource-kubernetes) echo 2 ;; *) echo 1 ;; esac; }
recipe_current() { [[ "$(cat "$OUT/.recipe-$1" 2>/dev/null || echo 1)" == "$(recipe_of "$1")" ]]; }

is_built() {
  recipe_current "$1" || return 1
  case "$1" in
    pulumi-resource-kubernetes) [[ -x "$BIN/$1" && -d "$OUT/pulumi-home/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION" ]] ;;
    pulumi-resource-command) [[ -x "$BIN/$1" && -d "$OUT/pulumi-home/plugins/resource-command-v$PULUMI_COMMAND_VERSION" ]] ;;
    kwok) [[ -x "$BIN/$1" && -d "$OUT/kwok-stages" ]] ;;
    rollouts-controller) [[ -x "$BIN/$1" && -d "$OUT/crds" ]] ;;
    *) [[ -x "$BIN/$1" ]] ;;
  esac
}

# --missing COMPONENT...: print those not built (or built by an older recipe), one a line.
if [[ "${1:-}" == --missing ]]; then
  shift
  for c in "$@"; do is_built "$c" || echo "$c"; done
  exit 0
fi

wanted=("$@")
[[ ${#wanted[@]} -gt 0 ]] || wanted=("${COMPONENTS[@]}")
explicit=$#
for c in "${wanted[@]}"; do
  declare -F "build_$c" >/dev/null || { echo "build.sh: unknown component $c (see --list)" >&2; exit 2; }
done

# The plugins are installed with the pulumi CLI.
for c in "${wanted[@]}"; do
  if [[ "$c" == pulumi-resource-* ]] && ! is_built pulumi && [[ " ${wanted[*]} " != *" pulumi "* ]]; then
    wanted=(pulumi "${wanted[@]}"); break
  fi
done

for c in "${wanted[@]}"; do
  reason="$(skip_reason "$c")"
  if [[ -n "$reason" ]]; then
    echo "skipped $c: $reason"
    if [[ $explicit -gt 0 ]]; then exit 1; fi
    continue
  fi
  # One build of a component at a time (another build.sh may be building it right now).
  exec 9>"$OUT/.lock-$c"
  flock 9
  if is_built "$c"; then echo "cached $c"; continue; fi
  start=$(date +%s)
  # CPU seconds (user + system) of the build's processes, from bash's `time` into a file.
  if { TIMEFORMAT='%U %S'; time "build_$c" >"$LOGS/$c.log" 2>&1; } 2>"$LOGS/$c.cpu"; then
    recipe_of "$c" >"$OUT/.recipe-$c"
    echo "built $c in $(( $(date +%s) - start )) s (CPU $(awk '{printf "%d", $1 + $2}' "$LOGS/$c.cpu") s)"
  else
    echo "FAILED $c after $(( $(date +%s) - start )) s (log: $LOGS/$c.log)" >&2
    tail -n 20 "$LOGS/$c.log" >&2
    exit 1
  fi
done
echo "toolchain in $OUT"
}

main "$@"; exit
