#!/usr/bin/env bash
# Sets up hako on a Debian 12 machine, as root; safe to run again (it only does what is missing):
#   1. the Debian packages hako drives: runc, conmon, iproute2, nftables (+ libnftables-dev), busybox-static, tini, uidmap
#      (and the compilers node-gyp needs for better-sqlite3 and native/), plus the test peers
#      (docker-registry, skopeo, apache2-utils);
#   2. the npm dependencies (`npm ci`, skipped when package-lock.json and native/ are unchanged);
#   3. the TypeScript build (`npm run build`, into dist/).
# Quiet when it works; on failure it names the step and prints the end of that step's output.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log="$(mktemp /tmp/hako-setup.XXXXXX.log)"
trap 'rm -f "$log"' EXIT

fail() {
  echo "setup: FAILED at step '$1'" >&2
  if [[ -s "$log" ]]; then
    echo "---- last lines of its output ----" >&2
    tail -n 40 "$log" >&2
    echo "----------------------------------" >&2
  fi
  exit 1
}

# step NAME CMD...: runs CMD with its output kept aside, failing loudly with NAME.
step() {
  local name="$1"
  shift
  : >"$log"
  "$@" >>"$log" 2>&1 || fail "$name"
}

[[ "$(id -u)" == 0 ]] || { echo "setup: run as root (hako runs containers with runc as root)" >&2; exit 1; }
[[ -r /etc/debian_version ]] || { echo "setup: this script knows Debian (12) only; see README.md for what to install" >&2; exit 1; }

# ---- 1. Debian packages -----------------------------------------------------------------------
packages=(runc conmon iproute2 nftables iptables util-linux busybox-static tini uidmap ca-certificates python3 make g++ tar)
# The addon links libnftables, so published-port rules need no `nft` process (it builds without it).
packages+=(libnftables-dev)
# Test peers: Debian's registry server and skopeo (a third-party client agreeing with hako's
# registry), htpasswd and openssl for their auth, a static libc for the test's tiny UDP echo, and
# debootstrap, which `hako image bootstrap` drives to make Debian base images.
packages+=(docker-registry skopeo apache2-utils openssl gcc libc6-dev debootstrap wget)
# Debian's docker-compose (1.29, Python, on docker-py): Compose and docker-py against hakod, unchanged.
packages+=(docker-compose)
# The compatibility tests drive hakod with the real docker CLI. Machines of this project ship
# one; where none is installed, Debian's docker.io provides the client (its daemon is not used).
command -v docker >/dev/null 2>&1 || packages+=(docker.io)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  step "apt-get update" apt-get update -q
  step "apt-get install ${missing[*]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# ---- node ----------------------------------------------------------------------------------------
# hako needs Node 20 or newer. Debian 12's own nodejs is 18, too old, so it cannot be the fallback:
# say so instead of installing something that will not run.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup: node and npm (Node.js >= 20) are needed and not installed." >&2
  echo "       Debian 12's nodejs package is 18 (too old); install Node.js 20 (e.g. NodeSource's nodejs) and run this again." >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
  echo "setup: node $(node -v) is too old; hako needs Node.js >= 20 (Debian 12's nodejs is 18: install Node.js 20)." >&2
  exit 1
fi

# ---- 2. npm dependencies ------------------------------------------------------------------------
# `npm ci` wipes node_modules and recompiles better-sqlite3 (about a minute), so it runs only when
# what it depends on changed: package.json, the lockfile, the node version.
stamp_file="node_modules/.hako-setup-stamp"
stamp="$( { node -v; cat package.json package-lock.json; } | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp_file" || "$(cat "$stamp_file")" != "$stamp" ]]; then
  echo "setup: npm ci (compiles better-sqlite3; about a minute)"
  step "npm ci" npm ci --no-audit --no-fund
  # npm >= 11 runs dependencies' install scripts only when package.json allows them
  # ("allowScripts"): check that the native module really was built.
  step "check better-sqlite3 native build" node -e "new (require('better-sqlite3'))(':memory:').close()"
  echo "$stamp" >"$stamp_file"
fi

# The N-API addon in native/ is compiled by npm ci (package.json "install" runs
# scripts/build-native.sh); rebuild it when it is missing or older than its sources.
addon=native/build/Release/hako_native.node
if [[ -f native/binding.gyp ]]; then
  if [[ ! -f "$addon" ]] || [[ -n "$(find native -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' -o -name '*.gyp' \) -newer "$addon")" ]]; then
    echo "setup: building the native addon (native/)"
    step "build native addon (scripts/build-native.sh)" bash scripts/build-native.sh
  fi
fi

# ---- 3. build -----------------------------------------------------------------------------------
echo "setup: npm run build"
step "npm run build (tsc)" npm run build --silent
[[ -f dist/src/cli/main.js && -f dist/src/daemon/main.js ]] || { : >"$log"; fail "build output (dist/src/cli/main.js, dist/src/daemon/main.js missing)"; }
echo "setup: done"
