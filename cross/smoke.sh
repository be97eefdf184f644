#!/bin/sh
# Run every cross binary under qemu-user through every subcommand and mode,
# comparing its output with the host binary's wherever it is deterministic:
#   snapshot, watch (stdout, --log, --textfile, --syslog-socket to a unix
#   datagram socket made here, --syslog-remote to a 127.0.0.1 UDP port
#   listened on here) and run -c CONF --count N, against the fixture /proc
#   trees, with the clock fields (timestamp, up=, syslog's time and pid)
#   blanked; check of configs; maps and dump (strings, --top, --raw bytes,
#   --diff) of live processes started here (snapshot, maps, dump --top and
#   --diff where the board build has them, else their one-line hints);
#   and, not comparable, on the live /proc: watch --pid self, SIGTERM to
#   watch, run --daemonize --pidfile (cross/daemon-check.py: the pidfile names
#   a live session leader that samples to its log, refuses a second start and
#   exits 0 on SIGTERM).
# Endianness, word-size and system-call ABI bugs show up here as a diff or a
# crash: a mode no smoke run starts is a mode whose board build nobody ran
# (32-bit ARM's --daemonize crashed in fork for exactly that reason).
set -u
host=target/release/memdog
[ -x "$host" ] || { echo "smoke: build the host binary first (make)"; exit 1; }
command -v python3 >/dev/null || { echo "smoke: needs python3 (datagram sinks, daemon check)"; exit 1; }
command -v cc >/dev/null || { echo "smoke: needs a C compiler (cc) for the dump targets"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
runner() {
  case "$1" in
    armv7*|armv5te*) echo qemu-arm-static ;;
    aarch64*) echo qemu-aarch64-static ;;
    mipsel*) echo qemu-mipsel-static ;;
    mips*) echo qemu-mips-static ;;
    *) echo "" ;;
  esac
}
# clock fields and pids differ between two runs: a logfmt line's timestamp
# and up=, run's agent_pid=, a syslog line's RFC 3164 time, pid and up=
norm() {
  sed -E -e 's/^[0-9T:Z-]+ up=[0-9.]+ /TS /' -e 's/ agent_pid=[0-9]+/ agent_pid=PID/' \
    -e 's/^(<[0-9]+>)[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} (([^ ]+ )?memdog)\[[0-9]+\]: up=[0-9.]+ /\1TS \2[PID]: /'
}
fail=0; runs=0
tmp=$(mktemp -d)
sinks=""; kids=""
# only processes started here, and only while they still are what was
# started (a pid the shell has reaped may belong to anyone by now)
cleanup() {
  for p in $sinks; do kill "$p" 2>/dev/null; done
  for p in $kids; do
    [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$tmp/leaky" ] && kill "$p"
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The outputs in $tmp/host and $tmp/cross are the same, or a failure naming
# what ran ($1); returns 1 then.
compare() {
  runs=$((runs + 1))
  if ! cmp -s "$tmp/host" "$tmp/cross"; then
    echo "smoke: $t differs from host on: memdog $1"; diff "$tmp/host" "$tmp/cross" | head -20; fail=1
    return 1
  fi
}

# `memdog ARGS` on the host and on board binary $b (under $q): the same
# stdout, stderr and exit code, with the clock fields blanked. An argument
# @OUT@ is a file of each side's own ($tmp/out.host, $tmp/out.cross), whose
# contents must match too.
same() {
  side host "$@"
  side cross "$@"
  compare "$*"
}
side() {
  s=$1; shift
  rm -f "$tmp/out.$s"
  n=$#
  for a in "$@"; do
    [ "$a" = @OUT@ ] && a=$tmp/out.$s
    set -- "$@" "$a"
  done
  shift "$n"
  if [ "$s" = host ]; then
    { $host "$@"; echo "exit $?"; } 2>&1 | norm > "$tmp/$s"
  else
    { $q $b "$@"; echo "exit $?"; } 2>&1 | norm > "$tmp/$s"
  fi
  if [ -e "$tmp/out.$s" ]; then norm < "$tmp/out.$s" >> "$tmp/$s"; fi
}

# `memdog check FILE` on the host and on board binary $b: same output and
# exit code, or a failure naming LABEL; the outputs stay in $tmp/host and
# $tmp/cross
same_check() {
  { $host check "$1"; echo "exit $?"; } > "$tmp/host" 2>&1
  { $q $b check "$1"; echo "exit $?"; } > "$tmp/cross" 2>&1
  compare "check $1 $2"
}

# A datagram sink (cross/dgram-sink.py) for one run: `sink_start unix|udp`
# sets $where (a socket path or 127.0.0.1:PORT); `sink_stop FILE` sends the
# end marker (ordered after memdog's datagrams) and leaves what arrived,
# normalized, in FILE.
sink_start() {
  rm -f "$tmp/sink" "$tmp/sink.ready" "$tmp/sink.sock" "$tmp/sink.port"
  if [ "$1" = unix ]; then
    python3 "$here/dgram-sink.py" unix "$tmp/sink.sock" "$tmp/sink" & sink=$!
  else
    python3 "$here/dgram-sink.py" udp "$tmp/sink.port" "$tmp/sink" & sink=$!
  fi
  sinks="$sinks $sink"
  for _ in $(seq 100); do [ -e "$tmp/sink.ready" ] && break; sleep 0.05; done
  [ -e "$tmp/sink.ready" ] || { echo "smoke: datagram sink ($1) did not start"; fail=1; }
  if [ "$1" = unix ]; then where=$tmp/sink.sock; else where=127.0.0.1:$(cat "$tmp/sink.port"); fi
  kind=$1
}
sink_stop() {
  python3 "$here/dgram-sink.py" end "$kind" "$where"
  wait "$sink"; sinks=""
  norm < "$tmp/sink" > "$1"
}
# `memdog watch ARGS --syslog-socket|--syslog-remote SINK` on both sides:
# the datagrams that arrive and memdog's own output must match
same_syslog() {
  kind=$1; shift
  opt=--syslog-socket; [ "$kind" = udp ] && opt=--syslog-remote
  for sd in host cross; do
    sink_start "$kind"
    if [ $sd = host ]; then
      { $host "$@" $opt "$where"; echo "exit $?"; } > "$tmp/$sd.out" 2>&1
    else
      { $q $b "$@" $opt "$where"; echo "exit $?"; } > "$tmp/$sd.out" 2>&1
    fi
    sink_stop "$tmp/$sd"
    norm < "$tmp/$sd.out" >> "$tmp/$sd"
  done
  if compare "$* $opt SINK" && ! grep -q ' seq=2 ' "$tmp/host"; then
    echo "smoke: $t: watch $opt sent no second sample:"; cat "$tmp/host"; fail=1
  fi
}

# dump targets: live processes with N copies of a marker in their heap,
# idle until killed, so host and board binary read the same memory. Static,
# so their only file mapping is their own binary (both map it for the whole
# run): smaps' Pss of a shared libc moves as other processes come and go.
cat > "$tmp/leaky.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
    for (int i = 0, n = atoi(argv[1]); i < n; i++)
        strcpy(malloc(48), i % 3 ? "MEMDOG-SMOKE-leaky-object" : "MEMDOG-SMOKE-other");
    printf("ready\n");
    fflush(stdout);
    pause();
    return 0;
}
EOF
cc -O0 -static -o "$tmp/leaky" "$tmp/leaky.c" || { echo "smoke: cannot build the dump target"; exit 1; }
start_leaky() {  # $1 markers; sets $leaky to the pid once it is ready
  "$tmp/leaky" "$1" > "$tmp/ready.$1" & leaky=$!
  kids="$kids $leaky"
  for _ in $(seq 200); do grep -q ready "$tmp/ready.$1" 2>/dev/null && return; sleep 0.05; done
  echo "smoke: the dump target ($tmp/leaky $1) never got ready"; exit 1
}
start_leaky 30; small=$leaky
start_leaky 300; big=$leaky

# the tools a board build has (cross/cross.mk's BOARD_FEATURES and
# CROSS_FEATURES, as its --version lists them; the host build has them
# all): the left-out ones answer with a one-line hint
has() { case "$feats" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
for t in "$@"; do
  b=dist/$t/memdog; q=$(runner "$t")
  # shellcheck disable=SC2086
  feats=" $($q $b --version | sed -n 's/.*(features: \(.*\))$/\1/p') "
  echo "smoke: $t has features:$feats"
  for tree in tests/fixtures/proc/*/; do
    tree=${tree%/}
    pids=$(ls "$tree" | grep -E '^[0-9]+$' | head -4 | sed 's/^/--pid /' | tr '\n' ' ')
    names="--name dnsmasq --name python3 --name kthreadd"
    fields="VmPeak,VmSize,VmRSS,RssAnon,VmData,VmSwap,Threads,heap,stack,stacks,nthreadstacks,anon,file"
    w="watch --proc-root $tree $names --count 3 --interval 10ms --fields $fields"
    if has snapshot; then
      same snapshot --proc-root "$tree"
      same snapshot --proc-root "$tree" --top 2 --sort heap
    fi
    if has watch; then
    # shellcheck disable=SC2086  # word lists on purpose
    same $w
    same $w --log @OUT@
    has metrics && same $w --textfile @OUT@
    if has syslog; then
      same_syslog unix $w
      same_syslog udp $w
    fi
    # shellcheck disable=SC2086
    same watch --proc-root "$tree" $pids --count 2 --interval 10ms
    fi
    has maps && for p in $(ls "$tree" | grep -E '^[0-9]+$'); do
      same maps "$p" --proc-root "$tree"
    done
    # the daemon's own loop with rules (absolute, % of RAM, slope, for N,
    # clear), events and actions logged, on the fixture's numbers
    cat > "$tmp/run.conf" <<EOF
interval = 10ms
log = -
proc_root = $tree
fields = VmRSS,VmSize,VmData,Threads,heap,stacks
on_warn = log
on_crit = log
[system]
warn = MemAvailable < 60% for 2 clear 70%
crit = MemFree < 1000
[target dnsmasq]
name = dnsmasq
warn = VmRSS > 1000 for 2
crit = heap > 512
warn = VmRSS slope > 100/h over 1h
[target py]
name = python3
warn = Threads > 2
EOF
    # run refuses to start on a pid target that is not there (exit 3)
    [ -d "$tree/1" ] && printf '[target init]\npid = 1\nwarn = VmRSS > 1\n' >> "$tmp/run.conf"
    same run -c "$tmp/run.conf" --count 4
    same run -c "$tmp/run.conf" --count 2 --dry-run
  done
  # live processes: maps (with smaps' --rss) and dump (strings, --top,
  # --raw FILE's bytes, and --diff of the two processes' raw dumps)
  if has maps; then
    same maps "$small"
    same maps "$big" --rss
  fi
  if has dump; then
    same dump "$big"
    has dump-top && same dump "$small" --top 3 --min-len 12
    same dump "$big" --raw @OUT@
    if ! grep -q '^MEMDOG-SMOKE-leaky-object$' "$tmp/host"; then
      echo "smoke: $t: dump found no MEMDOG-SMOKE marker in the heap of pid $big"; fail=1
    fi
  fi
  # the cross binary on this machine's live /proc (qemu-user passes syscalls through)
  # (a build without watch: run with a config that says the same)
  printf 'interval = %s\nlog = -\nfields = VmRSS,Threads\n[target self]\nself = yes\n' 10ms > "$tmp/self10ms.conf"
  printf 'interval = %s\nlog = -\nfields = VmRSS\n[target self]\nself = yes\n' 10s > "$tmp/self10s.conf"
  if has watch; then live="watch --pid self --count 2 --interval 10ms --fields VmRSS,Threads"
  else live="run -c $tmp/self10ms.conf --count 2"; fi
  # shellcheck disable=SC2086
  $q $b $live > "$tmp/live" 2>&1 || { echo "smoke: $t live watch failed"; cat "$tmp/live"; fail=1; }
  grep -q ' Threads=' "$tmp/live" || { echo "smoke: $t live watch printed no sample"; cat "$tmp/live"; fail=1; }
  runs=$((runs + 1))
  # SIGTERM while asleep: handlers set with the kernel's sigaction layout of
  # each architecture, the sleep cut short, a clean exit 0
  if has watch; then sleepy="watch --pid self --interval 10s --fields VmRSS"
  else sleepy="run -c $tmp/self10s.conf"; fi
  # shellcheck disable=SC2086
  $q $b $sleepy > "$tmp/term" 2>&1 & p=$!
  # after the first sample (handlers are in place by then), at most 10 s
  for _ in $(seq 50); do grep -q ' VmRSS=' "$tmp/term" && break; sleep 0.2; done
  kill -TERM $p
  # bounded: qemu-user has been seen to lose the first SIGTERM to a MIPS
  # guest under load (watch sampled on for 15 min; a second one stopped it)
  for _ in $(seq 75); do kill -0 $p 2>/dev/null || break; sleep 0.2; done
  if kill -0 $p 2>/dev/null; then
    echo "smoke: WARNING $t: watch still running 15 s after SIGTERM; sending a second one"
    kill -TERM $p
    for _ in $(seq 75); do kill -0 $p 2>/dev/null || break; sleep 0.2; done
    kill -0 $p 2>/dev/null && { echo "smoke: $t watch ignores SIGTERM"; kill -KILL $p; }
  fi
  wait $p; rc=$?
  runs=$((runs + 1))
  if [ $rc != 0 ] || ! grep -q ' VmRSS=' "$tmp/term"; then
    echo "smoke: $t watch stopped by SIGTERM: exit $rc, expected 0 after one sample"; cat "$tmp/term"; fail=1
  fi
  # run --daemonize --pidfile: fork (clone), setsid, chdir /, stdio on
  # /dev/null, the pidfile written before the parent exits and locked (a
  # second start refused), samples to the log, exit 0 on SIGTERM, the
  # pidfile removed. Absolute paths: the daemon runs in /.
  rm -f "$tmp/d.log" "$tmp/d.pid"
  printf 'interval = 100ms\nlog = %s\n[target self]\nself = yes\nwarn = VmRSS > 1048576\n' "$tmp/d.log" > "$tmp/d.conf"
  # shellcheck disable=SC2086  # $q is empty for the host's own architecture
  python3 "$here/daemon-check.py" "$tmp/d.pid" "$tmp/d.log" $q $b run -c "$tmp/d.conf" --daemonize --pidfile "$tmp/d.pid" > "$tmp/daemon" 2>&1
  rc=$?
  runs=$((runs + 1))
  if [ $rc != 0 ]; then
    echo "smoke: $t run --daemonize --pidfile failed:"; cat "$tmp/daemon"; fail=1
  fi
  # `check` of a config, and as root the refusal of a world-writable one:
  # sys::mode_of reads st_mode at a per-architecture offset
  for m in 644 606; do
    cp board-configs/default.conf "$tmp/c$m.conf"; chmod $m "$tmp/c$m.conf"
    same_check "$tmp/c$m.conf" "(mode $m)"
  done
  # numbers past 32 bits through the board's own 64-bit division (32-bit
  # targets) and decimal printing: 12-digit limits, a per-day slope divided
  # down to kB per hour
  if same_check tests/fixtures/big-numbers.conf "" && ! grep -q 41152263379115 "$tmp/host"; then
    echo "smoke: $t check of tests/fixtures/big-numbers.conf lacks the 41152263379115 kB/h slope"; cat "$tmp/host"; fail=1
  fi
  # the PC-side steps, report and dump --diff (of two raw dumps: the
  # processes with 30 and 300 markers): compared with the host where the
  # board build has them (CROSS_FEATURES=report), else one line that says
  # where to run them, exit 2 (usage)
  $host dump "$small" --raw "$tmp/small.raw" > /dev/null 2>&1
  $host dump "$big" --raw "$tmp/big.raw" > /dev/null 2>&1
  if has report; then
    same dump --diff "$tmp/small.raw" "$tmp/big.raw" --top 5
    grep -q 'MEMDOG-SMOKE-leaky-object' "$tmp/host" || { echo "smoke: dump --diff shows no grown marker"; cat "$tmp/host"; fail=1; }
  fi
  # and the interactive tools (snapshot, maps, dump --top), the same way;
  # the outputs and actions a build leaves out are refused by check
  for k in 'textfile = /tmp/x.prom|metrics' 'syslog = yes|syslog' 'syslog_remote = 127.0.0.1:9|syslog-remote' \
           'on_crit = dump|dump'; do
    printf '%s\n[target self]\nself = yes\nwarn = VmRSS > 1\n' "${k%|*}" > "$tmp/no-${k#*|}.conf"
  done
  for cmd in "report|report tests/fixtures/none.log|run memdog report there" \
             "report|dump --diff $tmp/small.raw $tmp/big.raw|run memdog dump --diff there" \
             "snapshot|snapshot|snapshot is not in this board build" \
             "maps|maps $small|run memdog maps PID --proc-root DIR there" \
             "dump-top|dump $small --top 3|run memdog dump --diff /dev/null FILE there" \
             "watch|watch --pid self --count 1|watch is not in this board build" \
             "dump|dump $big|built without dump (cargo feature dump" \
             "dump|dump $big --raw $tmp/no.raw|built without dump (cargo feature dump" \
             "metrics|check $tmp/no-metrics.conf|built without metrics (cargo feature metrics" \
             "syslog|check $tmp/no-syslog.conf|built without syslog (cargo feature syslog" \
             "syslog|check $tmp/no-syslog-remote.conf|built without syslog (cargo feature syslog" \
             "dump|check $tmp/no-dump.conf|built without dump (cargo feature dump"; do
    has "${cmd%%|*}" && continue
    # dump --top of a build without dump says that dump is missing
    [ "${cmd%%|*}" = dump-top ] && ! has dump && continue
    words=${cmd#*|}
    # shellcheck disable=SC2086  # the command's words
    $q $b ${words%|*} > "$tmp/rep" 2>&1; rc=$?
    if [ $rc != 2 ] || ! grep -q "${cmd##*|}" "$tmp/rep" || [ "$(wc -l < "$tmp/rep")" != 1 ]; then
      echo "smoke: $t ${words%|*} in a board build: exit $rc, expected 2 and one line"; cat "$tmp/rep"; fail=1
    fi
    runs=$((runs + 1))
  done
done
echo "smoke: $runs runs over $# targets, $([ $fail = 0 ] && echo 'all identical to the host' || echo FAILED)"
exit $fail
