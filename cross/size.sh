#!/bin/sh
# The size table of `make size`: per target the stripped size, whether it is
# static (no PT_INTERP, no NEEDED), and allocator symbols in the unstripped
# build. Fails when a binary is over 64 KiB, dynamic, or has malloc & co.
set -u
limit=65536
fail=0
printf '%-34s %9s %7s %s\n' target bytes static "malloc/calloc/realloc/free"
for t in "$@"; do
  b=dist/$t/memdog; u=target/$t/release/memdog
  bytes=$(stat -c %s "$b")
  if readelf -lW "$b" | grep -q INTERP || readelf -dW "$b" 2>/dev/null | grep -q NEEDED; then static=no; fail=1; else static=yes; fi
  syms=$(nm "$u" 2>/dev/null | grep -Ew '(malloc|calloc|realloc|free)$' | awk '{print $NF}' | tr '\n' ' ')
  [ -n "$syms" ] && fail=1
  [ "$bytes" -gt "$limit" ] && fail=1
  printf '%-34s %9s %7s %s\n' "$t" "$bytes" "$static" "${syms:-none}"
done
# the host build (dynamic glibc, for make run and tests): its own references only
h=target/release/memdog
if [ -f "$h" ]; then
  syms=$(nm -u "$h" | grep -Ew '(malloc|calloc|realloc|free)(@.*)?$' | awk '{print $NF}' | tr '\n' ' ')
  printf '%-34s %9s %7s %s\n' "host (glibc, unstripped)" "$(stat -c %s "$h")" dynamic "${syms:-none}"
  [ -n "$syms" ] && fail=1
fi
[ $fail -eq 0 ] && echo "size: every binary static, <= $limit bytes, no allocator" || echo "size: FAILED (over $limit bytes, dynamic, or allocator symbols)"
exit $fail
