#!/usr/bin/env python3
"""docker-py 7.1 against an engine's API socket: what a Python program does with the Docker SDK.

    python3 Tests/Scripts/api/dockerpy_test.py DOCKER_HOST      e.g. unix:///run/berth/berth.sock

Prints "PASS: ..." / "FAIL: ..." per test and "N passed, N failed"; exits non-zero on a failure.
API_TEST_REGISTRY=127.0.0.1:PORT names a registry holding busybox:latest (run-all.sh starts one;
without it this script starts its own with Tests/Scripts/registry/registry.sh). Published ports are
reached at 127.0.0.1: run it in the network namespace where the engine publishes them.
Everything it makes is named py-* or api-py/* and labelled berth-api-test=py (or =py-prune);
prunes are filtered by those labels. Needs root, docker==7.1.0 (pip), skopeo and umoci (to seed
a registry of its own).
"""
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import threading
import time
import unittest
import urllib.request

# Where install-clients.sh puts docker-py when python3 is Debian's own (PEP 668).
_pylib = os.environ.get("API_TEST_PYLIB", "/var/lib/berth-api-tests/python")
if os.path.isdir(_pylib):
    sys.path.insert(0, _pylib)

import docker  # noqa: E402
from docker.types import IPAMConfig, IPAMPool  # noqa: E402
from docker.utils.socket import frames_iter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
BASE = os.environ.get("API_TEST_BASE", "/var/tmp/berth-api-tests")
L = {"berth-api-test": "py"}
LP = {"berth-api-test": "py-prune"}
LABEL = "berth-api-test=py"
LABEL_PRUNE = "berth-api-test=py-prune"

HOST = None
REG = None
IMG = None
client = None


def start_registry():
    """The registry and its busybox: API_TEST_REGISTRY, or one of our own (stopped at exit)."""
    global REG, IMG
    reg = os.environ.get("API_TEST_REGISTRY")
    regdir = os.path.join(BASE, "registry-py")
    if not reg:
        reg = subprocess.run([os.path.join(REPO, "Tests/Scripts/registry/registry.sh"), "start", regdir],
                             check=True, capture_output=True, text=True).stdout.strip()
    REG, IMG = reg, reg + "/busybox:latest"
    req = urllib.request.Request(f"http://{reg}/v2/busybox/manifests/latest",
                                 headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except Exception:
        layout = os.path.join(BASE, "busybox-layout-py")
        subprocess.run([os.path.join(REPO, "Tests/Scripts/registry/make-busybox-image.sh"), layout],
                       check=True, capture_output=True)
        subprocess.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{layout}:latest",
                        f"docker://{IMG}"], check=True, capture_output=True)
        subprocess.run(["rm", "-rf", layout], check=True)
    return None if os.environ.get("API_TEST_REGISTRY") else regdir


def cleanup():
    """Removes everything of ours (also what a killed earlier run left). An engine that lacks an
    endpoint fails the tests that need it, not the whole run: errors here are only printed."""
    def each(what, listing, remove):
        try:
            items = listing()
        except docker.errors.APIError as e:
            print(f"cleanup: listing {what}: {e}")
            return
        for item in items:
            try:
                remove(item)
            except docker.errors.APIError:
                pass

    for lab in (LABEL, LABEL_PRUNE):
        each("containers", lambda: client.containers.list(all=True, filters={"label": lab}),
             lambda c: c.remove(force=True, v=True))
        each("networks", lambda: client.networks.list(filters={"label": lab}), lambda n: n.remove())
        each("volumes", lambda: client.volumes.list(filters={"label": lab}), lambda v: v.remove(force=True))
    each("images", lambda: [t for i in client.images.list() for t in i.tags if "api-py/" in t or (IMG and t == IMG)],
         lambda t: client.images.remove(t, force=True))
    try:
        client.images.prune(filters={"dangling": True, "label": LABEL_PRUNE})
    except docker.errors.APIError as e:
        print(f"cleanup: image prune: {e}")


def run_d(*cmd, name=None, **kw):
    """A detached container of ours running CMD (a shell command string or an argv)."""
    labels = kw.pop("labels", L)
    if len(cmd) == 1 and isinstance(cmd[0], str):
        cmd = ["sh", "-c", cmd[0]]
    return client.containers.run(IMG, list(cmd), detach=True, name=name, labels=labels, **kw)


def wait_until(pred, timeout=30.0, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def tar_of(files):
    """An in-memory tar of {name: bytes}."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            t.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


def http_get(url, timeout=20.0):
    deadline = time.time() + timeout
    err = None
    while time.time() < deadline:
        try:
            return urllib.request.urlopen(url, timeout=5).read()
        except Exception as e:  # not up yet
            err = e
            time.sleep(0.2)
    raise AssertionError(f"GET {url}: {err}")


WEB = 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'


class T01System(unittest.TestCase):
    def test_ping(self):
        self.assertTrue(client.ping())

    def test_version(self):
        v = client.version()
        self.assertEqual(v["Os"], "linux")
        self.assertRegex(v["ApiVersion"], r"^1\.\d+$")
        self.assertIn("MinAPIVersion", v)
        self.assertTrue(v["Version"])

    def test_info(self):
        i = client.info()
        self.assertEqual(i["OSType"], "linux")
        for k in ("Containers", "ContainersRunning", "Images", "NCPU", "MemTotal"):
            self.assertIsInstance(i[k], int, k)
        self.assertTrue(i["ServerVersion"])

    def test_df(self):
        df = client.df()
        for k in ("LayersSize", "Images", "Containers", "Volumes"):
            self.assertIn(k, df)
        self.assertIsInstance(df["Images"], list)
        self.assertTrue(any(IMG in (im.get("RepoTags") or []) for im in df["Images"]), "busybox in system df")


class T02Images(unittest.TestCase):
    def test_pull_inspect_history(self):
        img = client.images.pull(REG + "/busybox", tag="latest")
        self.assertIn(IMG, img.tags)
        self.assertEqual(img.attrs["Config"]["Cmd"], ["sh"])
        self.assertEqual(img.attrs["Os"], "linux")
        self.assertTrue(img.id.startswith("sha256:"))
        self.assertEqual(img.short_id, img.id[:19])
        self.assertTrue(any(d.startswith(REG + "/busybox@sha256:") for d in img.attrs["RepoDigests"]))
        h = img.history()
        self.assertGreaterEqual(len(h), 1)
        self.assertIn("CreatedBy", h[0])
        self.assertEqual(client.images.get(IMG).id, img.id)

    def test_tag_push_list_remove(self):
        img = client.images.get(IMG)
        repo = REG + "/api-py/busybox"
        self.assertTrue(img.tag(repo, "v1"))
        out = list(client.images.push(repo, "v1", stream=True, decode=True))
        self.assertFalse([m for m in out if "error" in m or "errorDetail" in m], out)
        aux = [m["aux"] for m in out if "aux" in m]
        self.assertEqual(len(aux), 1, out)
        self.assertEqual(aux[0]["Tag"], "v1")
        self.assertRegex(aux[0]["Digest"], r"^sha256:[0-9a-f]{64}$")
        tags = json.load(urllib.request.urlopen(f"http://{REG}/v2/api-py/busybox/tags/list"))
        self.assertEqual(tags["tags"], ["v1"])
        self.assertEqual([i.id for i in client.images.list(name=repo)], [img.id])
        # The list itself names only the tags and digests the reference filter matches.
        listed = client.api.images(filters={"reference": repo + ":v1"})
        self.assertEqual([(i["Id"], i["RepoTags"]) for i in listed], [(img.id, [repo + ":v1"])])
        client.images.remove(repo + ":v1")
        self.assertEqual(client.images.list(name=repo), [])
        with self.assertRaises(docker.errors.ImageNotFound):
            client.images.get(repo + ":v1")
        # pull it back by digest: the digest the push reported
        again = client.images.pull(repo + "@" + aux[0]["Digest"])
        self.assertEqual(again.id, img.id)

    def test_save_load(self):
        built, _ = client.images.build(fileobj=io.BytesIO(f"FROM {IMG}\nRUN echo saved > /saved\n".encode()),
                                       tag="api-py/saved:1", rm=True, labels=L)
        data = b"".join(built.save(named="api-py/saved:1"))
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            self.assertIn("manifest.json", t.getnames())
            manifest = json.load(t.extractfile("manifest.json"))
        self.assertEqual(manifest[0]["RepoTags"], ["api-py/saved:1"])
        self.assertEqual(len(manifest[0]["Layers"]), 2)
        client.images.remove("api-py/saved:1")
        with self.assertRaises(docker.errors.ImageNotFound):
            client.images.get(built.id)  # gone for real: load must bring it back
        loaded = client.images.load(data)
        self.assertEqual([(i.id, i.tags) for i in loaded], [(built.id, ["api-py/saved:1"])])
        self.assertEqual(client.containers.run("api-py/saved:1", ["cat", "/saved"], remove=True, labels=L), b"saved\n")

    def test_missing_image(self):
        with self.assertRaises(docker.errors.ImageNotFound):
            client.images.get("api-py/nosuch:1")
        with self.assertRaises(docker.errors.NotFound):
            client.images.pull(REG + "/api-py/nosuch", tag="1")

    def test_prune_dangling(self):
        df = f"FROM {IMG}\nLABEL berth-api-test=py-prune\nRUN echo %s > /v\n"
        first, _ = client.images.build(fileobj=io.BytesIO((df % "one").encode()), tag="api-py/dangle:1", rm=True)
        client.images.build(fileobj=io.BytesIO((df % "two").encode()), tag="api-py/dangle:1", rm=True)
        dangling = client.images.list(filters={"dangling": True, "label": LABEL_PRUNE})
        self.assertEqual([i.id for i in dangling], [first.id])
        r = client.images.prune(filters={"dangling": True, "label": LABEL_PRUNE})
        self.assertIn({"Deleted": first.id}, r["ImagesDeleted"] or [])
        self.assertIsInstance(r["SpaceReclaimed"], int)
        with self.assertRaises(docker.errors.ImageNotFound):
            client.images.get(first.id)


DOCKERFILE = b"""ARG BASE
FROM $BASE AS base
ARG MSG=default
RUN echo "$MSG" > /msg
COPY file.txt /file.txt
FROM base AS final
ENV STAGE=final
LABEL stage=final
CMD ["sh", "-c", "cat /msg /file.txt; echo $STAGE"]
FROM base AS unused
RUN exit 1
"""


class T03Build(unittest.TestCase):
    def test_build_stream_target_buildargs_labels(self):
        ctx = tar_of({"Dockerfile": DOCKERFILE, "file.txt": b"from the context\n"})
        out = list(client.api.build(fileobj=ctx, custom_context=True, tag="api-py/built:1", rm=True,
                                    buildargs={"BASE": IMG, "MSG": "from buildargs"},
                                    labels={"berth-api-test": "py", "extra": "yes"},
                                    target="final", decode=True))
        self.assertFalse([m for m in out if "error" in m], out)
        stream = "".join(m.get("stream", "") for m in out)
        self.assertIn("Step 1/", stream)
        self.assertIn("Successfully tagged api-py/built:1", stream)
        self.assertNotIn("exit 1", stream)  # the stage after the target is not built
        # dockerd sends an {"aux": {"ID"}} at the end of each stage it builds; the last is the image.
        ids = [m["aux"]["ID"] for m in out if "aux" in m and "ID" in m["aux"]]
        self.assertTrue(ids, out)
        img = client.images.get("api-py/built:1")
        self.assertEqual(img.id, ids[-1])
        self.assertEqual(img.labels, {"berth-api-test": "py", "extra": "yes", "stage": "final"})
        self.assertIn("STAGE=final", img.attrs["Config"]["Env"])
        out = client.containers.run(img.id, remove=True, labels=L)
        self.assertEqual(out, b"from buildargs\nfrom the context\nfinal\n")

    def test_build_high_level_and_error(self):
        img, logs = client.images.build(fileobj=io.BytesIO(f"FROM {IMG}\nRUN echo hi > /hi\n".encode()),
                                        tag="api-py/hl:1", rm=True, labels=L)
        self.assertIn("api-py/hl:1", img.tags)
        self.assertTrue(any("Successfully built" in m.get("stream", "") for m in logs))
        with self.assertRaises(docker.errors.BuildError) as e:
            client.images.build(fileobj=io.BytesIO(f"FROM {IMG}\nRUN exit 9\n".encode()), rm=True)
        self.assertIn("returned a non-zero code: 9", str(e.exception))


class T04Containers(unittest.TestCase):
    def test_run_output_and_error(self):
        self.assertEqual(client.containers.run(IMG, ["echo", "hello"], remove=True, labels=L), b"hello\n")
        with self.assertRaises(docker.errors.ContainerError) as e:
            client.containers.run(IMG, ["sh", "-c", "echo oops >&2; exit 3"], remove=True, labels=L)
        self.assertEqual(e.exception.exit_status, 3)
        self.assertIn(b"oops", e.exception.stderr)

    def test_create_start_labels_env_ports(self):
        c = client.containers.create(IMG, ["sh", "-c", WEB], name="py-web", hostname="pyweb",
                                     environment={"FOO": "bar"}, labels={**L, "role": "web"},
                                     ports={"80/tcp": ("127.0.0.1", None)})
        self.assertEqual(c.status, "created")
        c.start()
        c.reload()
        self.assertEqual(c.status, "running")
        self.assertEqual(c.name, "py-web")
        self.assertEqual(c.labels, {**L, "role": "web"})
        self.assertIn("FOO=bar", c.attrs["Config"]["Env"])
        binding = c.ports["80/tcp"][0]
        self.assertEqual(binding["HostIp"], "127.0.0.1")
        self.assertEqual(http_get(f"http://127.0.0.1:{binding['HostPort']}/"), b"hello from pyweb\n")
        listed = client.containers.list(filters={"label": "role=web"})
        self.assertEqual([x.id for x in listed], [c.id])
        ps = client.api.containers(filters={"name": "py-web"})[0]
        self.assertEqual(ps["Names"], ["/py-web"])
        self.assertEqual(ps["Ports"], [{"IP": "127.0.0.1", "PrivatePort": 80,
                                        "PublicPort": int(binding["HostPort"]), "Type": "tcp"}])
        self.assertIsInstance(ps["Created"], int)
        self.assertEqual(c.top()["Titles"][-1], "CMD")
        self.assertTrue(any("httpd" in p[-1] for p in c.top()["Processes"]))
        c.remove(force=True)
        with self.assertRaises(docker.errors.NotFound):
            client.containers.get("py-web")

    def test_wait_and_list_filters(self):
        c = run_d("exit 7", name="py-exit7")
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 7)
        exited = client.containers.list(all=True, filters={"label": LABEL, "status": "exited", "name": "py-exit7"})
        self.assertEqual([x.id for x in exited], [c.id])
        self.assertEqual(client.containers.list(filters={"name": "py-exit7"}), [])
        c.remove()

    def test_logs_stream_follow(self):
        c = run_d("for i in 1 2 3; do echo line$i; sleep 0.5; done; echo err >&2", name="py-follow")
        t0 = time.time()
        chunks = list(c.logs(stream=True, follow=True))
        self.assertGreater(time.time() - t0, 0.5)
        self.assertEqual(b"".join(chunks), b"line1\nline2\nline3\nerr\n")
        self.assertEqual(c.logs(stderr=False), b"line1\nline2\nline3\n")
        self.assertEqual(c.logs(stdout=False), b"err\n")
        # tail counts the lines of both streams, before stderr is left out (as dockerd does)
        self.assertEqual(c.logs(stderr=False, tail=2), b"line3\n")
        ts = c.logs(stderr=False, timestamps=True).splitlines()[0]
        self.assertRegex(ts.decode(), r"^\d{4}-\d\d-\d\dT[\d:.]+Z line1$")
        c.remove()

    def test_attach_socket(self):
        c = client.containers.create(IMG, ["sh", "-c", "cat; echo bye >&2"], stdin_open=True, labels=L,
                                     name="py-attach")
        c.start()
        sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        raw = sock._sock
        raw.settimeout(20)
        raw.sendall(b"hello over the hijacked socket\n")
        raw.shutdown(socket.SHUT_WR)  # stdin closed: cat ends
        frames = list(frames_iter(sock, tty=False))
        raw.close()
        self.assertEqual(frames, [(1, b"hello over the hijacked socket\n"), (2, b"bye\n")])
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 0)
        c.remove()

    def test_attach_tty(self):
        c = client.containers.create(IMG, ["sh", "-c", "read x; echo got $x; test -t 0 && echo tty"],
                                     stdin_open=True, tty=True, labels=L, name="py-attach-tty")
        c.start()
        sock = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
        raw = sock._sock
        raw.settimeout(20)
        raw.sendall(b"word\n")
        data = b""
        while b"tty\r\n" not in data:
            chunk = raw.recv(4096)
            if not chunk:
                break
            data += chunk
        raw.close()
        self.assertIn(b"got word\r\n", data)  # raw, no 8-byte frames with a tty
        self.assertIn(b"tty\r\n", data)
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 0)
        c.remove()

    def test_stats(self):
        c = run_d("exec sleep 600", name="py-stats")
        s = c.stats(stream=False)
        for k in ("read", "preread", "cpu_stats", "precpu_stats", "memory_stats", "pids_stats"):
            self.assertIn(k, s)
        self.assertEqual(s["name"], "/py-stats")
        self.assertEqual(s["id"], c.id)
        self.assertGreater(s["memory_stats"]["usage"], 0)
        self.assertGreaterEqual(s["cpu_stats"]["online_cpus"], 1)
        self.assertGreater(s["cpu_stats"]["cpu_usage"]["total_usage"], 0)
        g = c.stats(stream=True, decode=True)
        first, second = next(g), next(g)
        g.close()
        self.assertEqual(second["precpu_stats"]["cpu_usage"]["total_usage"], first["cpu_stats"]["cpu_usage"]["total_usage"])
        c.remove(force=True)

    def test_archive_export_diff_commit(self):
        c = run_d("rm /etc/group; exec sleep 600", name="py-fs")
        self.assertTrue(c.put_archive("/tmp", tar_of({"put.txt": b"put content\n", "dir/sub.txt": b"sub\n"})))
        self.assertEqual(c.exec_run(["cat", "/tmp/put.txt", "/tmp/dir/sub.txt"]).output, b"put content\nsub\n")
        stream, stat = c.get_archive("/tmp/put.txt")
        self.assertEqual((stat["name"], stat["size"]), ("put.txt", 12))
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as t:
            self.assertEqual(t.extractfile("put.txt").read(), b"put content\n")
        with self.assertRaises(docker.errors.NotFound):
            c.get_archive("/nosuch")
        exported = b"".join(c.export())
        with tarfile.open(fileobj=io.BytesIO(exported)) as t:
            names = set(t.getnames())
        self.assertIn("bin/busybox", names)
        self.assertIn("tmp/put.txt", names)
        self.assertNotIn("etc/group", names)
        diff = {(d["Path"], d["Kind"]) for d in c.diff()}
        self.assertIn(("/tmp/put.txt", 1), diff)
        self.assertIn(("/etc/group", 2), diff)
        self.assertIn(("/tmp", 0), diff)
        img = c.commit(repository="api-py/committed", tag="1", changes=["LABEL committed=yes"],
                       conf={"Cmd": ["cat", "/tmp/put.txt"]})
        self.assertEqual(img.labels.get("committed"), "yes")
        self.assertEqual(client.containers.run(img.id, remove=True, labels=L), b"put content\n")
        c.remove(force=True)

    def test_rename_update_pause_restart_kill_stop(self):
        c = run_d("trap 'exit 7' USR1; trap 'exit 0' TERM; sleep 600 & wait", name="py-life")
        c.rename("py-life2")
        c.reload()
        self.assertEqual(c.name, "py-life2")
        c.update(mem_limit="64m", memswap_limit="128m", cpu_shares=512)
        c.reload()
        self.assertEqual((c.attrs["HostConfig"]["Memory"], c.attrs["HostConfig"]["CpuShares"]), (64 << 20, 512))
        c.pause()
        c.reload()
        self.assertEqual(c.status, "paused")
        with self.assertRaises(docker.errors.APIError) as e:
            c.exec_run("true")
        self.assertEqual(e.exception.status_code, 409)
        c.unpause()
        c.reload()
        self.assertEqual(c.status, "running")
        started = c.attrs["State"]["StartedAt"]
        c.restart(timeout=5)
        c.reload()
        self.assertEqual(c.status, "running")
        self.assertNotEqual(c.attrs["State"]["StartedAt"], started)
        time.sleep(0.3)  # the traps are set
        c.kill(signal="SIGUSR1")
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 7)
        c.start()
        time.sleep(0.3)
        c.stop(timeout=5)
        c.reload()
        self.assertEqual((c.status, c.attrs["State"]["ExitCode"]), ("exited", 0))
        client.api.stop(c.id)  # already stopped: no error for docker-py
        self.assertEqual(client.api._post(client.api._url("/containers/{0}/stop", c.id)).status_code, 304)
        c.start()
        c.kill()
        self.assertEqual(c.wait(timeout=30)["StatusCode"], 137)
        c.remove()

    def test_remove_running_refused(self):
        c = run_d("exec sleep 600", name="py-running")
        with self.assertRaises(docker.errors.APIError) as e:
            c.remove()
        self.assertEqual(e.exception.status_code, 409)
        c.remove(force=True)

    def test_name_conflict(self):
        c = client.containers.create(IMG, "true", name="py-dup", labels=L)
        with self.assertRaises(docker.errors.APIError) as e:
            client.containers.create(IMG, "true", name="py-dup", labels=L)
        self.assertEqual(e.exception.status_code, 409)
        c.remove()

    def test_prune(self):
        done = client.containers.run(IMG, "true", detach=True, labels=LP, name="py-prune-done")
        done.wait(timeout=30)
        running = client.containers.run(IMG, ["sleep", "600"], detach=True, labels=LP, name="py-prune-running")
        r = client.containers.prune(filters={"label": LABEL_PRUNE})
        self.assertEqual(r["ContainersDeleted"], [done.id])
        self.assertIsInstance(r["SpaceReclaimed"], int)
        self.assertEqual([c.id for c in client.containers.list(all=True, filters={"label": LABEL_PRUNE})], [running.id])
        running.remove(force=True)


class T05Exec(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = run_d("exec sleep 600", name="py-exec")

    @classmethod
    def tearDownClass(cls):
        cls.c.remove(force=True)

    def test_exec_run(self):
        r = self.c.exec_run("echo hi")
        self.assertEqual((r.exit_code, r.output), (0, b"hi\n"))
        self.assertEqual(self.c.exec_run(["sh", "-c", "exit 4"]).exit_code, 4)
        r = self.c.exec_run(["sh", "-c", "echo $FOO $PWD $(id -u)"], environment={"FOO": "bar"},
                            workdir="/tmp", user="65534")
        self.assertEqual(r.output, b"bar /tmp 65534\n")

    def test_exec_demux(self):
        r = self.c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
        self.assertEqual(r.output, (b"out\n", b"err\n"))
        r = self.c.exec_run(["sh", "-c", "echo out"], demux=True)
        self.assertEqual(r.output, (b"out\n", None))

    def test_exec_stream(self):
        r = self.c.exec_run(["sh", "-c", "for i in 1 2 3; do echo s$i; sleep 0.3; done"], stream=True)
        self.assertIsNone(r.exit_code)
        self.assertEqual(b"".join(r.output), b"s1\ns2\ns3\n")
        r = self.c.exec_run(["sh", "-c", "echo o; echo e >&2"], stream=True, demux=True)
        got = list(r.output)
        self.assertEqual(b"".join(o for o, _ in got if o), b"o\n")
        self.assertEqual(b"".join(e for _, e in got if e), b"e\n")

    def test_exec_tty(self):
        r = self.c.exec_run(["sh", "-c", "test -t 1 && echo tty"], tty=True)
        self.assertEqual((r.exit_code, r.output), (0, b"tty\r\n"))

    def test_exec_low_level(self):
        e = client.api.exec_create(self.c.id, ["sh", "-c", "echo low; exit 3"])
        self.assertEqual(client.api.exec_start(e["Id"]), b"low\n")
        i = client.api.exec_inspect(e["Id"])
        self.assertEqual((i["Running"], i["ExitCode"], i["ContainerID"]), (False, 3, self.c.id))
        e = client.api.exec_create(self.c.id, ["sh", "-c", "echo detached > /tmp/d"])
        self.assertFalse(client.api.exec_start(e["Id"], detach=True))
        self.assertTrue(wait_until(lambda: self.c.exec_run("cat /tmp/d").output == b"detached\n", 10))
        with self.assertRaises(docker.errors.NotFound):
            client.api.exec_inspect("nosuchexec")


class T06Networks(unittest.TestCase):
    def test_network_lifecycle(self):
        ipam = IPAMConfig(pool_configs=[IPAMPool(subnet="10.213.232.0/24", gateway="10.213.232.1")])
        net = client.networks.create("py-net", driver="bridge", ipam=ipam, labels=L, check_duplicate=True)
        self.assertEqual(net.attrs["IPAM"]["Config"], [{"Subnet": "10.213.232.0/24", "Gateway": "10.213.232.1"}])
        self.assertEqual(net.attrs["Labels"], L)
        self.assertEqual([n.id for n in client.networks.list(names=["py-net"])], [net.id])
        self.assertEqual([n.name for n in client.networks.list(filters={"label": LABEL})], ["py-net"])
        srv = run_d(WEB, name="py-srv", hostname="pysrv")
        net.connect(srv, ipv4_address="10.213.232.10", aliases=["py-alias"])
        net.reload()
        self.assertEqual([c.id for c in net.containers], [srv.id])
        srv.reload()
        self.assertEqual(srv.attrs["NetworkSettings"]["Networks"]["py-net"]["IPAddress"], "10.213.232.10")
        get = "for i in $(seq 1 50); do wget -qO- http://$0/ 2>/dev/null && exit 0; sleep 0.2; done; exit 1"
        for name in ("py-srv", "py-alias"):
            out = client.containers.run(IMG, ["sh", "-c", get, name], network="py-net", remove=True, labels=L)
            self.assertEqual(out, b"hello from pysrv\n", name)
        with self.assertRaises(docker.errors.APIError):
            net.remove()  # in use
        net.disconnect(srv)
        srv.reload()
        self.assertNotIn("py-net", srv.attrs["NetworkSettings"]["Networks"])
        net.reload()
        self.assertEqual(net.containers, [])
        net.remove()
        with self.assertRaises(docker.errors.NotFound):
            client.networks.get("py-net")
        srv.remove(force=True)

    def test_prune(self):
        n = client.networks.create("py-net-prune", labels=LP)
        r = client.networks.prune(filters={"label": LABEL_PRUNE})
        self.assertEqual(r["NetworksDeleted"], ["py-net-prune"])
        with self.assertRaises(docker.errors.NotFound):
            client.networks.get(n.id)


class T07Volumes(unittest.TestCase):
    def test_volume_lifecycle(self):
        v = client.volumes.create("py-vol", driver="local", labels={**L, "extra": "1"})
        self.assertEqual((v.name, v.attrs["Driver"], v.attrs["Labels"]), ("py-vol", "local", {**L, "extra": "1"}))
        self.assertEqual([x.name for x in client.volumes.list(filters={"label": "extra=1"})], ["py-vol"])
        self.assertEqual([x.name for x in client.volumes.list(filters={"name": "py-vol"})], ["py-vol"])
        client.containers.run(IMG, ["sh", "-c", "echo data > /v/f"], volumes={"py-vol": {"bind": "/v", "mode": "rw"}},
                              remove=True, labels=L)
        self.assertEqual(client.containers.run(IMG, ["cat", "/v/f"], volumes=["py-vol:/v:ro"], remove=True, labels=L),
                         b"data\n")
        self.assertEqual(client.volumes.get("py-vol").attrs["Mountpoint"], v.attrs["Mountpoint"])
        user = client.containers.create(IMG, "true", volumes=["py-vol:/v"], labels=L)
        with self.assertRaises(docker.errors.APIError) as e:
            v.remove()
        self.assertEqual(e.exception.status_code, 409)
        user.remove()
        v.remove()
        with self.assertRaises(docker.errors.NotFound):
            client.volumes.get("py-vol")

    def test_prune(self):
        client.volumes.create("py-vol-prune", labels=LP)
        # From API 1.42 on, prune takes named volumes only with all=true (Docker 23+).
        api = tuple(int(x) for x in client.version()["ApiVersion"].split("."))
        r = client.volumes.prune(filters={"label": LABEL_PRUNE, **({"all": "true"} if api >= (1, 42) else {})})
        self.assertEqual(r["VolumesDeleted"], ["py-vol-prune"])
        self.assertIsInstance(r["SpaceReclaimed"], int)


class T08Events(unittest.TestCase):
    def test_events_since_until(self):
        since = int(time.time())
        c = client.containers.run(IMG, "true", detach=True, name="py-ev", labels=L)
        c.wait(timeout=30)
        c.remove()
        time.sleep(1.1)
        until = int(time.time())
        evs = list(client.events(since=since, until=until, decode=True,
                                 filters={"container": "py-ev", "type": "container"}))
        self.assertEqual([e["Action"] for e in evs], ["create", "start", "die", "destroy"])
        for e in evs:
            self.assertEqual((e["Type"], e["Actor"]["ID"], e["id"], e["status"]), ("container", c.id, c.id, e["Action"]))
            self.assertEqual((e["from"], e["Actor"]["Attributes"]["name"]), (IMG, "py-ev"))
            self.assertEqual(e["Actor"]["Attributes"]["berth-api-test"], "py")
            self.assertEqual(e["time"], e["timeNano"] // 10**9)
            self.assertTrue(since <= e["time"] <= until)
        self.assertEqual(evs[2]["Actor"]["Attributes"]["exitCode"], "0")

    def test_events_live(self):
        # The generator's request is answered (headers) before any event: docker-py blocks until then.
        result = {}

        def listen():
            gen = client.events(decode=True, filters={"label": "py-live=1", "event": ["start", "die"]})
            result["open"] = True
            result["events"] = []
            for e in gen:
                result["events"].append(e["Action"])
                if len(result["events"]) == 2:
                    break
            gen.close()

        th = threading.Thread(target=listen, daemon=True)
        th.start()
        self.assertTrue(wait_until(lambda: result.get("open"), 10), "events did not answer at once")
        c = client.containers.run(IMG, "true", detach=True, labels={**L, "py-live": "1"})
        th.join(30)
        self.assertEqual(result.get("events"), ["start", "die"])
        c.remove(force=True)


class Result(unittest.TextTestResult):
    passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        Result.passed += 1
        self.stream.writeln(f"PASS: {test.id().replace('__main__.', '')}")

    def _fail(self, test, err, what):
        # (a failed setUpClass is reported as one error for its class)
        self.stream.writeln(f"FAIL: {test.id().replace('__main__.', '')} ({what})")
        for line in self._exc_info_to_string(err, test).rstrip().splitlines()[-12:]:
            self.stream.writeln("    " + line)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._fail(test, err, "failure")

    def addError(self, test, err):
        super().addError(test, err)
        self._fail(test, err, "error")


def main():
    global HOST, client
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    HOST = sys.argv[1]
    t0 = time.time()
    assert docker.__version__ == "7.1.0", f"docker-py {docker.__version__}, not 7.1.0"
    client = docker.DockerClient(base_url=HOST, timeout=120)
    regdir = start_registry()
    try:
        cleanup()
        try:
            client.images.pull(IMG)
        except docker.errors.APIError as e:  # the tests that need the image fail, one by one
            print(f"pull {IMG}: {e}")
        suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
        runner = unittest.TextTestRunner(resultclass=Result, verbosity=0, stream=sys.stdout)
        res = runner.run(suite)
    finally:
        try:
            cleanup()
        finally:
            if regdir:
                subprocess.run([os.path.join(REPO, "Tests/Scripts/registry/registry.sh"), "stop", regdir])
                subprocess.run(["rm", "-rf", regdir])
    failed = len(res.failures) + len(res.errors)
    print(f"dockerpy_test.py: {time.time() - t0:.0f} s against {HOST}")
    print(f"{Result.passed} passed, {failed} failed")
    return 0 if failed == 0 and Result.passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
