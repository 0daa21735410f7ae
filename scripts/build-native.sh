#!/usr/bin/env bash
# Builds the N-API addon in native/ into native/build/Release/hako_native.node with node-gyp.
# Runs from package.json "install", so `npm ci` compiles it; needs a C compiler, make and python3.
# Offline-safe: when the running node ships its headers (Debian/NodeSource packages put them in
# <prefix>/include/node), node-gyp is pointed there instead of downloading a header tarball.
# With libnftables' headers (Debian: libnftables-dev) the addon also gets nftRun; without them it
# builds all the same, and hakod spawns nft for its rules (native/detect-nftables.sh decides).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/native"

node_bin="$(command -v node)"

# npm exports npm_config_node_gyp to lifecycle scripts; otherwise use the node-gyp npm bundles.
gyp="${npm_config_node_gyp:-}"
if [[ -z "$gyp" ]]; then
  npm_cli="$(readlink -f "$(command -v npm)")"
  gyp="$(dirname "$npm_cli")/../node_modules/node-gyp/bin/node-gyp.js"
fi
if [[ ! -f "$gyp" ]]; then
  gyp="$(command -v node-gyp || true)"
fi
if [[ -z "$gyp" ]]; then
  echo "build-native: node-gyp not found (it ships with npm)" >&2
  exit 1
fi

args=()
if [[ -z "${npm_config_nodedir:-}" ]]; then
  prefix="$(cd "$(dirname "$(readlink -f "$node_bin")")/.." && pwd)"
  if [[ -f "$prefix/include/node/node_api.h" && -f "$prefix/include/node/common.gypi" ]]; then
    args+=("--nodedir=$prefix")
  fi
fi

if [[ "$(sh ./detect-nftables.sh)" != 1 ]]; then
  echo "build-native: libnftables not found (apt-get install libnftables-dev): building without nftRun; hakod will spawn nft for its rules" >&2
fi

"$node_bin" "$gyp" rebuild --release --loglevel=warn "${args[@]}" >&2
test -f build/Release/hako_native.node
