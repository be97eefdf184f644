#!/bin/sh
# The size table of `make size`: per target the stripped size, its .text and
# .rodata, what it costs in a squashfs-xz rootfs (xz -9e of the file, the
# usual OpenWrt/Buildroot image compression), whether it is static (no
# PT_INTERP, no NEEDED), and allocator symbols in the unstripped build.
# Fails when a binary is over 64 KiB, dynamic, or has malloc & co.
set -u
limit=65536
goal=49152
fail=0
sect() { llvm-readelf -SW "$1" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v s="$2" '$1 == s { print $5 }' | { read h && printf '%d' "0x$h" || printf '-'; }; }
printf '%-34s %9s %8s %7s %7s %7s %7s %s\n' target bytes "64KiB" text rodata xz static "malloc/calloc/realloc/free"
for t in "$@"; do
  b=dist/$t/memdog; u=target/cross/$t/$t/release/memdog
  [ -f "$u" ] || { echo "size: $u missing: its allocator symbols cannot be checked (make cross)"; fail=1; }
  bytes=$(stat -c %s "$b")
  if readelf -lW "$b" | grep -q INTERP || readelf -dW "$b" 2>/dev/null | grep -q NEEDED; then static=no; fail=1; else static=yes; fi
  syms=$(nm "$u" 2>/dev/null | grep -Ew '(malloc|calloc|realloc|free)$' | awk '{print $NF}' | tr '\n' ' ')
  [ -n "$syms" ] && fail=1
  # the budget column: ok, or how many bytes over
  if [ "$bytes" -gt "$limit" ]; then fail=1; budget="+$((bytes - limit))"; else budget=ok; fi
  xz=$(xz -9e -c "$b" | wc -c)
  printf '%-34s %9s %8s %7s %7s %7s %7s %s\n' "$t" "$bytes" "$budget" "$(sect "$b" .text)" "$(sect "$b" .rodata)" "$xz" "$static" "${syms:-none}"
done
# the host build (dynamic glibc, for make run and tests): its own references only
h=target/release/memdog
if [ -f "$h" ]; then
  syms=$(nm -u "$h" | grep -Ew '(malloc|calloc|realloc|free)(@.*)?$' | awk '{print $NF}' | tr '\n' ' ')
  printf '%-34s %9s %8s %7s %7s %7s %7s %s\n' "host (glibc, unstripped)" "$(stat -c %s "$h")" - - - - dynamic "${syms:-none}"
  [ -n "$syms" ] && fail=1
fi
if [ $fail -eq 0 ]; then
  echo "size: every binary static, <= $limit bytes (goal $goal), no allocator"
else
  echo "size: FAILED: a binary over the $limit-byte budget, dynamic, or with allocator symbols (docs/size.md: where the bytes go)"
fi
exit $fail
