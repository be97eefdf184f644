#!/bin/sh
# scenarios 2 and 4, leak to reset and pull. Boot 1: S99memdog's memdog
# (leak.conf) feeds /dev/watchdog; `leaker` grows its heap 1 MiB/s; the slope
# rule warns, the limit rule crits, the watchdog action stops feeding and
# the watchdog driver resets the guest. Once the crit action is in the log
# (fsynced), the log set is copied to the console. Boot 2: the log set again
# (serial pull), the reset reason, the driver's boot status; the host pulls
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
	pending watchdog-timeout "leak.conf sets watchdog_timeout = 4s; memdog logs the driver's answer to WDIOC_SETTIMEOUT (4) and /sys/class/watchdog/watchdog0/timeout reads 4 (today the module parameter sets 8); the reset then comes ~4 s after feeding stops"
	pending watchdog-procd "watchdog_device = procd with a stand-in /sbin/ubus that records its argv and stops feeding /dev/watchdog as procd would: the action execs 'ubus call system watchdog {\"stop\": true}' (no shell) after writing reset_reason, and the guest resets"
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
wait_grep 'event=' "$LOG $LOG.1" 30
echo "BOARD-INFO reset_reason: $(cat /data/memdog.reset-reason 2>&1)"
expect reset-reason "" grep -q 'leaker' /data/memdog.reset-reason
pending boot-status-line "memdog's first lines after the reset name the driver's WDIOF_CARDRESET boot status and the reset-reason (rule VmRSS > 12288, name=leaker, last value, slope)"
# S99memdog stop: SIGTERM, memdog writes the magic 'V' and closes the
# watchdog. Had it not, the driver would reset the guest within its 8 s
# timeout, while the host pulls (a third boot: the host fails the run).
out=$(/etc/init.d/S99memdog stop); rc=$?
expect stop-rc "'$out' rc=$rc" [ $rc -eq 0 ]
wdt_info
sleep 10
expect no-reset-after-magic-close "uptime=$(up)" true
ls -l /data | sed 's/^/BOARD-INFO ls: /'
dump L2 $LOG
pending memdog-log "memdog log -c /etc/memdog.conf prints the set oldest first, equal to the serial and ssh copies"
echo "BOARD-PULL-READY uptime=$(up)"
sleep 120
fail pull "the host did not power the guest off"
poweroff
