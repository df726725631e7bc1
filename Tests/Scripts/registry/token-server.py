#!/usr/bin/python3
"""A minimal Docker-style token server (the "Bearer" auth of the distribution spec), stdlib only.

Started by registry.sh (`registry.sh start DIR --token USER:PASS`); not meant to be run by hand,
but it can be:

    BERTH_TOKEN_CREDS=USER:PASS token-server.py --dir KEYDIR --port-file FILE \
        --issuer ISS --service SVC --requests-log LOG [--ttl 300] [--header x5c|kid]

KEYDIR holds key.pem (RSA private key) and cert.pem (its self-signed certificate, which the
registry trusts through `auth: token: rootcertbundle`). It binds 127.0.0.1 on a free port and
writes the port to --port-file once it listens.

  GET  /token?service=SVC&scope=repository:NAME:pull,push[&scope=...]&account=USER
  POST /token   (form: grant_type=password, username, password, service, scope; the OAuth2
                 flow containerd tries first)

Basic credentials USER:PASS get every action they ask for; no credentials get a token with
`"access": []` (as Docker Hub answers an anonymous pull of a private repository), so the registry
then answers 401/denied; wrong credentials get 401. The answer is
`{"token", "access_token", "expires_in", "issued_at"}`. Each issued token appends one line to
--requests-log: `ISSUED_AT account=... scope=... granted=...`.

The JWT is RS256 (PKCS#1 v1.5 over SHA-256, made by `openssl dgst -sha256 -sign`). Its header
names the key by `x5c` (the certificate, base64 DER) or, with --header kid, by a libtrust key id.
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pem_body(path: str) -> bytes:
    """The DER bytes of the first PEM block in path."""
    lines, inside = [], False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("-----BEGIN"):
                inside = True
            elif line.startswith("-----END"):
                break
            elif inside:
                lines.append(line)
    return base64.b64decode("".join(lines))


def libtrust_kid(cert_path: str) -> str:
    """libtrust's key id: base32 of the first 240 bits of SHA-256(DER SubjectPublicKeyInfo),
    in groups of four characters joined by ':' (what distribution 2.x matches `kid` against)."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    s = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(s[i:i + 4] for i in range(0, len(s), 4))


class Issuer:
    def __init__(self, args):
        self.key = os.path.join(args.dir, "key.pem")
        cert = os.path.join(args.dir, "cert.pem")
        self.issuer = args.issuer
        self.service = args.service
        self.ttl = args.ttl
        self.requests_log = args.requests_log
        self.lock = threading.Lock()
        creds = os.environ.get("BERTH_TOKEN_CREDS", "")
        self.user, _, self.password = creds.partition(":")
        if not self.user:
            sys.exit("token-server: BERTH_TOKEN_CREDS=USER:PASS is not set")
        self.header = {"typ": "JWT", "alg": "RS256"}
        if args.header == "kid":
            self.header["kid"] = libtrust_kid(cert)
        else:
            self.header["x5c"] = [base64.b64encode(pem_body(cert)).decode()]

    def sign(self, claims: dict) -> str:
        signing_input = b64url(json.dumps(self.header, separators=(",", ":")).encode()) + "." + \
            b64url(json.dumps(claims, separators=(",", ":")).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                             input=signing_input.encode(), check=True, capture_output=True).stdout
        return signing_input + "." + b64url(sig)

    @staticmethod
    def parse_scopes(scopes):
        """'repository:NAME:pull,push' (NAME may hold ':' only in a port, which repository
        names cannot) -> [{type, name, actions}]. Several scopes may also come space-separated."""
        access = []
        for scope in scopes:
            for item in scope.split():
                typ, _, rest = item.partition(":")
                name, _, actions = rest.rpartition(":")
                if not typ or not name:
                    continue
                acts = [a for a in actions.split(",") if a]
                access.append({"type": typ, "name": name, "actions": acts})
        return access

    def issue(self, account, authenticated, scopes, service):
        now = int(time.time())
        granted = self.parse_scopes(scopes) if authenticated else []
        claims = {
            "iss": self.issuer,
            "sub": account if authenticated else "",
            "aud": service or self.service,
            "exp": now + self.ttl,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": granted,
        }
        token = self.sign(claims)
        issued_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc) \
            .strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.lock, open(self.requests_log, "a") as f:
            f.write(f"{issued_at} account={account or '-'} scope={' '.join(scopes) or '-'} "
                    f"granted={json.dumps(granted, separators=(',', ':'))}\n")
        return {"token": token, "access_token": token, "expires_in": self.ttl,
                "issued_at": issued_at}


class Handler(BaseHTTPRequestHandler):
    server_version = "berth-test-token-server/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))

    def reply(self, status, body: dict, extra_headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def unauthorized(self, why):
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": why}]},
                   [("WWW-Authenticate", 'Basic realm="berth-test-token-server"')])

    def basic_credentials(self):
        """(user, password) from the Authorization header, None when absent, False if malformed."""
        auth = self.headers.get("Authorization")
        if not auth:
            return None
        kind, _, value = auth.partition(" ")
        if kind.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(value.strip()).decode().partition(":")
        except Exception:
            return False
        return (user, password) if sep else False

    def grant(self, creds, scopes, service, account_hint):
        iss = self.server.issuer
        if creds is False:
            return self.unauthorized("malformed credentials")
        if creds is None:
            return self.reply(200, iss.issue(account_hint, False, scopes, service))
        user, password = creds
        if not (secrets.compare_digest(user, iss.user) and secrets.compare_digest(password, iss.password)):
            return self.unauthorized("incorrect username or password")
        return self.reply(200, iss.issue(user, True, scopes, service))

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        q = urllib.parse.parse_qs(url.query)
        self.grant(self.basic_credentials(), q.get("scope", []), (q.get("service") or [""])[0],
                   (q.get("account") or [""])[0])

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": url.path}]})
        form = urllib.parse.parse_qs(body)
        grant_type = (form.get("grant_type") or [""])[0]
        if grant_type != "password":
            return self.reply(400, {"error": "unsupported_grant_type"})
        creds = ((form.get("username") or [""])[0], (form.get("password") or [""])[0])
        scopes = form.get("scope", [])
        self.grant(creds, scopes, (form.get("service") or [""])[0], creds[0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--requests-log", required=True)
    p.add_argument("--ttl", type=int, default=300)
    p.add_argument("--header", choices=["x5c", "kid"], default="x5c")
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.issuer = Issuer(args)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{server.server_address[1]}\n")
    os.rename(tmp, args.port_file)
    sys.stderr.write(f"token server on 127.0.0.1:{server.server_address[1]} "
                     f"(header {args.header}, ttl {args.ttl}s)\n")
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
