#!/bin/sh
# scenario 3, flash. Boot 1: memdog (S99memdog, flash.conf) logs to /flash;
# a filler file takes the rest of the filesystem (ENOSPC); memdog goes on
# sampling and counts what it cannot write; the filler is removed and the
# `event=dropped lines=N` must match the lines missing (the host counts
# them by seq). The set is copied to the console, then SIGHUP (an event
# line, fsynced) and `reboot -f` at once. Boot 2: the set again.
. /etc/board/lib.sh
LOG=/flash/memdog.log
n=$(cat /data/boot-count 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /data/boot-count; sync
echo "BOARD-SCENARIO flash boot=$n uptime=$(up) fs=$(cat /etc/board/flash)"
expect flash-mounted "$(grep " /flash " /proc/mounts)" grep -q " /flash " /proc/mounts
if [ $n -eq 1 ]; then
	expect memdog-running "" /etc/init.d/S99memdog status
	wait_grep ' seq=8 ' "$LOG $LOG.1" 100
	df -k /flash | tail -1 | sed 's/^/BOARD-INFO df before: /'
	dd if=/dev/urandom of=/flash/fill bs=4096 2>/tmp/dd.err
	echo "BOARD-INFO filled uptime=$(up): $(tail -1 /tmp/dd.err)"
	expect enospc "$(grep -o 'No space left on device' /tmp/dd.err | head -1)" grep -q 'No space left' /tmp/dd.err
	df -k /flash | tail -1 | sed 's/^/BOARD-INFO df full: /'
	sleep 3
	pid=$(cat /var/run/memdog.pid)
	expect sampling-while-full "" kill -0 "$pid"
	rm -f /flash/fill; sync
	echo "BOARD-INFO freed uptime=$(up)"
	expect dropped-logged "within 20 s of freeing" wait_grep 'event=dropped' "$LOG $LOG.1" 200
	sleep 1
	ls -l /flash | sed 's/^/BOARD-INFO ls: /'
	bad=
	for f in /flash/*; do
		case "$f" in
		/flash/memdog.log|/flash/memdog.log.[1-7]) [ "$(wc -c < "$f")" -le 4096 ] || bad="$bad $f:$(wc -c < "$f")B" ;;
		/flash/lost+found) ;;   # mke2fs made it, not memdog
		*) bad="$bad $f" ;;
		esac
	done
	expect within-budget "${bad:-memdog.log + .1-.7, each <= 4096 bytes}" [ -z "$bad" ]
	dump L1 $LOG
	kill -HUP "$pid"
	wait_grep 'event=reload' "$LOG $LOG.1" 50
	echo "BOARD-INFO reboot -f uptime=$(up)"
	reboot -f
	exit
fi
bad=
for f in /flash/memdog.log*; do
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || bad="$bad $f"
done
expect whole-lines "${bad:-every file ends with a newline}" [ -z "$bad" ]
dump L2 $LOG
ls -l /flash | sed 's/^/BOARD-INFO ls: /'
echo "BOARD-DONE flash uptime=$(up)"
poweroff
