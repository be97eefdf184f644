#!/bin/sh
# Install the cross toolchain from packages, idempotently (see ../shared/TOOLCHAIN.md):
# Debian's rustc-web + rust-web-src (for -Zbuild-std), qemu-user-static, llvm
# (llvm-strip), and zig from PyPI as the musl linker, in cross/.venv.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
need=""
for p in rustc-web cargo-web rust-web-src qemu-user-static llvm file binutils xz-utils; do
  dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
  echo "cross/install.sh: apt-get install$need"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if ! ls "$here"/.venv/lib/python3*/site-packages/ziglang/zig >/dev/null 2>&1; then
  echo "cross/install.sh: pip install ziglang==0.17.1 into cross/.venv"
  python3 -m venv "$here/.venv"
  "$here/.venv/bin/pip" install -q ziglang==0.17.1
fi
