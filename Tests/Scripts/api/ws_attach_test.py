#!/usr/bin/python3
"""Attach over a WebSocket (GET /containers/{id}/attach/ws), checked with a real client: Debian's
python3-websocket (websocket-client) over the engine's unix socket. The same checks pass against
dockerd 20.10 (Tests/Scripts/api/dockerd-peer.sh exec /usr/bin/python3 THIS unix:///... IMAGE).

    ws_attach_test.py DOCKER_HOST IMAGE

Containers are made with the docker CLI on DOCKER_HOST and removed at the end. Prints one line per
check and ends with "N passed, N failed"; exits 1 when a check failed.
"""
import json
import os
import socket
import subprocess
import sys
import time

import websocket

HOST, IMAGE = sys.argv[1], sys.argv[2]
SOCK = HOST[len("unix://"):]
DOCKER = os.environ.get("DOCKER_CLI", "/usr/local/bin/docker")
results = {"passed": 0, "failed": 0}
made = []


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else ": " + str(detail)), flush=True)


def docker(*args):
    out = subprocess.run([DOCKER, *args], capture_output=True, text=True, env={**os.environ, "DOCKER_HOST": HOST})
    if out.returncode != 0:
        raise RuntimeError("docker %s: %s" % (" ".join(args), out.stderr))
    return out.stdout.strip()


def connect(path):
    raw = socket.socket(socket.AF_UNIX)
    raw.connect(SOCK)
    raw.settimeout(10)
    return websocket.create_connection("ws://localhost" + path, socket=raw)


def receive_until(ws, done, seconds=10):
    """(opcode, payload) of each message until done(messages) or the server's close frame."""
    messages = []
    deadline = time.time() + seconds
    while time.time() < deadline and not done(messages):
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except (websocket.WebSocketException, OSError):
            break
        messages.append((opcode, data))
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            break
    return messages


def raw_request(path, headers):
    """The status line, headers and body of a plain request (no WebSocket client involved)."""
    conn = socket.socket(socket.AF_UNIX)
    conn.connect(SOCK)
    conn.settimeout(10)
    text = "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n" % (path, "".join("%s: %s\r\n" % h for h in headers))
    conn.sendall(text.encode())
    answer = b""
    while True:
        try:
            chunk = conn.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
        if b"\r\n\r\n" in answer and length and len(body) >= length[0]:
            break
    conn.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
    return int(lines[0].split()[1]), fields, body.decode(errors="replace")


try:
    # A running container with stdin open: its log replayed (logs=1), then what it echoes of the
    # client's message, all as binary messages of raw output (never stdcopy frames).
    box = docker("run", "-d", "-i", IMAGE, "sh", "-c", "echo out; echo err >&2; exec cat")
    made.append(box)
    time.sleep(1)
    ws = connect("/v1.41/containers/%s/attach/ws?stream=1&stdin=1&stdout=1&stderr=1&logs=1" % box)
    ws.send_binary(b"hello\n")
    got = receive_until(ws, lambda m: b"".join(d for _, d in m).count(b"\n") >= 3)
    ws.close()
    payload = b"".join(d for _, d in got)
    check("attach/ws: binary messages", got and all(op == websocket.ABNF.OPCODE_BINARY for op, _ in got), got)
    check("attach/ws: the log replayed and stdin echoed, raw", sorted(payload.splitlines()) == [b"err", b"hello", b"out"], payload)

    # Before API 1.28 the messages are text; the container's end ends the WebSocket.
    ender = docker("run", "-d", IMAGE, "sh", "-c", "sleep 1; echo bye")
    made.append(ender)
    ws = connect("/v1.27/containers/%s/attach/ws?stream=1&stdout=1&stderr=1" % ender)
    started = time.time()
    got = receive_until(ws, lambda m: False, seconds=15)
    took = time.time() - started
    data = [(op, d) for op, d in got if op != websocket.ABNF.OPCODE_CLOSE]
    closes = [d for op, d in got if op == websocket.ABNF.OPCODE_CLOSE]
    check("attach/ws v1.27: text messages", data == [(websocket.ABNF.OPCODE_TEXT, b"bye\n")], got)
    # dockerd's close frame races its closing of the connection (it is not always seen).
    check("attach/ws: the end at the container's end, close 1000 if any", took < 10 and closes in ([], [b"\x03\xe8"]), (took, got))

    # The handshake's failures, in x/net/websocket's words; an unknown container as any endpoint.
    status, _, body = raw_request("/v1.41/containers/%s/attach/ws?stream=1&stdout=1" % box, [])
    check("attach/ws without Upgrade: 400 not websocket protocol", (status, body.strip()) == (400, "not websocket protocol"), (status, body))
    status, fields, body = raw_request("/v1.41/containers/%s/attach/ws?stream=1&stdout=1" % box,
                                       [("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")])
    check("attach/ws without a version: 400 naming version 13",
          (status, fields.get("sec-websocket-version"), body.strip()) == (400, "13", "missing or bad WebSocket Version"), (status, fields, body))
    status, _, body = raw_request("/v1.41/containers/nosuch/attach/ws?stream=1&stdout=1", [])
    check("attach/ws of no such container: 404", status == 404 and json.loads(body).get("message") == "No such container: nosuch", (status, body))
except Exception as error:  # a check that could not run is a failure, not a crash without the closing line
    check("ran to the end", False, repr(error))
finally:
    for container in made:
        subprocess.run([DOCKER, "rm", "-f", container], capture_output=True, env={**os.environ, "DOCKER_HOST": HOST})

print("%d passed, %d failed" % (results["passed"], results["failed"]))
sys.exit(1 if results["failed"] else 0)
