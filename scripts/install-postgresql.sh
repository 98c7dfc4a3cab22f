#!/bin/sh
# Installs Debian's PostgreSQL server for the tests of the server backend. The tests start a
# throwaway cluster of their own in a temporary folder (tests/postgres_server.py); nothing is
# configured system-wide and no service is started.
set -e
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "PostgreSQL is missing and we are not root: run 'apt-get install -y postgresql' as" \
         "root, or the server backend's tests will be skipped." >&2
    exit 0
  fi
fi
echo "Installing Debian's postgresql for the server backend's tests (apt-get)..."
${SUDO:-} apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq postgresql >/dev/null
