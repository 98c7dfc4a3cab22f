#!/bin/sh
# Installs Debian's chromium for the end-to-end browser test. Playwright's own browser download
# cannot work offline, so the test drives the system chromium instead.
set -e
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "chromium is missing and we are not root: run 'apt-get install -y chromium' as root," \
         "or the browser test will be skipped." >&2
    exit 0
  fi
fi
echo "Installing Debian's chromium for the browser test (apt-get)..."
${SUDO:-} apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq chromium >/dev/null
