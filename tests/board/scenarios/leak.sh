#!/bin/sh
# scenarios 2 and 4, leak to reset and pull. Boot 1: S99memdog's memdog
# (leak.conf) feeds /dev/watchdog; `leaker` grows its heap 1 MiB/s; the slope
# rule warns, the limit rule crits, the watchdog action stops feeding and
# the watchdog driver resets the guest. Once the crit action is in the log
# (fsynced), the log set is copied to the console. Boot 2: the log set again
# (serial pull), memdog's start line with the driver's boot status and the
# reset reason, `memdog log` on the console; the host pulls
# over ssh/scp and powers off. memdog is stopped first (magic close: the
# guest must not reset again), so the serial, ssh and scp copies are equal.
. /etc/board/lib.sh
LOG=/data/memdog.log
n=$(cat /data/boot-count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /data/boot-count; sync
echo "BOARD-SCENARIO leak boot=$n uptime=$(up)"
wdt_info
if [ $n -eq 1 ]; then
	expect watchdog-device "" [ -c /dev/watchdog ]
	expect memdog-running "" /etc/init.d/S99memdog status
	# watchdog-timeout: memdog's start line has the driver's answer to
	# WDIOC_SETTIMEOUT (leak.conf asks 4 s, the module parameter said 8);
	# sysfs must agree once the line is written (the host compares them)
	expect watchdog-line-boot1 "" wait_grep 'event=watchdog' "$LOG" 100
	echo "BOARD-INFO watchdog_line boot=$n: $(grep 'event=watchdog' $LOG | tail -1)"
	wdt_sys $n
	leaker 512 500 & lk=$!
	echo "BOARD-INFO leaker pid=$lk started uptime=$(up)"
	if wait_grep 'action=watchdog' "$LOG $LOG.1" 600; then
		echo "BOARD-INFO watchdog action logged uptime=$(up)"
		dump L1 $LOG
		i=0; while [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); echo "BOARD-WAIT t=$i uptime=$(up) leaker_VmRSS=$(status_field VmRSS $lk)"; done
		fail no-reset "the watchdog did not reset the guest within 30 s"
	else
		fail no-action "no action=watchdog in $LOG within 60 s"
		dump L1 $LOG
	fi
	poweroff
	exit
fi
# boot 2, after the reset
expect memdog-restarted "" /etc/init.d/S99memdog status
# boot-status-line: memdog's start line says why the board was reset (the
# driver's boot status, and the reset-reason file's line); it then empties
# the file (told once). The host checks the line's fields against boot 1's
# crit line.
wait_grep 'previous_reset=' "$LOG $LOG.1" 100
echo "BOARD-INFO watchdog_line boot=$n: $(grep -h 'event=watchdog' $LOG.1 $LOG 2>/dev/null | tail -1)"
wdt_sys $n
expect reset-reason-told-once "size=$(wc -c < /data/memdog.reset-reason 2>&1)" \
	sh -c '[ -f /data/memdog.reset-reason ] && [ ! -s /data/memdog.reset-reason ]'
# S99memdog stop: SIGTERM, memdog writes the magic 'V' and closes the
# watchdog. Had it not, the driver would reset the guest within its 4 s
# timeout (memdog's watchdog_timeout), while the host pulls (a third boot:
# the host fails the run).
out=$(/etc/init.d/S99memdog stop); rc=$?
expect stop-rc "'$out' rc=$rc" [ $rc -eq 0 ]
wdt_info
sleep 8   # twice the 4 s timeout
expect no-reset-after-magic-close "uptime=$(up)" true
ls -l /data | sed 's/^/BOARD-INFO ls: /'
dump L2 $LOG
# memdog-log: the same set through `memdog log` (the host compares it with
# the shell's copy above and with ssh's)
echo "BOARD-DUMP-BEGIN L3"
memdog log -c /etc/memdog.conf > /tmp/memdog-log.out 2> /tmp/memdog-log.err; rc=$?
tr -d '\000' < /tmp/memdog-log.out | sed "s/^/BOARD-L L3 /"
echo "BOARD-DUMP-END L3"
expect memdog-log-rc "rc=$rc stderr='$(cat /tmp/memdog-log.err)'" [ $rc -eq 0 ]
expect memdog-log-equals-set "" sh -c '. /etc/board/lib.sh; logset /data/memdog.log | cmp -s - /tmp/memdog-log.out'
echo "BOARD-PULL-READY uptime=$(up)"
sleep 120
fail pull "the host did not power the guest off"
poweroff
