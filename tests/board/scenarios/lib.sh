# shared by the guest-side scenario scripts (sourced). Everything the host
# checks is a console line: BOARD-CHECK ok|FAIL NAME [detail],
# BOARD-SKIP NAME: why not tested (loud on the host), BOARD-FIGURE key=value,
# BOARD-L TAG <line> for a copy of a file (the serial-console pull).
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
up() { cut -d' ' -f1 /proc/uptime; }
ok() { echo "BOARD-CHECK ok $*"; }
fail() { echo "BOARD-CHECK FAIL $*"; }
# expect NAME DETAIL CMD...: ok or FAIL by CMD's status
expect() {
	_en=$1 _ed=$2; shift 2
	if "$@"; then ok "$_en $_ed"; else fail "$_en $_ed"; fi
}
figure() { echo "BOARD-FIGURE $*"; }
# status_field KEY PID: the kB number (or count) of KEY in /proc/PID/status
status_field() { awk -v k="$1:" '$1 == k { print $2; exit }' "/proc/$2/status"; }
# logset BASE: the rotated set, oldest first (BASE.N ... BASE.1 BASE)
logset() {
	for f in $(ls "$1".* 2>/dev/null | sort -t. -k3 -n -r) "$1"; do
		[ -f "$f" ] && cat "$f"
	done
}
# dump TAG BASE: the rotated set on the console, one BOARD-L line per line
# (NUL bytes dropped: the console cannot carry them, busybox sed mangles
# them; their count is printed)
dump() {
	echo "BOARD-DUMP-BEGIN $1 nul_bytes=$(logset "$2" | tr -cd '\000' | wc -c)"
	logset "$2" | tr -d '\000' | sed "s/^/BOARD-L $1 /"
	echo "BOARD-DUMP-END $1"
}
# wait_grep PATTERN "FILE..." TENTHS: until one FILE has PATTERN, at most
# TENTHS/10 s (give the log and its .1: a rotation may move the line at once)
wait_grep() {
	_wi=0
	while [ $_wi -lt "$3" ]; do
		# shellcheck disable=SC2086
		grep -q -- "$1" $2 2>/dev/null && return 0
		sleep 0.1; _wi=$((_wi + 1))
	done
	return 1
}
# maps_sum PID: "mappings total_kb heap_kb stack_kb special_kb" from
# /proc/PID/maps, by busybox sh arithmetic (the reference for memdog maps),
# then the special mappings' names ("vvar,vdso"; no brackets: `set -- $(...)`
# would glob them)
maps_sum() {
	_mn=0 tot=0 heap=0 stack=0 special=0 SPECIALS=
	while read -r range perms off dev inode path; do
		s=${range%-*} e=${range#*-}
		kb=$(( (0x$e - 0x$s) / 1024 ))
		_mn=$((_mn + 1)) tot=$((tot + kb))
		case "$path" in
		"[heap]") heap=$((heap + kb)) ;;
		"[stack]") stack=$((stack + kb)) ;;
		"["*) special=$((special + kb)); _sp=${path#?}; SPECIALS="$SPECIALS${SPECIALS:+,}${_sp%?}" ;;
		esac
	done < "/proc/$1/maps"
	echo "$_mn $tot $heap $stack $special ${SPECIALS:-none}"
}
wdt_info() {
	for w in /sys/class/watchdog/watchdog*; do
		[ -d "$w" ] || continue
		echo "BOARD-WDT $(basename "$w") identity=$(cat "$w/identity" 2>/dev/null | tr ' ' _)" \
			"timeout=$(cat "$w/timeout" 2>/dev/null) bootstatus=$(cat "$w/bootstatus" 2>/dev/null)"
	done
}
# wdt_sys BOOT: watchdog0's timeout and bootstatus from sysfs, for the host
wdt_sys() {
	_w=/sys/class/watchdog/watchdog0
	echo "BOARD-WDTSYS boot=$1 timeout=$(cat $_w/timeout 2>/dev/null || echo none)" \
		"bootstatus=$(cat $_w/bootstatus 2>/dev/null || echo none)"
}
