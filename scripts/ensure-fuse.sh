#!/usr/bin/env bash
# Make sure this machine can mount FUSE file systems: /dev/fuse and, for
# non-root users, fusermount3 from Debian's fuse3.
set -euo pipefail
if ! command -v fusermount3 >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing fuse3 ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fuse3 >/dev/null
  else
    echo "warning: fusermount3 not found; install fuse3 (only root can mount without it)" >&2
  fi
fi
if [ ! -c /dev/fuse ]; then
  echo "error: /dev/fuse is missing; FUSE is not available on this machine" >&2
  exit 1
fi
