#!/bin/sh
# scenario 1, boot: the project's S99memdog (start at boot by rcS, status,
# reload, restart, stop), then memdog's view of this kernel's /proc
# (snapshot, maps, watch) against busybox reading the same files, then the
# figures: memdog's VmRSS under run, CPU per sample vs the seed shell loop.
. /etc/board/lib.sh
echo "BOARD-SCENARIO boot uptime=$(up)"
S=/etc/init.d/S99memdog PIDF=/var/run/memdog.pid LOG=/data/memdog.log

out=$($S status); rc=$?
echo "BOARD-INFO S99memdog status: $out (rc=$rc)"
expect status-at-boot "rc=$rc" [ $rc -eq 0 ]
pid=$(cat $PIDF 2>/dev/null)
expect daemon-is-memdog "pid=$pid comm=$(cat /proc/$pid/comm 2>/dev/null)" [ "$(cat /proc/$pid/comm 2>/dev/null)" = memdog ]
expect daemon-detached "ppid=$(awk '{print $4}' /proc/$pid/stat 2>/dev/null)" [ "$(awk '{print $4}' /proc/$pid/stat 2>/dev/null)" = 1 ]
wait_grep 'seq=4 ' "$LOG" 100
first=$(grep -m1 ' seq=1 ' $LOG | sed -n 's/.* up=\([0-9.]*\) .*/\1/p')
figure first_sample_up_s=$first
expect samples-logged "$(grep -c ' seq=' $LOG) lines" grep -q ' seq=4 ' $LOG
sleep 2
figure memdog_run_vmrss_kb=$(status_field VmRSS "$pid") memdog_run_vmhwm_kb=$(status_field VmHWM "$pid")
# memdog's own line about itself ([target self]) against its status file
self=$(grep " pid=$pid " $LOG | grep -v event= | tail -1)
echo "BOARD-INFO self line: $self"

out=$($S reload); rc=$?
expect reload-rc "rc=$rc" [ $rc -eq 0 ]
expect reload-logged "" wait_grep 'event=reload' $LOG 50
expect reload-same-pid "" [ "$(cat $PIDF)" = "$pid" ]

out=$($S start); rc=$?
expect start-when-running "'$out' rc=$rc" sh -c "[ $rc -eq 0 ] && echo '$out' | grep -q 'already running'"

out=$($S restart); rc=$?
echo "BOARD-INFO S99memdog restart: $out (rc=$rc)"
new=$(cat $PIDF 2>/dev/null)
expect restart-new-pid "old=$pid new=$new rc=$rc" sh -c "[ $rc -eq 0 ] && [ -n '$new' ] && [ '$new' != '$pid' ]"
expect restart-old-gone "" sh -c "! kill -0 $pid 2>/dev/null"
expect restart-new-runs "" sh -c "[ \"\$(cat /proc/$new/comm 2>/dev/null)\" = memdog ]"

out=$($S stop); rc=$?
echo "BOARD-INFO S99memdog stop: $out (rc=$rc)"
expect stop-rc "rc=$rc" [ $rc -eq 0 ]
expect stop-gone "" sh -c "! kill -0 $new 2>/dev/null"
out=$($S status); rc=$?
expect status-stopped "'$out' rc=$rc" [ $rc -eq 3 ]
expect stop-pidfile-removed "" [ ! -e $PIDF ]
out=$($S start); rc=$?
expect start-again "'$out' rc=$rc" sh -c "[ $rc -eq 0 ] && $S status >/dev/null"

# --- /proc of this kernel: memdog against busybox reading the same files ---
leaker 64 10 1024 & lk=$!   # a 1 MiB heap in 16 sbrk steps, then still
sleep 600 & sl=$!
i=0; while [ $i -lt 100 ]; do
	set -- $(maps_sum $lk 2>/dev/null)
	[ "${3:-0}" -ge 1024 ] && break
	sleep 0.1; i=$((i + 1))
done
sleep 0.3
kill -STOP $lk   # stopped: its status and maps cannot change under the comparison
sleep 0.2
memdog snapshot --top 64 > /tmp/snap.txt 2>&1; rc=$?
# a board build may leave snapshot and maps out (make cross CROSS_FEATURES
# puts them back): then memdog must say so (rc 2, its hint) and the
# comparison is a loud SKIP, not a pass
not_built() { [ "$1" -eq 2 ] && grep -q "is not in this board build" "$2"; }
if not_built $rc /tmp/snap.txt; then
	echo "BOARD-SKIP snapshot: not in this board build: $(head -1 /tmp/snap.txt)"
	snap=0
else
	expect snapshot-rc "rc=$rc" [ $rc -eq 0 ]
	snap=1
fi
sed 's/^/BOARD-INFO snapshot: /' /tmp/snap.txt | head -12
[ $snap -eq 1 ] && for p in 1 $lk $sl; do
	row=$(awk -v p=$p '$1 == p' /tmp/snap.txt)
	set -- $(maps_sum $p)
	want="$p $(cat /proc/$p/comm) $(status_field VmRSS $p) $(status_field VmSize $p) $(status_field VmSwap $p) $3 $(status_field Threads $p)"
	got=$(echo "$row" | awk '{print $1, $2, $3, $4, $5, $6, $7}')
	expect snapshot-row-$p "memdog='$got' busybox='$want'" [ "$got" = "$want" ]
done
mt=$(awk '$1 == "MemTotal:" {print $2}' /proc/meminfo)
[ $snap -eq 1 ] && expect snapshot-memtotal "MemTotal=$mt" grep -q "MemTotal=$mt " /tmp/snap.txt
# maps: class totals against the shell's sum of /proc/PID/maps
for p in $lk $sl 1; do
	memdog maps $p > /tmp/maps.txt 2>&1; rc=$?
	set -- $(maps_sum $p)
	specials=$6 want="$1 $2 $3 $4 $5"
	if not_built $rc /tmp/maps.txt; then
		[ $p = 1 ] && echo "BOARD-SKIP maps: not in this board build: $(head -1 /tmp/maps.txt)"
		continue
	fi
	got="$(sed -n 's/^mappings=\([0-9]*\) total_kb=\([0-9]*\) .*/\1 \2/p' /tmp/maps.txt)"
	for c in heap stack special; do got="$got $(awk -v c=$c '$1 == c {print $2}' /tmp/maps.txt)"; done
	expect maps-$p "rc=$rc memdog='$got' busybox='$want' specials=$specials" [ "$got" = "$want" ]
done
memdog maps $lk | sed 's/^/BOARD-INFO maps leaker: /'
# this architecture's own special mappings, all counted as special above
case "$(cat /etc/board/arch)" in
armv7) want_sp="sigpage vvar vdso vectors" ;;   # [vectors] is the kernel's page at 0xffff0000
*) want_sp="vvar vdso" ;;
esac
miss=
for w in $want_sp; do case ",$specials," in *",$w,"*) ;; *) miss="$miss $w" ;; esac; done
expect maps-arch-specials "have=$specials want=$want_sp" [ -z "$miss" ]
grep -E '\[(vectors|sigpage|vdso|vvar|heap|stack)\]' /proc/$lk/maps | sed 's/^/BOARD-INFO leaker maps: /'
# one watch sample of the stopped leaker: each field as in its status file
line=$(memdog watch --pid $lk --count 1 --interval 100ms | grep " pid=$lk " | grep -v event=)
echo "BOARD-INFO watch: $line"
set -- $(maps_sum $lk); heap=$3
bad=
for f in VmSize VmHWM VmRSS RssAnon RssFile VmData VmSwap Threads; do
	v=$(status_field $f $lk)
	echo "$line" | grep -q " $f=$v\( \|\$\)" || bad="$bad $f(status=$v)"
done
echo "$line" | grep -q " heap=$heap\( \|\$\)" || bad="$bad heap(maps=$heap)"
expect watch-fields "${bad:-all fields equal}" [ -z "$bad" ]
expect watch-heap-grew "heap=$heap kB (leaker grew 1024 kB)" [ "$heap" -ge 1024 ]
# VmRSS may lag: before 6.2, a thread's RSS counts reach the mm (and
# /proc/PID/status) only every 64 page faults (SPLIT_RSS_COUNTING), so up to
# 256 kB of the 1024 written can be missing (seen: 792 on armv7 and aarch64)
expect leaker-rss "VmRSS=$(status_field VmRSS $lk) kB of 1024 written (counts may lag 64 pages)" [ "$(status_field VmRSS $lk)" -ge 768 ]
kill -CONT $lk; kill $lk $sl

# --- CPU per sample: memdog watch vs the seed shell loop, in this guest ---
# ticks = own + waited-for children's utime + stime, from /proc/$$/stat
cpu_ticks() {
	sh -c '"$@" >/dev/null 2>&1; read -r s < /proc/$$/stat; set -- ${s##*) }; echo $((${12} + ${13} + ${14} + ${15}))' cpu "$@"
}
N=200
sleep 600 & sl=$!
seed=$(cpu_ticks sh -c "i=0; while [ \$i -lt $N ]; do grep -E 'VmRSS|VmSize' /proc/$sl/status >> /tmp/seed.txt; sleep 0.01; i=\$((i + 1)); done")
md=$(cpu_ticks memdog watch --pid $sl --count $N --interval 10ms --log /tmp/w.log)
md2=$(cpu_ticks memdog watch --pid $sl --count $N --interval 10ms --fields VmRSS,VmSize --log /tmp/w2.log)
kill $sl
hz=100
figure cpu_samples=$N seed_loop_ticks=$seed memdog_watch_ticks=$md memdog_watch_2fields_ticks=$md2 ticks_per_s=$hz
expect cpu-measured "seed=$seed memdog=$md ($N samples each)" [ "$seed" -gt 0 ]
expect seed-lines "$(wc -l < /tmp/seed.txt) lines" [ "$(wc -l < /tmp/seed.txt)" -eq $((2 * N)) ]
head -3 /tmp/w.log | sed 's/^/BOARD-INFO watch log: /'
expect memdog-samples "$(grep " pid=$sl " /tmp/w.log | grep -vc event=) lines" [ "$(grep " pid=$sl " /tmp/w.log | grep -vc event=)" -eq $N ]
echo "BOARD-DONE boot uptime=$(up)"
poweroff
