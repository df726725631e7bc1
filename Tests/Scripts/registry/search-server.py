#!/usr/bin/python3
"""A registry's search API alone (GET /v1/search, as Docker Hub's index answers it), standing in
for a registry that has one (Debian's docker-registry has none). Three fixed results.

    search-server.py REQUEST_LOG PORT_FILE

Listens on 127.0.0.1 on a free port, written to PORT_FILE once it accepts; each request's path
is appended to REQUEST_LOG. Runs until killed.
"""
import http.server, json, os, sys

RESULTS = [
    {"name": "team/tool", "description": "a tool", "star_count": 3, "is_official": False, "is_automated": False},
    {"name": "busybox", "description": "Busybox base image, with\nall the small tools a container needs and more", "star_count": 3100, "is_official": True, "is_automated": False},
    {"name": "someone/busybox", "description": "", "star_count": 0, "is_official": False, "is_automated": True},
]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[1], "a") as log:
            log.write(self.path + "\n")
        body = json.dumps({"num_results": len(RESULTS), "query": "x", "results": RESULTS}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(httpd.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
httpd.serve_forever()
