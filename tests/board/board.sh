#!/bin/bash
# Board in a box: memdog on Debian's own ARM and MIPS kernels under
# qemu-system (TCG), from the `make dist` tarball installed as README says.
#
#   board.sh deps                 host packages (apt-get, by name)
#   board.sh prepare ARCH         kernel + userland (cached), leak helper, rootfs
#   board.sh run ARCH SCENARIO    boot the scenario, check what the host reads back
#   board.sh all [ARCH...]        prepare + every scenario, two guests at a time
#
# ARCH: armv7 aarch64 mipsel mips (big endian). SCENARIO: boot leak flash
# procd (leak includes scenario 4, the pull over the serial console and
# ssh/scp; procd runs on BOARD_PROCD_ARCHES, default armv7, "all" for all).
# Each console line in $CACHE/ARCH/logs/SCENARIO.log is prefixed with the
# seconds since qemu started (stamped here). Knobs: BOARD_CACHE (default
# target/board-cache), BOARD_ARCHES, BOARD_SCENARIOS, BOARD_DIST (dist),
# BOARD_SSH_BASE (22400), BOARD_MIPS_BE (the prebuilt big-endian kernel,
# busybox and dropbear, ../shared/board/mips-be).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${BOARD_CACHE:-$ROOT/target/board-cache}
MIPS_BE=${BOARD_MIPS_BE:-$ROOT/../shared/board/mips-be}
SSH_BASE=${BOARD_SSH_BASE:-22400}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -1)
HOST_MEMDOG=$ROOT/target/release/memdog
DIST=${BOARD_DIST:-$ROOT/dist}   # where make dist put the tarballs

die() { echo "board.sh: $*" >&2; exit 1; }
say() { echo "board: $*"; }

# Host packages. --allow-downgrades qemu-utils/bookworm: a machine with
# bookworm-backports' qemu-utils 10 would otherwise lose qemu-img, which
# Breaks qemu-system-common 7.2 (../shared/BOARD.md, "Host setup").
HOST_PKGS="qemu-system-arm qemu-system-mips cpio kmod e2fsprogs openssh-client xz-utils python3"
cmd_deps() {
	local need="" p
	for p in $HOST_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
	[ -n "$need" ] || return 0
	say "apt-get install$need"
	apt-get update -qq
	local extra=""
	if dpkg -s qemu-utils 2>/dev/null | grep -q '^Version: 1:1[0-9]'; then extra="qemu-utils/bookworm"; fi
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --allow-downgrades \
		$need $extra >/dev/null
	command -v qemu-img >/dev/null || say "WARNING: qemu-img is gone (apt-get install qemu-utils)"
}

arch_setup() {
	ARCH=$1
	APPEND_EXTRA=""; LIBDIR=""; LDSO=""; DEB_ARCH=""; KMETA=""
	case "$ARCH" in
	armv7)
		DEB_ARCH=armhf; KMETA=linux-image-armmp; QEMU=qemu-system-arm
		# highmem=off: the non-LPAE armmp kernel cannot reach PCI windows above 4 GiB
		MACHINE=(-M virt,highmem=off -cpu cortex-a15); CONSOLE=ttyAMA0
		TRIPLE=armv7-unknown-linux-musleabihf; ZT=arm-linux-musleabihf
		LIBDIR=lib/arm-linux-gnueabihf; LDSO=lib/ld-linux-armhf.so.3
		WDT="softdog soft_margin=8"; FLASH=ext4 ;;
	aarch64)
		DEB_ARCH=arm64; KMETA=linux-image-arm64; QEMU=qemu-system-aarch64
		MACHINE=(-M virt -cpu cortex-a53); CONSOLE=ttyAMA0
		TRIPLE=aarch64-unknown-linux-musl; ZT=aarch64-linux-musl
		LIBDIR=lib/aarch64-linux-gnu; LDSO=lib/ld-linux-aarch64.so.1
		# the emulated Intel 6300ESB: a real PCI watchdog with a boot status
		WDT="i6300esb heartbeat=8"; FLASH=ext4 ;;
	mipsel)
		DEB_ARCH=mipsel; KMETA=linux-image-4kc-malta; QEMU=qemu-system-mipsel
		MACHINE=(-M malta); CONSOLE=ttyS0
		TRIPLE=mipsel-unknown-linux-musl; ZT=mipsel-linux-musleabi
		LIBDIR=lib/mipsel-linux-gnu; LDSO=lib/ld.so.1
		WDT="softdog soft_margin=8"; FLASH=jffs2 ;;
	mips)
		QEMU=qemu-system-mips; MACHINE=(-M malta); CONSOLE=ttyS0
		TRIPLE=mips-unknown-linux-musl; ZT=mips-linux-musleabi
		# everything is built into this kernel: softdog's margin from the command line
		WDT=""; APPEND_EXTRA="softdog.soft_margin=8"; FLASH=jffs2 ;;
	*) die "unknown ARCH '$ARCH' (armv7 aarch64 mipsel mips)" ;;
	esac
	W=$CACHE/$ARCH
	case "$ARCH" in armv7) SSH_PORT=$SSH_BASE ;; aarch64) SSH_PORT=$((SSH_BASE + 1)) ;;
		mipsel) SSH_PORT=$((SSH_BASE + 2)) ;; mips) SSH_PORT=$((SSH_BASE + 3)) ;; esac
}

# --- kernel and userland from Debian bookworm (private apt state: the host's
# dpkg database and /etc/apt are left alone) ---------------------------------
APTDIR=$CACHE/apt
apt_opts() {
	echo "-o Dir::Etc::sourcelist=$APTDIR/sources-$DEB_ARCH.list -o Dir::Etc::sourceparts=/nonexistent" \
	     "-o Dir::State::lists=$APTDIR/lists-$DEB_ARCH -o Dir::State::status=$APTDIR/status" \
	     "-o Dir::Cache=$APTDIR/cache-$DEB_ARCH -o APT::Architecture=$DEB_ARCH" \
	     "-o APT::Architectures=$DEB_ARCH -o APT::Sandbox::User=root -q"
}
USERLAND_PKGS="busybox-static dropbear-bin openssh-sftp-server libc6 libcrypt1 libtomcrypt1 libtommath1 libgmp10 zlib1g"

fetch_debian() {
	[ -f "$W/kver" ] && [ -d "$W/x/boot" ] && return 0
	mkdir -p "$APTDIR/lists-$DEB_ARCH/partial" "$APTDIR/cache-$DEB_ARCH/archives/partial" "$W"
	[ -f "$APTDIR/status" ] || : > "$APTDIR/status"
	local k=/usr/share/keyrings/debian-archive-keyring.gpg
	printf '%s\n' "deb [signed-by=$k] http://deb.debian.org/debian bookworm main" \
		"deb [signed-by=$k] http://deb.debian.org/debian bookworm-updates main" \
		"deb [signed-by=$k] http://deb.debian.org/debian-security bookworm-security main" > "$APTDIR/sources-$DEB_ARCH.list"
	# one list and cache directory per architecture: arches boot in parallel,
	# and apt-get update deletes every list file its own sources do not name,
	# so a shared lists dir lost mipsel's Packages to arm64's update (seen on
	# a cold cache: "cannot resolve", "Unable to locate package"). The lock
	# only keeps two updates from sharing apt's lock file.
	# shellcheck disable=SC2046
	flock "$APTDIR/.lock" apt-get $(apt_opts) update >/dev/null
	local kpkg
	# shellcheck disable=SC2046
	kpkg=$(apt-cache $(apt_opts) depends "$KMETA" | awk '/Depends: linux-image-/{print $2; exit}')
	kpkg=${kpkg%%:*}
	[ -n "$kpkg" ] || die "$ARCH: cannot resolve $KMETA for $DEB_ARCH"
	rm -rf "$W/debs" "$W/x"; mkdir -p "$W/debs" "$W/x"
	# shellcheck disable=SC2046
	(cd "$W/debs" && flock "$APTDIR/.lock" apt-get $(apt_opts) download "$kpkg" $USERLAND_PKGS >/dev/null)
	: > "$W/versions.txt"
	local d
	for d in "$W/debs/"*.deb; do
		dpkg-deb -x "$d" "$W/x"
		echo "$(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)" >> "$W/versions.txt"
	done
	rm -rf "$W/debs"   # 45-60 MB each; the extracted tree is what is used
	local kver
	kver=$(ls "$W/x/lib/modules")
	# Debian's kernel .deb has no modules.dep (its postinst runs depmod)
	depmod -b "$W/x" -F "$W/x/boot/System.map-$kver" "$kver"
	echo "$kver" > "$W/kver"
}

# big endian MIPS: no Debian port since buster. The kernel, busybox and
# dropbear built from Debian bookworm sources (../shared/board/mips-be).
fetch_mips_be() {
	[ -f "$W/vmlinux" ] && [ -f "$W/busybox" ] && return 0
	mkdir -p "$W"
	local f
	for f in vmlinux busybox dropbearmulti; do
		[ -f "$MIPS_BE/$f.xz" ] || return 1
		xz -dc "$MIPS_BE/$f.xz" > "$W/$f.tmp"
	done
	(cd "$W" && sed 's/  \(.*\)$/  \1.tmp/' "$MIPS_BE/SHA256SUMS" | sha256sum -c --quiet) ||
		die "mips: $MIPS_BE/SHA256SUMS does not match the unpacked files"
	for f in vmlinux busybox dropbearmulti; do mv "$W/$f.tmp" "$W/$f"; done
	chmod 755 "$W/busybox" "$W/dropbearmulti"
	cp "$MIPS_BE/versions.txt" "$W/versions.txt"
}

# The leak helper, static, with the project's own zig-cc wrappers.
build_leaker() {
	local src=$HERE/helpers/leaker.c out=$W/leaker
	[ -f "$out" ] && [ "$out" -nt "$src" ] && return 0
	[ -x "$ROOT/cross/zcc-$ZT" ] || die "no cross/zcc-$ZT (make cross-deps)"
	# zig's default CPU per target, as for memdog's own link (one musl build
	# in zig's cache serves both)
	"$ROOT/cross/zcc-$ZT" -static -Os -o "$out.tmp" "$src"
	mv "$out.tmp" "$out"
}

module_list() {   # loaded at boot, in this order
	printf '%s\n' virtio_pci virtio_blk virtio_net virtio_rng crc32c_generic ext4
}
extra_modules() { # copied, loaded by the scenarios that need them
	printf '%s\n' softdog i6300esb jffs2 block2mtd mtdblock
}

# The rootfs a user's board would have: the dist tarball unpacked, memdog in
# /usr/bin, a config as /etc/memdog.conf, S99memdog in /etc/init.d; busybox
# init; dropbear for ssh. Scenarios replace /etc/memdog.conf in their overlay.
cmd_prepare() {
	local tgz=$DIST/memdog-$VERSION-$TRIPLE.tar.gz
	[ -f "$tgz" ] || die "$tgz missing: run make dist first"
	if [ "$ARCH" = mips ]; then
		fetch_mips_be || { echo "board: SKIP mips: no prebuilt big-endian kernel in $MIPS_BE" \
			"(build it with ../shared/board/board.sh kbuild mips, ~6 min; see BOARD.md)"; return 3; }
	else
		fetch_debian
	fi
	build_leaker
	local R=$W/root X=$W/x
	rm -rf "$R"; mkdir -p "$R"
	(cd "$R" && mkdir -p bin sbin usr/bin usr/sbin usr/lib etc/init.d etc/board etc/dropbear \
		proc sys dev tmp run data flash var/run var/log root/.ssh)
	# the user's install, from the tarball (its SHA256SUMS checked first)
	local u=$W/unpack
	rm -rf "$u"; mkdir -p "$u"; tar -C "$u" -xzf "$tgz"
	local p=$u/memdog-$VERSION-$TRIPLE
	(cd "$p" && sha256sum -c --quiet SHA256SUMS) || die "$tgz: SHA256SUMS does not match"
	install -m 755 "$p/memdog" "$R/usr/bin/memdog"
	install -m 644 "$p/board-configs/default.conf" "$R/etc/memdog.conf"
	install -m 755 "$p/board-configs/init/S99memdog" "$R/etc/init.d/S99memdog"
	install -m 755 "$W/leaker" "$R/usr/bin/leaker"
	if [ "$ARCH" = mips ]; then cp "$W/busybox" "$R/bin/busybox"; else cp "$X/bin/busybox" "$R/bin/busybox"; fi
	install -m 755 "$HERE/guest/init" "$R/init"
	install -m 644 "$HERE/guest/inittab" "$R/etc/inittab"
	install -m 755 "$HERE/guest/rcS" "$HERE/guest/rcK" "$HERE/guest/board-scenario" \
		"$HERE/guest/S50dropbear" "$R/etc/init.d/"
	echo "$ARCH" > "$R/etc/board/arch"
	printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
	printf 'root:x:0:\n' > "$R/etc/group"
	printf '/bin/sh\n' > "$R/etc/shells"
	printf 'passwd: files\ngroup: files\n' > "$R/etc/nsswitch.conf"
	mkdir -p "$CACHE/ssh"
	[ -f "$CACHE/ssh/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$CACHE/ssh/id_ed25519"
	cp "$CACHE/ssh/id_ed25519.pub" "$R/root/.ssh/authorized_keys"
	chmod 700 "$R/root" "$R/root/.ssh"; chmod 600 "$R/root/.ssh/authorized_keys"
	if [ "$ARCH" = mips ]; then
		: > "$R/etc/board/modules"
		cp "$W/dropbearmulti" "$R/usr/sbin/dropbear"
		ln -s ../sbin/dropbear "$R/usr/bin/scp"
		ln -s ../sbin/dropbear "$R/usr/bin/dropbearkey"
	else
		local kver lib f
		kver=$(cat "$W/kver")
		mkdir -p "$R/$LIBDIR" "$R/lib/modules/$kver"
		cp "$X/usr/sbin/dropbear" "$R/usr/sbin/"
		cp "$X/usr/lib/openssh/sftp-server" "$R/usr/lib/sftp-server"   # dropbear's SFTPSERVER_PATH
		cp -L "$X/$LDSO" "$R/$LDSO"
		for lib in libc.so.6 libcrypt.so.1 libz.so.1 libnss_files.so.2 libtomcrypt.so.1 libtommath.so.1 libgmp.so.10; do
			f=$(find "$X/$LIBDIR" "$X/usr/$LIBDIR" -maxdepth 1 -name "$lib" 2>/dev/null | head -1)
			[ -n "$f" ] || die "$ARCH: $lib not in the extracted packages"
			cp -L "$f" "$R/$LIBDIR/$lib"
		done
		module_list > "$R/etc/board/modules"
		local mod ko
		while read -r mod; do
			while read -r ko; do
				mkdir -p "$R/$(dirname "${ko#"$X"/}")"
				cp "$ko" "$R/${ko#"$X"/}"
			done < <(modprobe -d "$X" -S "$kver" --show-depends "$mod" 2>/dev/null | awk '$1=="insmod"{print $2}')
		done < <(module_list; extra_modules)
		cp "$X/lib/modules/$kver/"modules.{order,builtin,builtin.modinfo} "$R/lib/modules/$kver/"
		depmod -b "$R" -F "$X/boot/System.map-$kver" "$kver"
	fi
	(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 > "$W/base.cpio.gz")
	say "$ARCH: rootfs $W/base.cpio.gz ($(du -k "$W/base.cpio.gz" | cut -f1) KiB) from $(basename "$tgz")"
}

kernel_path() {
	if [ "$ARCH" = mips ]; then echo "$W/vmlinux"; else echo "$W/x/boot/vmlinuz-$(cat "$W/kver")"; fi
}

# The scenario's files as a second cpio appended to the base one (the kernel
# unpacks both; later files replace earlier ones)
make_initrd() {
	local sc=$1 out=$2 O
	O=$(mktemp -d)
	mkdir -p "$O/etc/board"
	install -m 755 "$HERE/scenarios/$sc.sh" "$O/etc/board/scenario.sh"
	install -m 755 "$HERE/scenarios/lib.sh" "$O/etc/board/lib.sh"
	[ -f "$HERE/scenarios/$sc.conf" ] && install -m 644 "$HERE/scenarios/$sc.conf" "$O/etc/memdog.conf"
	[ -f "$HERE/scenarios/$sc.pre-init" ] && install -m 755 "$HERE/scenarios/$sc.pre-init" "$O/etc/board/pre-init.sh"
	# the scenario's own files (stand-ins), over the base rootfs
	[ -d "$HERE/scenarios/$sc.root" ] && cp -R "$HERE/scenarios/$sc.root/." "$O/"
	echo "$WDT" > "$O/etc/board/watchdog"
	echo "$FLASH" > "$O/etc/board/flash"
	(cd "$O" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9) > "$out.overlay"
	cat "$W/base.cpio.gz" "$out.overlay" > "$out"
	rm -rf "$O" "$out.overlay"
}

disks() {
	rm -f "$W/data.img" "$W/flash.img"
	truncate -s 32M "$W/data.img"
	mke2fs -q -F -t ext4 -L data "$W/data.img"
	if [ "$FLASH" = jffs2 ]; then
		# erased NOR reads 0xFF; block2mtd with 64 KiB erase blocks
		head -c 2M /dev/zero | tr '\0' '\377' > "$W/flash.img"
	else
		# no block2mtd in Debian's ARM kernels: a small ext4 "flash", no
		# root reserve, so the log's disk really runs out
		truncate -s 2M "$W/flash.img"
		mke2fs -q -F -t ext4 -m 0 -N 64 -L flash "$W/flash.img"
	fi
}

# boot SCENARIO TIMEOUT: qemu in the background, its console stamped into the log
boot() {
	local sc=$1 tmo=$2
	mkdir -p "$W/logs"
	LOG=$W/logs/$sc.log
	local initrd=$W/logs/$sc.initrd
	make_initrd "$sc" "$initrd"
	disks
	local q=("$QEMU" "${MACHINE[@]}" -m 256 -smp 1 -nodefaults -display none
		-kernel "$(kernel_path)" -initrd "$initrd"
		-append "console=$CONSOLE panic=5 loglevel=6 $APPEND_EXTRA"
		-serial stdio -monitor none
		-drive "if=none,id=data,format=raw,file=$W/data.img" -device virtio-blk-pci,drive=data
		-drive "if=none,id=flash,format=raw,file=$W/flash.img" -device virtio-blk-pci,drive=flash
		-device virtio-rng-pci
		# romfile=: no PXE ROM (efi-virtio.rom is in ipxe-qemu, not installed)
		-netdev "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22"
		-device virtio-net-pci,netdev=net0,romfile=
		# last: malta gives PCI slot 22 no interrupt, and the watchdog needs none
		-device i6300esb -action watchdog=reset)
	printf '%q ' "${q[@]}" > "$W/logs/$sc.cmdline"; echo >> "$W/logs/$sc.cmdline"
	local t0=${EPOCHREALTIME/./}
	(
		set +e
		timeout -k 5 "$tmo" "${q[@]}" < /dev/null 2> "$W/logs/$sc.qemu-stderr"
		echo "QEMU-EXIT rc=$?"
	) | while IFS= read -r line || [ -n "$line" ]; do
		local now=${EPOCHREALTIME/./} d
		d=$((now - t0))
		printf '%4d.%03d %s\n' $((d / 1000000)) $((d % 1000000 / 1000)) "${line%$'\r'}"
	done > "$LOG" &
	QPID=$!
}

SSHO=()
ssh_setup() {
	SSHO=(-i "$CACHE/ssh/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
		-o LogLevel=ERROR -o ConnectTimeout=20 -o BatchMode=yes)
}
gssh() { ssh -p "$SSH_PORT" "${SSHO[@]}" root@127.0.0.1 "$@"; }

# wait_for PATTERN SECONDS: until the console log has PATTERN (0) or qemu ended (1)
wait_for() {
	local pat=$1 n=$(($2 * 5))
	while [ $n -gt 0 ]; do
		grep -q -- "$pat" "$LOG" 2>/dev/null && return 0
		grep -q 'QEMU-EXIT' "$LOG" 2>/dev/null && return 1
		sleep 0.2; n=$((n - 1))
	done
	return 1
}

cmd_run() {
	local sc=$1 rc=0
	[ -f "$W/base.cpio.gz" ] || die "$ARCH: not prepared (board.sh prepare $ARCH)"
	ssh_setup
	local t0=${EPOCHREALTIME/./}
	case "$sc" in
	boot) boot boot 150; wait "$QPID" ;;
	flash) boot flash 150; wait "$QPID" ;;
	procd) boot procd 150; wait "$QPID" ;;
	leak)
		boot leak 200
		# scenario 4, pull: once the board is back up after its reset
		local pull=$W/logs/pull; rm -rf "$pull"; mkdir -p "$pull"
		if wait_for 'BOARD-PULL-READY' 150; then
			gssh 'cd /data && for f in $(ls -r memdog.log.* 2>/dev/null) memdog.log; do cat "$f"; done' \
				> "$pull/ssh-cat.log" 2> "$pull/ssh.err" || echo "ssh cat failed rc=$?" >> "$pull/ssh.err"
			gssh 'ls /data' > "$pull/ls.txt" 2>> "$pull/ssh.err" || true
			local scpo=(); [ "$ARCH" = mips ] && scpo=(-O)   # BE build: dropbear's scp, no sftp-server
			mkdir -p "$pull/scp"
			# shellcheck disable=SC2046
			scp "${scpo[@]}" -P "$SSH_PORT" "${SSHO[@]}" $(sed 's|^|root@127.0.0.1:/data/|' "$pull/ls.txt" | grep 'memdog\.log') \
				"$pull/scp/" 2>> "$pull/ssh.err" || echo "scp failed rc=$?" >> "$pull/ssh.err"
			# `memdog log`: the whole rotated set, oldest first, over ssh
			local lrc=0
			gssh 'memdog log -c /etc/memdog.conf' > "$pull/memdog-log.log" 2> "$pull/memdog-log.err" || lrc=$?
			echo "$lrc" > "$pull/memdog-log.rc"
			gssh poweroff >/dev/null 2>&1 || true
		fi
		wait "$QPID" ;;
	*) die "unknown scenario '$sc' (boot leak flash procd)" ;;
	esac
	local t1=${EPOCHREALTIME/./}
	echo "$(( (t1 - t0) / 1000 ))" > "$W/logs/$sc.wall-ms"
	python3 "$HERE/check.py" "$sc" "$ARCH" "$W/logs" "$HOST_MEMDOG" || rc=$?
	return $rc
}

# prepare + all scenarios for one architecture; the summary goes to $W/result
arch_all() {
	arch_setup "$1"
	mkdir -p "$W"
	local out=$W/all.out rc=0 sc t0=${EPOCHREALTIME/./}
	{
		cmd_prepare; rc=$?
		if [ $rc -eq 0 ]; then
			local scs=${BOARD_SCENARIOS:-boot leak flash}
			# procd (OpenWrt's watchdog owner; the ubus action is not per-arch
			# code): one architecture by default, to keep CI short
			case " ${BOARD_PROCD_ARCHES-armv7} " in
			*" $ARCH "* | " all ") [ -n "${BOARD_SCENARIOS:-}" ] || scs="$scs procd" ;;
			esac
			for sc in $scs; do
				cmd_run "$sc" || rc=1
			done
		fi
		local t1=${EPOCHREALTIME/./}
		say "$ARCH: done in $(( (t1 - t0) / 1000000 )) s, rc=$rc"
		echo $rc > "$W/rc"
	} > "$out" 2>&1 || { echo 1 > "$W/rc"; }
}

cmd_all() {
	local arches=("$@")
	[ ${#arches[@]} -gt 0 ] || read -r -a arches <<< "${BOARD_ARCHES:-aarch64 mipsel mips armv7}"
	cmd_deps
	[ -x "$HOST_MEMDOG" ] || die "$HOST_MEMDOG missing (make $HOST_MEMDOG)"
	local i a fail=0 skip=0 t0=${EPOCHREALTIME/./}
	# two guests at a time on the 2 cores (BOARD.md: two boots side by side
	# cost each little more than one alone)
	for ((i = 0; i < ${#arches[@]}; i += 2)); do
		local pids=()
		for a in "${arches[@]:i:2}"; do
			arch_all "$a" & pids+=($!)
		done
		wait "${pids[@]}" || true
	done
	for a in "${arches[@]}"; do
		arch_setup "$a"
		cat "$W/all.out"
		case "$(cat "$W/rc" 2>/dev/null || echo 1)" in
		0) ;;
		3) skip=1 ;;
		*) fail=1; echo "board: FAIL $a (logs in $W/logs)" ;;
		esac
	done
	local t1=${EPOCHREALTIME/./}
	say "all: ${arches[*]} in $(( (t1 - t0) / 1000000 )) s"
	[ $fail -eq 0 ] || exit 1
	[ $skip -eq 0 ] || say "(some architecture was skipped: see the SKIP lines above)"
}

[ $# -ge 1 ] || { sed -n '2,17p' "$0"; exit 2; }
verb=$1; shift
case "$verb" in
deps) cmd_deps ;;
fetch) arch_setup "$1"; if [ "$ARCH" = mips ]; then fetch_mips_be; else fetch_debian; fi; cat "$W/versions.txt" ;;
prepare) arch_setup "$1"; cmd_prepare ;;
run) arch_setup "$1"; cmd_run "$2" ;;
all) cmd_all "$@" ;;
*) die "unknown command '$verb'" ;;
esac
