#!/bin/sh
# Pack each cross binary with the board configs and init scripts into
# dist/memdog-<version>-<target>.tar.gz, with a SHA256SUMS inside.
set -eu
v=$1; shift
for t in "$@"; do
  d=$(mktemp -d); p=$d/memdog-$v-$t
  mkdir -p "$p"
  cp "dist/$t/memdog" "$p/"
  cp -r board-configs "$p/"
  (cd "$p" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS)
  tar -C "$d" -czf "dist/memdog-$v-$t.tar.gz" "memdog-$v-$t"
  rm -rf "$d"
  echo "dist/memdog-$v-$t.tar.gz"
done
