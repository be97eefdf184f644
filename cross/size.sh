#!/bin/sh
# The size table of `make size`: per target the stripped size, its budget
# and the margin (budget - bytes: negative is over), .text and .rodata, what
# it costs in a squashfs-xz rootfs (xz -9e of the file, the usual
# OpenWrt/Buildroot image compression) and its margin to the xz budget,
# whether it is static (no PT_INTERP, no NEEDED), and allocator symbols in
# the unstripped build.
# Budgets (the developers' guide): stripped ARM32 <= 64 KiB, AArch64 and
# x86_64 <= 96 KiB, MIPS32 <= 128 KiB; xz -9e <= 48 KiB on every target;
# the static x86_64 binary's `run` peak RSS <= 160 KiB.
# Fails when a binary is over a budget, dynamic, or has malloc & co.
set -u
xz_limit=49152
fail=0
budget_of() {
  case "$1" in
    arm*) echo 65536 ;;
    aarch64-* | x86_64-*) echo 98304 ;;
    mips-* | mipsel-*) echo 131072 ;;
    *) echo 0 ;;
  esac
}
sect() { llvm-readelf -SW "$1" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v s="$2" '$1 == s { print $5 }' | { read h && printf '%d' "0x$h" || printf '-'; }; }
row='%-32s %7s %7s %7s %6s %6s %6s %6s %6s %s\n'
printf "$row" target bytes budget margin text rodata xz margin static "malloc/calloc/realloc/free"
for t in "$@"; do
  b=dist/$t/memdog; u=target/cross/$t/$t/release/memdog
  [ -f "$u" ] || { echo "size: $u missing: its allocator symbols cannot be checked (make cross)"; fail=1; }
  limit=$(budget_of "$t")
  [ "$limit" -gt 0 ] || { echo "size: $t has no budget in cross/size.sh"; fail=1; limit=0; }
  bytes=$(stat -c %s "$b")
  if readelf -lW "$b" | grep -q INTERP || readelf -dW "$b" 2>/dev/null | grep -q NEEDED; then static=no; fail=1; else static=yes; fi
  syms=$(nm "$u" 2>/dev/null | grep -Ew '(malloc|calloc|realloc|free)$' | awk '{print $NF}' | tr '\n' ' ')
  [ -n "$syms" ] && fail=1
  xz=$(xz -9e -c "$b" | wc -c)
  margin=$((limit - bytes)); xz_margin=$((xz_limit - xz))
  [ $margin -lt 0 ] && fail=1
  [ $xz_margin -lt 0 ] && fail=1
  printf "$row" "$t" "$bytes" "$limit" "$margin" "$(sect "$b" .text)" "$(sect "$b" .rodata)" "$xz" "$xz_margin" "$static" "${syms:-none}"
done
# static x86_64 `run` RSS <= 160 KiB: the board binary runs here (x86_64
# host), watching itself under one rule and the system under another; its
# peak RSS is the largest VmHWM it logs of itself (kB, from its own status)
rss_limit=160
for t in "$@"; do
  [ "$t" = x86_64-unknown-linux-musl ] && [ "$(uname -m)" = x86_64 ] || continue
  d=$(mktemp -d)
  printf 'interval = 10ms\nlog = -\nfields = VmRSS,VmHWM\n[target self]\nself = yes\nwarn = VmRSS > 1048576\n[system]\nwarn = MemAvailable < 1%%\n' > "$d/c.conf"
  hwm=$(dist/$t/memdog run -c "$d/c.conf" --count 20 2>&1 | sed -n 's/.* name=memdog VmHWM=\([0-9]*\).*/\1/p' | sort -n | tail -1)
  rm -rf "$d"
  if [ -z "$hwm" ]; then
    echo "size: $t run printed no VmHWM of itself: its RSS cannot be checked"; fail=1
  else
    [ "$hwm" -gt "$rss_limit" ] && fail=1
    echo "run RSS ($t, static, peak VmHWM): $hwm kB, budget $rss_limit kB, margin $((rss_limit - hwm)) kB"
  fi
done
# the host build (dynamic glibc, for make run and tests): its own references only
h=target/release/memdog
if [ -f "$h" ]; then
  syms=$(nm -u "$h" | grep -Ew '(malloc|calloc|realloc|free)(@.*)?$' | awk '{print $NF}' | tr '\n' ' ')
  printf "$row" "host (glibc, unstripped)" "$(stat -c %s "$h")" - - - - - - dynamic "${syms:-none}"
  [ -n "$syms" ] && fail=1
fi
if [ $fail -eq 0 ]; then
  echo "size: every binary static, inside its budget and $xz_limit bytes xz -9e, run RSS inside $rss_limit kB, no allocator"
else
  echo "size: FAILED: a binary or run's RSS over its budget (negative margin), dynamic, or with allocator symbols (docs/size.md: where the bytes go)"
fi
exit $fail
