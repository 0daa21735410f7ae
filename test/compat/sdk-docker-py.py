"""docker-py (the `docker` Python SDK) against hakod, run by sdk-docker-py.test.ts.

DOCKER_HOST points at a test hakod with busybox:latest. Every step runs even when an earlier one
failed, and prints one JSON line: {"step": name, "ok": true} or {"step": name, "ok": false,
"error": traceback}. The TypeScript test turns each line into an assertion.
"""
import io
import json
import os
import socket
import tarfile
import time
import traceback
import urllib.request

import docker

client = docker.from_env(version="auto", timeout=60)
PREFIX = "sdkpy"
state = {}


def step(fn):
    try:
        fn()
        print(json.dumps({"step": fn.__name__, "ok": True}), flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, the next step still runs
        print(json.dumps({"step": fn.__name__, "ok": False, "error": traceback.format_exc()}), flush=True)
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


@step
def version_and_info():
    v = client.version()
    check(v["ApiVersion"] == "1.47", f"ApiVersion {v.get('ApiVersion')}")
    check(v["Os"] == "linux", f"Os {v.get('Os')}")
    info = client.info()
    check(isinstance(info["Containers"], int), f"info {info}")
    check(info["Images"] >= 1, f"Images {info.get('Images')}")
    check(client.ping() is True, "ping")
    check(client.plugins.list() == [], "plugins")
    try:
        client.swarm.reload()
        raise AssertionError("swarm inspect answered outside a swarm")
    except docker.errors.APIError as e:
        check(e.status_code == 503 and "not a swarm manager" in str(e), f"swarm: {e}")


@step
def images_list_get_tag():
    tags = [t for i in client.images.list() for t in i.tags]
    check("busybox:latest" in tags, f"tags {tags}")
    img = client.images.get("busybox")
    check(img.id.startswith("sha256:"), f"id {img.id}")
    check(img.tag(f"{PREFIX}/bb", "v1") is True, "tag returned false")
    again = client.images.get(f"{PREFIX}/bb:v1")
    check(again.id == img.id, f"{again.id} != {img.id}")
    check(f"{PREFIX}/bb:v1" in again.tags, f"tags {again.tags}")
    check(client.images.list(name=f"{PREFIX}/bb")[0].id == img.id, "list(name=)")


@step
def login_push_pull():
    registry = os.environ["SDK_REGISTRY"]
    r = client.login("alice", "s3cret", registry=registry, reauth=True)
    check(r.get("Status") == "Login Succeeded", f"login {r}")
    name = f"{registry}/{PREFIX}/busybox"
    client.images.get("busybox").tag(name, "v1")
    lines = list(client.images.push(name, tag="v1", stream=True, decode=True))
    check(not any("error" in l for l in lines), f"push {lines}")
    check(any(l.get("status", "").startswith("v1: digest: sha256:") for l in lines), f"push {lines}")
    client.images.remove(f"{name}:v1")
    img = client.images.pull(name, tag="v1")
    check(img.id == client.images.get("busybox").id and f"{name}:v1" in img.tags, f"pulled {img.id} {img.tags}")


@step
def run_detached_with_ports_env_volumes_labels():
    c = client.containers.run(
        "busybox",
        ["sh", "-c", "mkdir -p /www && echo \"hello $GREETING\" > /www/index.html && echo ready && exec httpd -f -p 8080 -h /www"],
        detach=True,
        name=f"{PREFIX}-web",
        ports={"8080/tcp": ("127.0.0.1", None)},
        environment={"GREETING": "from docker-py"},
        volumes={f"{PREFIX}-vol": {"bind": "/data", "mode": "rw"}},
        labels={"sdk": "docker-py"},
    )
    state["web"] = c
    c.reload()
    check(c.status == "running", f"status {c.status}")
    check(c.labels.get("sdk") == "docker-py", f"labels {c.labels}")
    check("HostConfig" not in c.attrs["Config"], f"Config {sorted(c.attrs['Config'])}")
    check(c.attrs["HostConfig"]["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
          f"PortBindings {c.attrs['HostConfig']['PortBindings']}")
    binding = c.ports["8080/tcp"][0]
    check(binding["HostIp"] == "127.0.0.1", f"binding {binding}")
    port = int(binding["HostPort"])
    check(port > 0, f"port {port}")
    mounts = [m for m in c.attrs["Mounts"] if m["Destination"] == "/data"]
    check(mounts and mounts[0]["Name"] == f"{PREFIX}-vol", f"mounts {c.attrs['Mounts']}")
    deadline = time.time() + 10
    while True:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)
    check(body == "hello from docker-py\n", f"body {body!r}")


@step
def logs_stream():
    c = state["web"]
    check(b"ready" in c.logs(), f"logs {c.logs()!r}")
    it = c.logs(stream=True, follow=False)
    check(b"".join(it) == b"ready\n", "streamed logs")


@step
def exec_run_plain_stream_demux():
    c = state["web"]
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    check(r.exit_code == 3, f"exit {r.exit_code}")
    check(b"out" in r.output and b"err" in r.output, f"output {r.output!r}")
    r = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
    check(r.output == (b"out\n", b"err\n"), f"demux {r.output!r}")
    r = c.exec_run(["sh", "-c", "for i in 1 2 3; do echo line$i; done"], stream=True)
    check(b"".join(r.output) == b"line1\nline2\nline3\n", "stream")
    r = c.exec_run(["sh", "-c", "echo o; echo e >&2"], stream=True, demux=True)
    frames = list(r.output)
    outs = [o for o, _ in frames if o]
    errs = [e for _, e in frames if e]
    check(b"".join(outs) == b"o\n" and b"".join(errs) == b"e\n", f"{outs} {errs}")
    r = c.exec_run("env", environment={"X": "y"}, workdir="/tmp", user="nobody")
    check(b"X=y" in r.output, f"env {r.output!r}")


@step
def put_and_get_archive():
    c = state["web"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"put by docker-py\n"
        info = tarfile.TarInfo("note.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    check(c.put_archive("/data", buf.getvalue()) is True, "put_archive")
    check(c.exec_run("cat /data/note.txt").output == b"put by docker-py\n", "file in container")
    stream, stat = c.get_archive("/data/note.txt")
    check(stat["name"] == "note.txt" and stat["size"] == 17, f"stat {stat}")
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        check(tar.extractfile("note.txt").read() == b"put by docker-py\n", "tar content")


@step
def list_with_filters():
    names = [c.name for c in client.containers.list(filters={"label": "sdk=docker-py"})]
    check(names == [f"{PREFIX}-web"], f"names {names}")
    check(client.containers.list(filters={"label": "sdk=nope"}) == [], "no match")
    ids = [c.id for c in client.containers.list(filters={"status": "running", "name": f"{PREFIX}-web"})]
    check(ids == [state["web"].id], f"ids {ids}")


@step
def stop_wait_remove():
    c = state["web"]
    c.stop(timeout=2)
    r = c.wait(timeout=10)
    check("StatusCode" in r, f"wait {r}")
    c.reload()
    check(c.status == "exited", f"status {c.status}")
    c.remove(v=False)
    check(client.containers.list(all=True, filters={"name": f"{PREFIX}-web"}) == [], "removed")
    one = client.containers.run("busybox", ["sh", "-c", "exit 4"], detach=True)
    check(one.wait()["StatusCode"] == 4, "exit code")
    one.remove()
    out = client.containers.run("busybox", ["echo", "attached"], remove=True)
    check(out == b"attached\n", f"run output {out!r}")


@step
def build_from_fileobj_and_path():
    df = b"FROM busybox\nLABEL sdk=docker-py\nRUN echo built > /built.txt\nCMD [\"cat\", \"/built.txt\"]\n"
    img, logs = client.images.build(fileobj=io.BytesIO(df), tag=f"{PREFIX}/built:1", rm=True)
    check(img.labels.get("sdk") == "docker-py", f"labels {img.labels}")
    check(any("Successfully built" in (l.get("stream") or "") for l in logs), f"logs {list(logs)}")
    check(client.containers.run(img.id, remove=True) == b"built\n", "run built image")
    ctx = os.environ["SDK_WORK"]
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nCOPY hello.txt /hello.txt\n")
    with open(os.path.join(ctx, "hello.txt"), "w") as f:
        f.write("from the context\n")
    img2, _ = client.images.build(path=ctx, tag=f"{PREFIX}/built:2")
    check(client.containers.run(img2.id, ["cat", "/hello.txt"], remove=True) == b"from the context\n", "copied file")


@step
def networks_create_connect():
    net = client.networks.create(f"{PREFIX}-net", driver="bridge", labels={"sdk": "docker-py"})
    state["net"] = net
    server = client.containers.run("busybox", ["httpd", "-f", "-p", "80", "-h", "/etc"], detach=True, name=f"{PREFIX}-srv")
    state["srv"] = server
    net.connect(server, aliases=["backend"])
    net.reload()
    check([c.id for c in net.containers] == [server.id], f"containers {net.containers}")
    out = client.containers.run("busybox", ["wget", "-q", "-O", "-", "http://backend/hostname"],
                                network=f"{PREFIX}-net", remove=True)
    check(out.strip() == server.id[:12].encode(), f"wget {out!r}")
    net.disconnect(server)
    server.remove(force=True)
    net.remove()


@step
def volumes_create():
    vol = client.volumes.create(f"{PREFIX}-made", labels={"sdk": "docker-py"})
    check(vol.attrs["Driver"] == "local", f"attrs {vol.attrs}")
    names = [v.name for v in client.volumes.list(filters={"label": "sdk=docker-py"})]
    check(names == [f"{PREFIX}-made"], f"names {names}")
    vol.remove()


@step
def events_bounded_by_until():
    since = int(time.time()) - 1
    c = client.containers.create("busybox", ["true"], name=f"{PREFIX}-ev")
    c.remove()
    until = int(time.time()) + 1
    evs = list(client.events(since=since, until=until, decode=True, filters={"container": c.id}))
    actions = [e["Action"] for e in evs]
    check(actions == ["create", "destroy"], f"actions {actions}")
    check(evs[0]["Actor"]["Attributes"]["name"] == f"{PREFIX}-ev", f"event {evs[0]}")


@step
def df_and_prunes():
    df = client.df()
    check(isinstance(df["Images"], list) and isinstance(df["Containers"], list), f"df {df.keys()}")
    check(isinstance(df["LayersSize"], int), f"LayersSize {df.get('LayersSize')}")
    client.containers.create("busybox", ["true"], name=f"{PREFIX}-dead")
    r = client.containers.prune()
    check(len(r["ContainersDeleted"]) >= 1, f"containers.prune {r}")
    r = client.volumes.prune()
    check("VolumesDeleted" in r and "SpaceReclaimed" in r, f"volumes.prune {r}")
    r = client.networks.prune()
    check("NetworksDeleted" in r, f"networks.prune {r}")
    r = client.images.prune(filters={"dangling": True})
    check("ImagesDeleted" in r and "SpaceReclaimed" in r, f"images.prune {r}")
