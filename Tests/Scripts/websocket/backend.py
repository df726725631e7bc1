#!/usr/bin/env python3
"""A WebSocket backend for the Ingress tests (RFC 6455, the standard library only).

usage: backend.py NAME PORT

GET / answers NAME. GET /chat with `Upgrade: websocket` switches protocols and sends, in the same
write as the 101, a text frame "hello from NAME"; then each text frame gets "echo: TEXT" back, a
ping its pong, a close its close. GET /refuse answers an upgrade request with 403 and a body.
"""
import base64
import hashlib
import socketserver
import struct
import sys

NAME, PORT = sys.argv[1], int(sys.argv[2])
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode, payload):
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
    return header + payload


class Handler(socketserver.StreamRequestHandler):
    def read_exactly(self, count):
        data = self.rfile.read(count)
        if len(data) != count:
            raise EOFError
        return data

    def read_frame(self):
        first, second = self.read_exactly(2)
        opcode, length = first & 0x0F, second & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", self.read_exactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self.read_exactly(8))
        mask = self.read_exactly(4) if second & 0x80 else b"\0\0\0\0"
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.read_exactly(length)))
        return opcode, payload

    def handle(self):
        request = self.rfile.readline().decode("latin-1").split()
        headers = {}
        while True:
            line = self.rfile.readline().decode("latin-1").strip()
            if not line:
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        path = request[1] if len(request) > 1 else "/"
        upgrading = headers.get("upgrade", "").lower() == "websocket" and "upgrade" in headers.get("connection", "").lower()
        if path == "/chat" and upgrading:
            accept = base64.b64encode(hashlib.sha1((headers["sec-websocket-key"] + GUID).encode()).digest()).decode()
            answer = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n\r\n" % accept).encode()
            self.wfile.write(answer + frame(1, ("hello from " + NAME).encode()))
            self.wfile.flush()
            try:
                while True:
                    opcode, payload = self.read_frame()
                    if opcode == 1:
                        self.wfile.write(frame(1, b"echo: " + payload))
                    elif opcode == 9:
                        self.wfile.write(frame(10, payload))
                    elif opcode == 8:
                        self.wfile.write(frame(8, payload[:2]))
                        return
                    self.wfile.flush()
            except EOFError:
                return
        body = ("no websocket here\n" if path == "/refuse" else NAME).encode()
        status = "403 Forbidden" if path == "/refuse" else "200 OK"
        self.wfile.write(("HTTP/1.1 %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (status, len(body))).encode() + body)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("0.0.0.0", PORT), Handler).serve_forever()
