#!/usr/bin/env python3
"""A WebSocket client for the Ingress tests: websocket-client (Debian's python3-websocket) through
the proxy on 127.0.0.1, plain and TLS, then a raw handshake whose first frame rides in the same
write as the request. Prints one line per observation.

usage: client.py HOST
"""
import base64
import os
import socket
import ssl
import sys

import websocket

HOST = sys.argv[1]

for url, options in [("ws://127.0.0.1/chat", {}),
                     ("wss://127.0.0.1/chat", {"sslopt": {"cert_reqs": ssl.CERT_NONE, "server_hostname": HOST}})]:
    ws = websocket.create_connection(url, host=HOST, timeout=10, **options)
    print(url.split(":")[0], "greeting", ws.recv())
    ws.send("one")
    print(url.split(":")[0], "reply", ws.recv())
    big = "x" * 300000
    ws.send(big)
    reply = ws.recv()
    print(url.split(":")[0], "big", len(reply), reply == "echo: " + big)
    ws.ping("are you there")
    opcode, data = ws.recv_data(control_frame=True)
    print(url.split(":")[0], "pong", opcode, data.decode())
    ws.close()

# The client's first frame in the same write as its request: the proxy must not drop it.
raw = socket.create_connection(("127.0.0.1", 80), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
request = ("GET /chat HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (HOST, key)).encode()
mask = os.urandom(4)
payload = b"early"
frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
raw.sendall(request + frame)
received = b""
while received.count(b"echo: early") == 0:
    chunk = raw.recv(65536)
    if not chunk:
        break
    received += chunk
head, _, rest = received.partition(b"\r\n\r\n")
print("raw status", head.split(b"\r\n")[0].decode())
print("raw frames", b"hello from" in rest, b"echo: early" in rest)
raw.close()

# Attacks on the switch: none may take the proxy down (the test then asks it something plain), and
# each connection ends by the proxy's close, not by the client's patience.
def exchange(name, payload, more=None):
    sock = socket.create_connection(("127.0.0.1", 80), timeout=5)
    sock.sendall(payload)
    answer, closed = b"", False
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            answer += chunk
            if more is not None and b"\r\n\r\n" in answer:
                sock.sendall(more)
                more = None
    except OSError:
        pass
    sock.close()
    print(name, answer.split(b"\r\n")[0].decode("latin-1") or "-", "closed" if closed else "hung")

handshake = ("GET /chat HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
             % (HOST, key))
# A tab after the Connection token, and a second request pipelined behind the first.
exchange("tab", (handshake + "Connection: Upgrade\t\r\n\r\nGET / HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST).encode())
# A body the backend's 101 overtakes, its rest sent after the 101: never tunnel bytes.
exchange("body", (handshake + "Connection: Upgrade\r\nContent-Length: 10\r\n\r\nhello").encode(), more=b"world" + b"x" * 1000)
# An empty Upgrade header, and an HTTP/1.0 upgrade.
exchange("empty", (handshake.replace("Upgrade: websocket", "Upgrade:") + "Connection: Upgrade\r\n\r\n").encode())
exchange("http10", (handshake.replace("HTTP/1.1", "HTTP/1.0") + "Connection: Upgrade\r\n\r\n").encode())
