#!/usr/bin/env python3
"""A CRI v1 client (PyPI: container-runtime-interface-api, grpcio, websocket-client) that drives
containerd's CRI plugin the way a kubelet does, for Tests/Scripts/engines/cri.sh.

    cri-client.py --socket SOCK ready
    cri-client.py --socket SOCK pods --handler H --image REF --logs DIR --cgroup-parent P --subnet NET --host-netns NS
    cri-client.py --socket SOCK after-restart --handler H ...      (same options)
    cri-client.py --socket SOCK remove-all
    cri-client.py compare-calls RUNC.log BERTH.log

`pods` runs, through runtime handler H, a pod with a hostname and containers in it (namespaces,
logs, ExecSync, Exec with a tty over the streaming server, UpdateContainerResources, ContainerStats,
a "restricted" container, an OOM kill), a shared-PID pod and a hostNetwork pod, and leaves the first
pod running; `after-restart` checks it once containerd was restarted, then stops and removes it.
Each check prints "ok - [H] NAME" or "not ok - [H] NAME" with "#   " detail lines (cri.sh counts
them); the exit status is non-zero only when the client itself failed.
`compare-calls` reads the logs of cri.sh's runtime wrappers (lib.sh's logged_runtime) and checks that
berth-runtime's exit status for every call equals runc's for the same call (ids and paths aside).
"""
import argparse
import collections
import contextlib
import ipaddress
import json
import os
import re
import shlex
import sys
import time

PROTOCOL = "v4.channel.k8s.io"
KEEP_LABEL = "berth-test/keep"
HANDLER_LABEL = "berth-test/handler"
TRAPPED_SLEEP = ["sh", "-c", 'trap "exit 0" TERM; sleep 1000 & wait']


class Checks:
    def __init__(self, handler):
        self.prefix = f"[{handler}] " if handler else ""

    def ok(self, name):
        print(f"ok - {self.prefix}{name}", flush=True)

    def not_ok(self, name, *details):
        print(f"not ok - {self.prefix}{name}", flush=True)
        for detail in details:
            for line in str(detail).splitlines() or [""]:
                print(f"#   {line}", flush=True)

    def eq(self, name, expected, actual):
        if expected == actual:
            self.ok(name)
        else:
            self.not_ok(name, f"expected: {expected!r}", f"got:      {actual!r}")

    def match(self, name, pattern, actual):
        if re.search(pattern, actual):
            self.ok(name)
        else:
            self.not_ok(name, f"expected to match: {pattern}", f"got: {actual!r}")

    def true(self, name, condition, *details):
        if condition:
            self.ok(name)
        else:
            self.not_ok(name, *details)

    @contextlib.contextmanager
    def step(self, name):
        """A part whose RPC may fail: the failure is one "not ok" line, and the script goes on."""
        try:
            yield
        except Exception as error:  # noqa: BLE001 - any failure of a step is reported, not raised
            self.not_ok(f"{name} (raised)", f"{type(error).__name__}: {error}")


def connect(socket):
    import grpc
    from cri_api import ImageServiceStub, RuntimeServiceStub

    channel = grpc.insecure_channel(f"unix://{socket}")
    return RuntimeServiceStub(channel), ImageServiceStub(channel)


def wait_until(seconds, condition, interval=0.1):
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# ---- host-side views of a container ------------------------------------------------------------


def info_pid(response):
    """The init's pid from a verbose PodSandboxStatus or ContainerStatus (containerd's "info")."""
    return json.loads(response.info["info"])["pid"]


def namespace(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def cgroup_file(pid, v1_controller, v1_file, v2_file):
    """The path of a cgroup file of the process: cgroup v1 when the controller is mounted on its
    own (hybrid, as on these VMs), else the unified hierarchy."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, controllers, path in lines:
        if v1_controller in controllers.split(",") and os.path.isdir(f"/sys/fs/cgroup/{v1_controller}"):
            return f"/sys/fs/cgroup/{v1_controller}{path}/{v1_file}"
    for hierarchy, controllers, path in lines:
        if hierarchy == "0" and controllers == "":
            return f"/sys/fs/cgroup{path}/{v2_file}"
    raise RuntimeError(f"no {v1_controller} cgroup for pid {pid}")


def read(path):
    with open(path) as f:
        return f.read().strip()


# ---- CRI helpers ----------------------------------------------------------------------------------


def pod_config(api, handler, name, args, hostname="", network=None, pid=None, labels=None):
    ns = api.NamespaceOption(network=api.POD if network is None else network,
                             pid=api.CONTAINER if pid is None else pid, ipc=api.POD)
    log_dir = os.path.join(args.logs, f"{handler}-{name}")
    os.makedirs(log_dir, exist_ok=True)
    return api.PodSandboxConfig(
        metadata=api.PodSandboxMetadata(name=f"{handler}-{name}", uid=f"uid-{handler}-{name}", namespace="berth-test", attempt=0),
        hostname=hostname,
        log_directory=log_dir,
        labels={HANDLER_LABEL: handler, **(labels or {})},
        linux=api.LinuxPodSandboxConfig(
            cgroup_parent=f"{args.cgroup_parent}/{handler}-{name}",
            security_context=api.LinuxSandboxSecurityContext(namespace_options=ns),
        ),
    )


def run_pod(rt, api, handler, config):
    return rt.RunPodSandbox(api.RunPodSandboxRequest(config=config, runtime_handler=handler), timeout=120).pod_sandbox_id


def start_container(rt, api, pod_id, pod_cfg, args, name, command, resources=None, security=None):
    # The kubelet gives each container the pod's namespace options (an unset pid mode is POD).
    security = security or api.LinuxContainerSecurityContext()
    security.namespace_options.CopyFrom(pod_cfg.linux.security_context.namespace_options)
    config = api.ContainerConfig(
        metadata=api.ContainerMetadata(name=name, attempt=0),
        image=api.ImageSpec(image=args.image),
        command=command,
        log_path=f"{name}.log",
        linux=api.LinuxContainerConfig(resources=resources, security_context=security),
    )
    cid = rt.CreateContainer(api.CreateContainerRequest(pod_sandbox_id=pod_id, config=config, sandbox_config=pod_cfg),
                             timeout=60).container_id
    rt.StartContainer(api.StartContainerRequest(container_id=cid), timeout=60)
    return cid


def container_status(rt, api, cid, verbose=False):
    return rt.ContainerStatus(api.ContainerStatusRequest(container_id=cid, verbose=verbose), timeout=30)


def exec_sync(rt, api, cid, cmd, timeout=20):
    r = rt.ExecSync(api.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=timeout), timeout=timeout + 10)
    return r.stdout.decode(), r.stderr.decode(), r.exit_code


def exec_tty(rt, api, cid, cmd):
    """Exec with a tty through the streaming server's WebSocket (channel.k8s.io v4): the output
    (channel 1) and the status the server sends on channel 3 when the process ends. The command
    reads a line before it exits, sent once its first line of output is in: containerd drops the
    tty output of an exec that exits at once (so with runc too)."""
    import websocket

    url = rt.Exec(api.ExecRequest(container_id=cid, cmd=cmd, tty=True, stdin=True, stdout=True, stderr=False), timeout=30).url
    ws = websocket.create_connection(re.sub(r"^http", "ws", url), subprotocols=[PROTOCOL], timeout=20)
    output, status, sent = b"", b"", False
    try:
        while True:
            try:
                opcode, frame = ws.recv_data()
            except websocket.WebSocketConnectionClosedException:
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE or not frame:
                break
            if frame[0] == 1:
                output += frame[1:]
            elif frame[0] == 3:
                status += frame[1:]
            if not sent and b"\n" in output:
                ws.send_binary(b"\x00\n")
                sent = True
    finally:
        ws.close()
    return output.decode(errors="replace"), json.loads(status) if status else {}


def remove_pod(rt, api, pod_id):
    for c in rt.ListContainers(api.ListContainersRequest(filter=api.ContainerFilter(pod_sandbox_id=pod_id)), timeout=30).containers:
        rt.StopContainer(api.StopContainerRequest(container_id=c.id, timeout=2), timeout=60)
        rt.RemoveContainer(api.RemoveContainerRequest(container_id=c.id), timeout=60)
    rt.StopPodSandbox(api.StopPodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)
    rt.RemovePodSandbox(api.RemovePodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)


# ---- commands --------------------------------------------------------------------------------------


def cmd_ready(args):
    import cri_api as api

    rt, _ = connect(args.socket)
    rt.Version(api.VersionRequest(version="v1"), timeout=2)


def cmd_pods(args):
    import cri_api as api

    h = args.handler
    t = Checks(h)
    rt, im = connect(args.socket)

    with t.step("Version and Status"):
        v = rt.Version(api.VersionRequest(version="v1"), timeout=10)
        t.eq("Version: runtime containerd, CRI v1", ("containerd", "v1"), (v.runtime_name, v.runtime_api_version))
        conditions = {c.type: c.status for c in rt.Status(api.StatusRequest(), timeout=10).status.conditions}
        t.eq("Status: RuntimeReady and NetworkReady", {"RuntimeReady": True, "NetworkReady": True}, conditions)

    with t.step("PullImage"):
        ref = im.PullImage(api.PullImageRequest(image=api.ImageSpec(image=args.image)), timeout=120).image_ref
        t.match("PullImage from the local registry (plain HTTP, hosts.toml)", r"^sha256:[0-9a-f]{64}$", ref)

    # ---- pod A: a hostname, containers in its namespaces; left running for after-restart ------------
    hostname = f"pod-{h}"
    cfg_a = pod_config(api, h, "a", args, hostname=hostname, labels={KEEP_LABEL: "1"})
    pod_a = None
    with t.step("RunPodSandbox"):
        pod_a = run_pod(rt, api, h, cfg_a)
        st = rt.PodSandboxStatus(api.PodSandboxStatusRequest(pod_sandbox_id=pod_a, verbose=True), timeout=30)
        t.eq("RunPodSandbox: READY", api.SANDBOX_READY, st.status.state)
        ip = st.status.network.ip
        t.true(f"RunPodSandbox: an address in {args.subnet}", ip and ipaddress.ip_address(ip) in ipaddress.ip_network(args.subnet), f"ip: {ip!r}")
        sandbox_pid = info_pid(st)
        t.eq("the sandbox runs the pause image's /pause", "/pause", read(f"/proc/{sandbox_pid}/cmdline").rstrip("\0"))
    if pod_a is None:
        return

    c1 = None
    with t.step("CreateContainer + StartContainer"):
        c1 = start_container(rt, api, pod_a, cfg_a, args, "c1",
                             ["sh", "-c", 'echo out-line; echo err-line >&2; trap "exit 0" TERM; sleep 1000 & wait'])
        s = container_status(rt, api, c1, verbose=True)
        t.eq("StartContainer: RUNNING", api.CONTAINER_RUNNING, s.status.state)
        pid = info_pid(s)
        same = {k: namespace(pid, k) == namespace(sandbox_pid, k) for k in ("net", "uts", "ipc", "pid", "mnt")}
        t.eq("the container joins the sandbox's net, uts and ipc namespaces, has its own pid and mount",
             {"net": True, "uts": True, "ipc": True, "pid": False, "mnt": False}, same)
    if c1 is None:
        return

    with t.step("ExecSync"):
        t.eq("ExecSync: the pod's hostname", (hostname + "\n", "", 0), exec_sync(rt, api, c1, ["hostname"]))
        t.eq("ExecSync: output and exit code", ("exec-out\n", "exec-err\n", 3),
             exec_sync(rt, api, c1, ["sh", "-c", "echo exec-out; echo exec-err >&2; exit 3"]))
        out, _, _ = exec_sync(rt, api, c1, ["sh", "-c", "echo $$"])
        t.true("ExecSync: the container's init is pid 1 of its own pid namespace", out.strip() not in ("", "1"), f"exec's pid: {out!r}")

    with t.step("container logs"):
        path = os.path.join(cfg_a.log_directory, "c1.log")
        wait_until(10, lambda: os.path.exists(path) and read(path).count("\n") >= 1)
        lines = read(path).splitlines() if os.path.exists(path) else []
        ts = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) "
        t.true("logs in the CRI format: TIMESTAMP stdout F out-line", any(re.match(ts + "stdout F out-line$", l) for l in lines), *lines)
        t.true("logs in the CRI format: TIMESTAMP stderr F err-line", any(re.match(ts + "stderr F err-line$", l) for l in lines), *lines)

    with t.step("Exec with a tty"):
        out, status = exec_tty(rt, api, c1, ["sh", "-c", "tty; read line; exit 3"])
        t.match("Exec -t over the streaming server (WebSocket): a pty", r"^/dev/pts/\d+\r?\n", out)
        causes = status.get("details", {}).get("causes", [])
        t.eq("Exec -t: exit code 3 in the stream's status", ("Failure", [{"reason": "ExitCode", "message": "3"}]),
             (status.get("status"), causes))
        out, status = exec_tty(rt, api, c1, ["sh", "-c", "tty; read line"])
        t.eq("Exec -t: exit code 0, status Success", "Success", status.get("status"))

    with t.step("UpdateContainerResources"):
        pid = info_pid(container_status(rt, api, c1, verbose=True))
        rt.UpdateContainerResources(api.UpdateContainerResourcesRequest(
            container_id=c1,
            linux=api.LinuxContainerResources(memory_limit_in_bytes=64 << 20, cpu_period=100000, cpu_quota=50000, cpu_shares=512)),
            timeout=30)
        memory = read(cgroup_file(pid, "memory", "memory.limit_in_bytes", "memory.max"))
        t.eq("UpdateContainerResources: the memory limit in the container's cgroup", str(64 << 20), memory)
        cpu_v1 = cgroup_file(pid, "cpu", "cpu.cfs_quota_us", "cpu.max")
        cpu = read(cpu_v1)
        t.eq("UpdateContainerResources: the CPU quota in the container's cgroup", "50000 100000" if cpu_v1.endswith("cpu.max") else "50000", cpu)

    with t.step("ContainerStats"):
        s = rt.ContainerStats(api.ContainerStatsRequest(container_id=c1), timeout=30).stats
        t.true("ContainerStats: CPU and memory use", s.cpu.usage_core_nano_seconds.value > 0 and s.memory.working_set_bytes.value > 0, str(s))

    with t.step("a restricted container"):
        security = api.LinuxContainerSecurityContext(
            run_as_user=api.Int64Value(value=1000),
            readonly_rootfs=True,
            no_new_privs=True,
            capabilities=api.Capability(drop_capabilities=["ALL"]),
            seccomp=api.SecurityProfile(profile_type=api.SecurityProfile.RuntimeDefault),
        )
        c2 = start_container(rt, api, pod_a, cfg_a, args, "restricted", TRAPPED_SLEEP, security=security)
        out, err, code = exec_sync(rt, api, c2, ["sh", "-c",
                                                 "id -u; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; "
                                                 "touch /x 2>/dev/null && echo writable || echo read-only"])
        t.eq("restricted: uid 1000, no capabilities, no_new_privs, seccomp (RuntimeDefault), read-only root",
             "1000\nCapEff:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\nread-only\n", out + err)
        rt.StopContainer(api.StopContainerRequest(container_id=c2, timeout=5), timeout=60)
        s = container_status(rt, api, c2)
        t.eq("StopContainer: EXITED, 0 from the TERM trap", (api.CONTAINER_EXITED, 0), (s.status.state, s.status.exit_code))
        rt.RemoveContainer(api.RemoveContainerRequest(container_id=c2), timeout=60)

    with t.step("an OOM-killed container"):
        # The kill comes a second after the start: the shim watches for OOM events only once the
        # container runs, and a kill before that is reported as a plain Error (runc's and ours alike).
        c3 = start_container(rt, api, pod_a, cfg_a, args, "oom",
                             ["sh", "-c", "sleep 1; exec dd if=/dev/zero of=/dev/null bs=64M count=1"],
                             resources=api.LinuxContainerResources(memory_limit_in_bytes=16 << 20))
        wait_until(20, lambda: container_status(rt, api, c3).status.state == api.CONTAINER_EXITED, 0.25)
        s = container_status(rt, api, c3).status
        t.eq("OOM: reason OOMKilled, exit code 137", (api.CONTAINER_EXITED, "OOMKilled", 137), (s.state, s.reason, s.exit_code))
        rt.RemoveContainer(api.RemoveContainerRequest(container_id=c3), timeout=60)

    # ---- pod B: a shared PID namespace -------------------------------------------------------------
    with t.step("a shared-PID pod"):
        cfg_b = pod_config(api, h, "b", args, pid=api.POD)
        pod_b = run_pod(rt, api, h, cfg_b)
        b1 = start_container(rt, api, pod_b, cfg_b, args, "b1", TRAPPED_SLEEP)
        t.eq("shared PID: pid 1 is the sandbox's /pause", ("/pause", "", 0),
             exec_sync(rt, api, b1, ["sh", "-c", "tr '\\0' ' ' </proc/1/cmdline | sed 's/ $//'"]))
        # The init exits and leaves a child: the shim then kills what is left with "kill --all".
        b2 = start_container(rt, api, pod_b, cfg_b, args, "b2", ["sh", "-c", "sleep 1001 & sleep 0.2; exit 0"])
        wait_until(10, lambda: container_status(rt, api, b2).status.state == api.CONTAINER_EXITED, 0.1)
        t.eq("shared PID: the container's init exited 0", (api.CONTAINER_EXITED, 0),
             (container_status(rt, api, b2).status.state, container_status(rt, api, b2).status.exit_code))
        left = lambda: exec_sync(rt, api, b1, ["sh", "-c", "ps -o args | grep -c '^sleep 1001' || true"])[0].strip()
        wait_until(5, lambda: left() == "0", 0.25)
        t.eq("shared PID: what the exited init left is gone (kill --all, delete)", "0", left())
        remove_pod(rt, api, pod_b)
        t.ok("shared PID: containers and pod stopped and removed")

    # ---- pod C: the host's network ------------------------------------------------------------------
    with t.step("a hostNetwork pod"):
        cfg_c = pod_config(api, h, "c", args, network=api.NODE)
        pod_c = run_pod(rt, api, h, cfg_c)
        c = start_container(rt, api, pod_c, cfg_c, args, "c1", TRAPPED_SLEEP)
        t.eq("hostNetwork: the container is in the host's network namespace", (args.host_netns + "\n", "", 0),
             exec_sync(rt, api, c, ["readlink", "/proc/self/ns/net"]))
        remove_pod(rt, api, pod_c)
        t.ok("hostNetwork: containers and pod stopped and removed")


def cmd_after_restart(args):
    import cri_api as api

    h = args.handler
    t = Checks(h)
    rt, _ = connect(args.socket)
    pods = rt.ListPodSandbox(api.ListPodSandboxRequest(filter=api.PodSandboxFilter(
        label_selector={HANDLER_LABEL: h, KEEP_LABEL: "1"})), timeout=30).items
    t.eq("after a containerd restart: the pod is still there and READY", [api.SANDBOX_READY], [p.state for p in pods])
    if not pods:
        return
    pod = pods[0]
    with t.step("after a containerd restart"):
        containers = rt.ListContainers(api.ListContainersRequest(filter=api.ContainerFilter(pod_sandbox_id=pod.id)), timeout=30).containers
        running = [c for c in containers if c.state == api.CONTAINER_RUNNING]
        t.eq("after a containerd restart: its container runs", ["c1"], [c.metadata.name for c in running])
        if running:
            t.eq("after a containerd restart: ExecSync", ("alive\n", "", 0), exec_sync(rt, api, running[0].id, ["echo", "alive"]))
        cfg = pod_config(api, h, "a", args, hostname=f"pod-{h}", labels={KEEP_LABEL: "1"})
        c4 = start_container(rt, api, pod.id, cfg, args, "c4", TRAPPED_SLEEP)
        t.eq("after a containerd restart: a new container starts in the pod", api.CONTAINER_RUNNING, container_status(rt, api, c4).status.state)
        for c in running:
            rt.StopContainer(api.StopContainerRequest(container_id=c.id, timeout=5), timeout=60)
            s = container_status(rt, api, c.id).status
            t.eq("StopContainer: EXITED, 0 from the TERM trap", (api.CONTAINER_EXITED, 0), (s.state, s.exit_code))
        remove_pod(rt, api, pod.id)
        t.ok("StopPodSandbox, RemovePodSandbox")


def cmd_remove_all(args):
    import cri_api as api

    t = Checks("")
    rt, _ = connect(args.socket)
    for pod in rt.ListPodSandbox(api.ListPodSandboxRequest(), timeout=30).items:
        with t.step(f"removing pod {pod.metadata.name}"):
            remove_pod(rt, api, pod.id)
    t.eq("no pods left", 0, len(rt.ListPodSandbox(api.ListPodSandboxRequest(), timeout=30).items))
    t.eq("no containers left", 0, len(rt.ListContainers(api.ListContainersRequest(), timeout=30).containers))


# ---- the runtime calls ------------------------------------------------------------------------------

# Options whose value (a path, a file) differs between the two runs.
VALUE_OPTIONS = {"--root", "--log", "--log-format", "--bundle", "-b", "--pid-file", "--console-socket", "--process", "-p",
                 "--resources", "-r", "--criu", "--image-path", "--work-path", "--parent-path", "--preserve-fds"}


def normalized_calls(path):
    """Each logged call as "ARGS => STATUS", its global options, ids and paths left out."""
    calls = []
    with open(path) as f:
        for line in f:
            m = re.match(r"^[^:]*: (.*) => (\d+)", line.rstrip("\n"))
            if not m:
                continue
            words, skip = [], False
            for word in shlex.split(m.group(1)):
                if skip:
                    skip = False
                elif word in VALUE_OPTIONS:
                    skip = True
                elif "=" in word and word.split("=", 1)[0] in VALUE_OPTIONS:
                    pass
                elif re.fullmatch(r"[0-9a-f]{64}", word):
                    words.append("ID")
                elif word.startswith("/"):
                    words.append("PATH")
                else:
                    words.append(word)
            calls.append(f"{' '.join(words)} => {m.group(2)}")
    return calls


def cmd_compare_calls(args):
    runc, berth = normalized_calls(args.runc_log), normalized_calls(args.berth_log)
    kinds = lambda calls: {c.rsplit(" => ", 1)[0] for c in calls}
    differ = []
    # Every kind of call either made: the same exit statuses, as often.
    for kind in sorted(kinds(runc) | kinds(berth)):
        a = collections.Counter(c.rsplit(" => ", 1)[1] for c in runc if c.rsplit(" => ", 1)[0] == kind)
        b = collections.Counter(c.rsplit(" => ", 1)[1] for c in berth if c.rsplit(" => ", 1)[0] == kind)
        if set(a) != set(b):
            differ.append(f"{kind}: runc exited {dict(a)}, berth-runtime {dict(b)}")
    for line in differ:
        print(line)
    print(f"{len(runc)} calls to runc, {len(berth)} to berth-runtime, {len(kinds(runc))} kinds")
    if not runc or not berth:
        print("a log is empty: the wrappers were not called")
        sys.exit(1)
    sys.exit(1 if differ else 0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--socket")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("ready")
    sub.add_parser("remove-all")
    for name in ("pods", "after-restart"):
        s = sub.add_parser(name)
        s.add_argument("--handler", required=True)
        s.add_argument("--image", required=True)
        s.add_argument("--logs", required=True)
        s.add_argument("--cgroup-parent", required=True)
        s.add_argument("--subnet", required=True)
        s.add_argument("--host-netns", required=True)
    s = sub.add_parser("compare-calls")
    s.add_argument("runc_log")
    s.add_argument("berth_log")
    args = p.parse_args()
    {"ready": cmd_ready, "pods": cmd_pods, "after-restart": cmd_after_restart, "remove-all": cmd_remove_all,
     "compare-calls": cmd_compare_calls}[args.command](args)


if __name__ == "__main__":
    main()
