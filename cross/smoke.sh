#!/bin/sh
# Run every cross binary under qemu-user against the fixture /proc trees and
# compare its output with the host binary's: `snapshot` byte for byte,
# `watch --count 3` with the clock fields (timestamp, up=) blanked. Endianness
# or word-size bugs show up here as a diff.
set -u
host=target/release/memdog
[ -x "$host" ] || { echo "smoke: build the host binary first (make)"; exit 1; }
runner() {
  case "$1" in
    armv7*|armv5te*) echo qemu-arm-static ;;
    aarch64*) echo qemu-aarch64-static ;;
    mipsel*) echo qemu-mipsel-static ;;
    mips*) echo qemu-mips-static ;;
    *) echo "" ;;
  esac
}
norm() { sed -E 's/^[0-9T:Z-]+ up=[0-9.]+ /TS /'; }
fail=0; runs=0
# `memdog check FILE` on the host and on board binary $b (under $q): the same
# output and exit code, or a failure naming LABEL; the outputs stay in
# $tmp/host and $tmp/cross
same_check() {
  { $host check "$1"; echo "exit $?"; } > "$tmp/host" 2>&1
  { $q $b check "$1"; echo "exit $?"; } > "$tmp/cross" 2>&1
  runs=$((runs + 1))
  if ! cmp -s "$tmp/host" "$tmp/cross"; then
    echo "smoke: $t differs from host on: memdog check $1 $2"; diff "$tmp/host" "$tmp/cross" | head -20; fail=1
    return 1
  fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for t in "$@"; do
  b=dist/$t/memdog; q=$(runner "$t")
  for tree in tests/fixtures/proc/*/; do
    tree=${tree%/}
    pids=$(ls "$tree" | grep -E '^[0-9]+$' | head -4 | sed 's/^/--pid /' | tr '\n' ' ')
    for cmd in "snapshot --proc-root $tree" "watch --proc-root $tree --name dnsmasq --name python3 --name kthreadd --count 3 --interval 10ms --fields VmPeak,VmSize,VmRSS,RssAnon,VmData,VmSwap,Threads,heap,stack,stacks,nthreadstacks,anon,file"; do
      $host $cmd 2>&1 | norm > "$tmp/host"
      $q $b $cmd 2>&1 | norm > "$tmp/cross"
      runs=$((runs + 1))
      if ! cmp -s "$tmp/host" "$tmp/cross"; then
        echo "smoke: $t differs from host on: memdog $cmd"; diff "$tmp/host" "$tmp/cross" | head -20; fail=1
      fi
    done
  done
  # the cross binary on this machine's live /proc (qemu-user passes syscalls through)
  $q $b watch --pid self --count 2 --interval 10ms --fields VmRSS,Threads > "$tmp/live" 2>&1 || { echo "smoke: $t live watch failed"; cat "$tmp/live"; fail=1; }
  grep -q ' Threads=' "$tmp/live" || { echo "smoke: $t live watch printed no sample"; cat "$tmp/live"; fail=1; }
  runs=$((runs + 1))
  # SIGTERM while asleep: handlers set with the kernel's sigaction layout of
  # each architecture, the sleep cut short, a clean exit 0
  $q $b watch --pid self --interval 10s --fields VmRSS > "$tmp/term" 2>&1 & p=$!
  # after the first sample (handlers are in place by then), at most 10 s
  for _ in $(seq 50); do grep -q ' VmRSS=' "$tmp/term" && break; sleep 0.2; done
  kill -TERM $p; wait $p; rc=$?
  runs=$((runs + 1))
  if [ $rc != 0 ] || ! grep -q ' VmRSS=' "$tmp/term"; then
    echo "smoke: $t watch stopped by SIGTERM: exit $rc, expected 0 after one sample"; cat "$tmp/term"; fail=1
  fi
  # `check` of a config, and as root the refusal of a world-writable one:
  # sys::mode_of reads st_mode at a per-architecture offset
  for m in 644 606; do
    cp board-configs/default.conf "$tmp/c$m.conf"; chmod $m "$tmp/c$m.conf"
    same_check "$tmp/c$m.conf" "(mode $m)"
  done
  # numbers past 32 bits through the board's own 64-bit division (32-bit
  # targets) and decimal printing: a 4 TB log size, 12-digit limits, a
  # per-day slope divided down to kB per hour
  if same_check tests/fixtures/big-numbers.conf "" && ! grep -q 41152263379115 "$tmp/host"; then
    echo "smoke: $t check of tests/fixtures/big-numbers.conf lacks the 41152263379115 kB/h slope"; cat "$tmp/host"; fail=1
  fi
  # a board build without `report` says so in one line and exits 2 (usage)
  case " ${CROSS_FEATURES:-} " in *" report "*) ;; *)
    $q $b report tests/fixtures/none.log > "$tmp/rep" 2>&1; rc=$?
    if [ $rc != 2 ] || ! grep -q 'run memdog report there' "$tmp/rep" || [ "$(wc -l < "$tmp/rep")" != 1 ]; then
      echo "smoke: $t report in a board build: exit $rc, expected 2 and one line"; cat "$tmp/rep"; fail=1
    fi
    runs=$((runs + 1)) ;;
  esac
done
echo "smoke: $runs runs over $# targets, $([ $fail = 0 ] && echo 'all identical to the host' || echo FAILED)"
exit $fail
