#!/bin/sh
# scenario procd (OpenWrt): procd owns /dev/watchdog, so memdog's watchdog
# action must ask it to stop feeding. procd.pre-init started the stand-in
# feeder (/sbin/procd-watchdog); /bin/ubus is a stand-in that records its
# argv. Boot 1: the leaker crosses the crit limit, memdog writes the reset
# reason and runs `/bin/ubus call system watchdog {"stop": true}` (no
# shell), the feeder stops, the driver resets the guest. Boot 2: memdog's
# start line names device=procd and the previous reset; the ubus record is
# copied to the console; the feeder magic-closes and the guest powers off.
. /etc/board/lib.sh
LOG=/data/memdog.log
n=$(cat /data/boot-count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /data/boot-count; sync
echo "BOARD-SCENARIO procd boot=$n uptime=$(up)"
wdt_info
if [ $n -eq 1 ]; then
	expect feeder-running "" [ -e /tmp/procd-watchdog.fed ]
	expect memdog-running "" /etc/init.d/S99memdog status
	expect ubus-not-called-yet "" [ ! -e /data/ubus.args ]
	leaker 512 500 & lk=$!
	echo "BOARD-INFO leaker pid=$lk started uptime=$(up)"
	if wait_grep 'action=watchdog' "$LOG $LOG.1" 600; then
		echo "BOARD-INFO watchdog action logged uptime=$(up)"
		i=0; while [ ! -e /tmp/procd-watchdog.stop ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		dump L1 $LOG
		i=0; while [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); echo "BOARD-WAIT t=$i uptime=$(up)"; done
		fail no-reset "the watchdog did not reset the guest within 30 s of the ubus call"
	else
		fail no-action "no action=watchdog in $LOG within 60 s"
		dump L1 $LOG
	fi
	poweroff
	exit
fi
# boot 2, after the reset
expect memdog-restarted "" /etc/init.d/S99memdog status
wait_grep 'previous_reset=' "$LOG $LOG.1" 100
expect reset-reason-told-once "size=$(wc -c < /data/memdog.reset-reason 2>&1)" \
	sh -c '[ -f /data/memdog.reset-reason ] && [ ! -s /data/memdog.reset-reason ]'
dump U /data/ubus.args
dump L2 $LOG
# the feeder lets go of the watchdog (magic close) before the poweroff
: > /tmp/procd-watchdog.release
sleep 2
echo "BOARD-DONE procd uptime=$(up)"
poweroff
