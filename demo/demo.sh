#!/usr/bin/env bash
# The hako demo: containers you can watch, without the internet. Needs root and a built checkout
# (scripts/demo.sh does both). It makes a busybox image from the machine's /bin/busybox, then
# drives hako as a user would: the daemon starts by itself on first use (data in /var/lib/hako,
# socket /run/hako/hako.sock) and keeps running afterwards, like dockerd.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
unset DOCKER_HOST DOCKER_CONTEXT HAKO_HOST # the demo talks to hako's default socket, whatever the shell says
SOCK=/run/hako/hako.sock
NAME=hako-demo
WEB=hako-demo-web
VOL=hako-demo-data
PROJECT=hako-demo-compose

hako() { "$root/bin/hako" "$@"; }

if [[ -t 1 ]]; then bold=$'\e[1m'; dim=$'\e[2m'; off=$'\e[0m'; else bold=''; dim=''; off=''; fi
say() { printf '\n%s# %s%s\n' "$dim" "$*" "$off"; }
# run 'COMMAND LINE': shows it the way a user would type it, then runs it.
run() { printf '%s$ %s%s\n' "$bold" "$1" "$off"; eval "$1"; }

[[ "$(id -u)" == 0 ]] || { echo "demo: run as root (sudo bash scripts/demo.sh)" >&2; exit 1; }
[[ -f "$root/dist/src/cli/main.js" ]] || { echo "demo: hako is not built yet: run bash scripts/demo.sh" >&2; exit 1; }

work="$(mktemp -d /tmp/hako-demo.XXXXXX)"
cleanup() {
  local rc=$?
  hako rm -f "$NAME" "$WEB" >/dev/null 2>&1 || true
  hako volume rm "$VOL" >/dev/null 2>&1 || true
  hako compose -p "$PROJECT" down >/dev/null 2>&1 || true
  rm -rf "$work"
  if ((rc != 0)); then echo "demo: FAILED (exit $rc) at the command shown last" >&2; fi
}
trap cleanup EXIT
hako rm -f "$NAME" "$WEB" >/dev/null 2>&1 || true # demo containers left by an earlier, interrupted run
hako volume rm "$VOL" >/dev/null 2>&1 || true
hako compose -p "$PROJECT" down >/dev/null 2>&1 || true

say "an image without the internet: a busybox rootfs tarball from /bin/busybox, imported as busybox:demo"
say "(the first hako command starts the daemon, hakod, by itself when none is running)"
node --input-type=module -e "
  const { makeBusyboxTar } = await import('$root/dist/test/support/busybox.js');
  makeBusyboxTar(process.argv[1]);" "$work/busybox.tar"
run "hako import $work/busybox.tar busybox:demo"
run "hako images"

say "a one-shot container"
run "hako run --rm busybox:demo echo \"hello from a hako container\""

say "a long-running container in the background"
run "hako run -d --name $NAME busybox:demo sh -c 'i=0; while true; do i=\$((i+1)); echo tick \$i; sleep 1; done'"
run "hako ps"
sleep 3
run "hako logs $NAME"
run "hako exec $NAME uname -a"
run "hako exec $NAME cat /etc/hostname"
say "sh as the container's pid 1 ignores SIGTERM: like docker, stop waits 10 s, then kills it (exit 137)"
run "hako stop $NAME"
run "hako ps -a --filter name=$NAME"
run "hako rm $NAME"

say "a web server on a published port, as in docker run -d -p 8080:80 (port 8080, or a free one if taken)"
port=8080
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"); fi
run "hako run -d -p 127.0.0.1:$port:80 --name $WEB busybox:demo sh -c 'mkdir -p /www && echo \"<h1>hello from hako</h1>\" > /www/index.html && exec httpd -f -p 80 -h /www'"
run "hako port $WEB"
for _ in $(seq 50); do busybox wget -q -O /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break; sleep 0.1; done
run "busybox wget -q -O - http://127.0.0.1:$port/"
run "hako rm -f $WEB"

say "data that outlives containers: a named volume"
run "hako volume create $VOL"
run "hako run --rm -v $VOL:/data busybox:demo sh -c 'echo written by the first container > /data/note'"
run "hako run --rm -v $VOL:/data busybox:demo cat /data/note"
run "hako volume rm $VOL"

say "several services from one compose file: a web server, and a client that reaches it by its service name"
mkdir -p "$work/$PROJECT"
cat >"$work/$PROJECT/compose.yaml" <<'YAML'
services:
  web:
    image: busybox:demo
    init: true
    command: sh -c 'mkdir -p /www && echo "<h1>hello from the web service</h1>" > /www/index.html && exec httpd -f -p 80 -h /www'
  client:
    image: busybox:demo
    depends_on: [web]
    command: sh -c 'until wget -q -O - http://web/; do sleep 0.2; done'
YAML
compose="hako compose -f $work/$PROJECT/compose.yaml"
run "cat $work/$PROJECT/compose.yaml"
run "$compose up -d"
for _ in $(seq 50); do [[ "$(hako ps -aq --filter "name=$PROJECT-client-1" --filter status=exited)" ]] && break; sleep 0.1; done
run "$compose ps -a"
run "$compose logs client"
run "$compose down"

if command -v docker >/dev/null 2>&1; then
  say "the same daemon through the real docker CLI: hakod speaks the Docker Engine API"
  run "docker -H unix://$SOCK run --rm busybox:demo echo hi from docker CLI"
  run "docker -H unix://$SOCK ps -a"
else
  say "(no docker CLI installed: skipping the docker CLI part)"
fi

say "done. hakod keeps running on $SOCK; point any docker client at it with DOCKER_HOST=unix://$SOCK"
