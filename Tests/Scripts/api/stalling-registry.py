#!/usr/bin/env python3
# stalling-registry.py PORT: a registry on 127.0.0.1:PORT serving one image, slow/img:latest, whose
# only layer (a gzipped tar of 8 MiB) stops after its first MiB and never finishes. Prints "ready"
# when it listens; writes "LAYER CLIENT GONE" to stderr when the puller hangs up on the layer.
# For the tests of a client that disconnects in the middle of a pull (DisconnectTests).
import gzip, hashlib, http.server, json, os, socketserver, sys, time, threading
import io, tarfile
_raw = io.BytesIO()
with tarfile.open(fileobj=_raw, mode="w") as _t:
    _data = os.urandom(8 << 20); _i = tarfile.TarInfo("big"); _i.size = len(_data); _t.addfile(_i, io.BytesIO(_data))
blob = gzip.compress(_raw.getvalue(), 1)
config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}, "config": {}}).encode()
cdig = "sha256:" + hashlib.sha256(config).hexdigest()
layer_dig = "sha256:" + "1" * 64
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config), "digest": cdig},
    "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(blob), "digest": layer_dig}]}).encode()
mdig = "sha256:" + hashlib.sha256(manifest).hexdigest()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): sys.stderr.write("%s %s\n" % (self.command, self.path)); sys.stderr.flush()
    def send(self, body, ctype, extra={}):
        self.send_response(200); self.send_header("Content-Type", ctype); self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Content-Digest", extra.get("digest", "")); self.end_headers()
        if self.command != "HEAD": self.wfile.write(body)
    def do_HEAD(self): self.do_GET()
    def do_GET(self):
        p = self.path
        if p == "/v2/": return self.send(b"{}", "application/json")
        if "/manifests/" in p: return self.send(manifest, "application/vnd.docker.distribution.manifest.v2+json", {"digest": mdig})
        if p.endswith(cdig): return self.send(config, "application/octet-stream", {"digest": cdig})
        if p.endswith(layer_dig):
            self.send_response(200); self.send_header("Content-Length", str(len(blob))); self.end_headers()
            try:
                self.wfile.write(blob[:1 << 20]); self.wfile.flush()
                while True:
                    time.sleep(0.2); self.wfile.write(b""); 
                    # a closed peer shows as a read of 0 bytes
                    self.connection.settimeout(0.01)
                    try:
                        if self.connection.recv(1) == b"": sys.stderr.write("LAYER CLIENT GONE\n"); sys.stderr.flush(); return
                    except (BlockingIOError, TimeoutError, OSError) as e:
                        if not isinstance(e, (TimeoutError, BlockingIOError)) and "timed out" not in str(e): raise
            except (BrokenPipeError, ConnectionResetError): sys.stderr.write("LAYER CLIENT GONE\n"); sys.stderr.flush(); return
        self.send_response(404); self.send_header("Content-Length", "0"); self.end_headers()
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
s = S(("127.0.0.1", int(sys.argv[1])), H)
print("ready", flush=True)
s.serve_forever()
