#!/usr/bin/env bash
# README command 1: sets hako up (scripts/setup.sh), then runs demo/demo.sh, which shows hako
# running containers, as root, without the internet.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/setup.sh"
exec bash "$root/demo/demo.sh"
