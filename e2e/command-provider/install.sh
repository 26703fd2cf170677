#!/usr/bin/env bash
# Installs the end-to-end suite's stand-in for the command provider (e2e/command-provider/, served
# by Node) as plugin `command` 1.2.1 into a PULUMI_HOME: a one-line /bin/sh wrapper with the
# absolute paths of node and the compiled provider, installed with `pulumi plugin install ...
# --file`. The engine then loads it for `command:local:Command` as it would the real plugin.
#
#   e2e/command-provider/install.sh PULUMI_HOME [PULUMI_BINARY]
#
# Needs the compiled provider (npx tsc -p e2e/tsconfig.json writes dist/e2e/command-provider/).
# Prints one line: where the wrapper is and what it runs.
set -euo pipefail
home="${1:?usage: install.sh PULUMI_HOME [PULUMI_BINARY]}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pulumi="${2:-$("$repo/e2e/build.sh" --print-dir)/bin/pulumi}"
node="$(command -v node)"
script="$repo/dist/e2e/command-provider/provider.js"
[[ -x "$pulumi" ]] || { echo "install.sh: no pulumi at $pulumi (e2e/build.sh pulumi builds it)" >&2; exit 1; }
[[ -f "$script" ]] || { echo "install.sh: $script missing; run npx tsc -p e2e/tsconfig.json first" >&2; exit 1; }
mkdir -p "$home/command-stand-in"
wrapper="$home/command-stand-in/pulumi-resource-command"
quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
printf '#!/bin/sh\nexec %s %s "$@"\n' "$(quote "$node")" "$(quote "$script")" > "$wrapper"
chmod 755 "$wrapper"
PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=1 "$pulumi" plugin install resource command 1.2.1 --file "$wrapper" --reinstall >/dev/null
echo "installed the command provider stand-in as plugin command 1.2.1 in $home: $node $script"
