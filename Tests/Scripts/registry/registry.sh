#!/usr/bin/env bash
# A local OCI registry for tests and benchmarks: Debian's docker-registry (distribution 2.8) on
# 127.0.0.1, on a free port, with its storage, config, log and pid file under one directory.
#
#   registry.sh start DIR [--htpasswd USER:PASS] [--token USER:PASS]
#       Starts the registry and prints one line, its address: 127.0.0.1:PORT
#       (nothing else on stdout; progress and errors go to stderr). A registry that an earlier
#       "start DIR" left running is stopped first.
#       --htpasswd USER:PASS   Basic auth (a bcrypt htpasswd file, DIR/htpasswd)
#       --token USER:PASS      Bearer token auth: also starts token-server.py (next to this script)
#                              on its own free port; it issues RS256 JWTs to USER:PASS for what
#                              they ask, an empty "access" to anonymous callers, 401 to others.
#   registry.sh stop DIR
#       Stops the registry and the token server of DIR (by their pid files) and waits for them
#       to exit. Idempotent: fine when nothing runs. Leaves DIR and its storage in place.
#
# Files under DIR: config.yml, storage/, registry.log, registry.pid, addr (the printed address);
# with --htpasswd: htpasswd; with --token: token/{key.pem,cert.pem}, token.pid, token.port,
# token.log, token-requests.log (one line per token issued).
# Environment: TOKEN_TTL=SECONDS (token lifetime, default 300), TOKEN_HEADER=x5c|kid (how the
# JWT names its key, default x5c), REGISTRY_LOG_LEVEL (default warn; info logs every request),
# REGISTRY_BIN (default docker-registry).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REGISTRY_BIN=${REGISTRY_BIN:-docker-registry}

usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "registry.sh: $*" >&2; exit 1; }

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# alive PIDFILE NEEDLE: the pid in PIDFILE runs and its command line contains NEEDLE
# (so a pid the kernel has since given to another process is never taken for ours).
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$2"* ]]
}

# stop_pid PIDFILE NEEDLE: TERM, wait up to 10 s, KILL; removes PIDFILE.
stop_pid() {
  local pidfile=$1 needle=$2 pid
  if alive "$pidfile" "$needle"; then
    pid=$(cat "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pidfile" "$needle" || break; sleep 0.1; done
    if alive "$pidfile" "$needle"; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$pidfile" "$needle" || break; sleep 0.1; done
    fi
  fi
  rm -f "$pidfile"
}

cmd_stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  dir=$(cd "$dir" && pwd)
  stop_pid "$dir/registry.pid" "$dir/config.yml"
  stop_pid "$dir/token.pid" "$dir/token"
  rm -f "$dir/addr" "$dir/token.port"
}

# http_status URL: the HTTP status of GET URL ("000" when nothing answers).
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1" 2>/dev/null || true; }

# owns_port PID PORT: PID listens on 127.0.0.1:PORT (true when ss is missing: nothing to check).
owns_port() {
  command -v ss >/dev/null || return 0
  [[ "$(ss -ltnpH "sport = :$2" 2>/dev/null)" == *"pid=$1,"* ]]
}

# split_creds USER:PASS -> sets CRED_USER, CRED_PASS
split_creds() {
  [[ $1 == *:* ]] || die "credentials must be USER:PASS (got '$1')"
  CRED_USER=${1%%:*}
  CRED_PASS=${1#*:}
  [ -n "$CRED_USER" ] || die "empty user name in '$1'"
}

start_token_server() {
  local dir=$1 creds=$2
  mkdir -p "$dir/token"
  if [ ! -s "$dir/token/key.pem" ] || [ ! -s "$dir/token/cert.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/CN=berth-test-token-issuer" \
      -keyout "$dir/token/key.pem" -out "$dir/token/cert.pem" >/dev/null 2>&1 ||
      die "openssl could not make the token signing key"
  fi
  rm -f "$dir/token.port"
  BERTH_TOKEN_CREDS=$creds setsid python3 "$HERE/token-server.py" \
    --dir "$dir/token" --port-file "$dir/token.port" \
    --issuer berth-test-token-issuer --service berth-test-registry \
    --requests-log "$dir/token-requests.log" \
    --ttl "${TOKEN_TTL:-300}" --header "${TOKEN_HEADER:-x5c}" \
    </dev/null >>"$dir/token.log" 2>&1 &
  echo $! >"$dir/token.pid"
  for _ in $(seq 1 100); do
    [ -s "$dir/token.port" ] && break
    # kill -0, not alive: until the child has exec'd python3 its command line is still ours.
    kill -0 "$(cat "$dir/token.pid")" 2>/dev/null || { tail -n 20 "$dir/token.log" >&2; die "token server exited (log: $dir/token.log)"; }
    sleep 0.1
  done
  [ -s "$dir/token.port" ] || die "token server did not come up (log: $dir/token.log)"
  TOKEN_PORT=$(cat "$dir/token.port")
}

write_config() {
  local dir=$1 port=$2 mode=$3
  {
    cat <<EOF
# Written by Tests/Scripts/registry/registry.sh
version: 0.1
log:
  level: ${REGISTRY_LOG_LEVEL:-warn}
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
  secret: berth-test-registry-secret
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: false
EOF
    case $mode in
      htpasswd)
        cat <<EOF
auth:
  htpasswd:
    realm: berth-test-registry
    path: $dir/htpasswd
EOF
        ;;
      token)
        cat <<EOF
auth:
  token:
    realm: http://127.0.0.1:$TOKEN_PORT/token
    service: berth-test-registry
    issuer: berth-test-token-issuer
    rootcertbundle: $dir/token/cert.pem
EOF
        ;;
    esac
  } >"$dir/config.yml"
}

cmd_start() {
  local dir=$1 mode=none creds=
  shift
  while [ $# -gt 0 ]; do
    case $1 in
      --htpasswd | --token)
        [ $# -ge 2 ] || usage
        [ "$mode" = none ] || die "--htpasswd and --token exclude each other"
        mode=${1#--}
        creds=$2
        shift 2
        ;;
      *) usage ;;
    esac
  done
  command -v "$REGISTRY_BIN" >/dev/null || die "$REGISTRY_BIN not found (apt-get install docker-registry)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  cmd_stop "$dir"
  mkdir -p "$dir/storage"

  case $mode in
    htpasswd)
      split_creds "$creds"
      command -v htpasswd >/dev/null || die "htpasswd not found (apt-get install apache2-utils)"
      # distribution accepts only bcrypt entries.
      htpasswd -Bbn "$CRED_USER" "$CRED_PASS" | sed '/^$/d' >"$dir/htpasswd"
      ;;
    token)
      split_creds "$creds"
      start_token_server "$dir" "$creds"
      ;;
  esac

  # The port is free when checked; another process could take it before the registry binds it,
  # so a registry that exits at once is retried on another port.
  local port pid status attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    write_config "$dir" "$port" "$mode"
    setsid "$REGISTRY_BIN" serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/registry.pid"
    for _ in $(seq 1 150); do
      status=$(http_status "http://127.0.0.1:$port/v2/")
      # 200/401 from our registry, not from another one that took the port first (ours then
      # exits, and the next attempt takes another port).
      if [[ $status == 200 || $status == 401 ]] && owns_port "$pid" "$port"; then
        echo "127.0.0.1:$port" >"$dir/addr"
        echo "127.0.0.1:$port"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break   # (alive would miss a child not yet exec'd)
      sleep 0.1
    done
    if alive "$dir/registry.pid" "$dir/config.yml"; then
      stop_pid "$dir/registry.pid" "$dir/config.yml"
      cmd_stop "$dir"
      die "registry did not answer on 127.0.0.1:$port within 15 s (log: $dir/registry.log)"
    fi
    echo "registry.sh: registry exited (attempt $attempt, port $port); retrying" >&2
  done
  tail -n 20 "$dir/registry.log" >&2
  cmd_stop "$dir"
  die "registry would not start (log: $dir/registry.log)"
}

[ $# -ge 2 ] || usage
case $1 in
  start)
    shift
    cmd_start "$@"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    cmd_stop "$2"
    ;;
  *) usage ;;
esac
