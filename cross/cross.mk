# Cross builds for boards: included by the top-level Makefile.
#   make cross       stripped static binaries -> dist/<target>/memdog
#   make size        size/static/no-malloc table; fails over a budget (cross/size.sh) or on any allocator symbol
#   make size-modules  code bytes per memdog module and target
#   make cross-test  library unit tests under qemu (armv7, big-endian mips, aarch64:
#                    the bare system calls of each ABI) and smoke runs of every
#                    cross binary through every subcommand and mode (cross/smoke.sh:
#                    fixture trees and live processes, compared with the host's;
#                    run --daemonize checked by cross/daemon-check.py)
#   make dist        dist/memdog-<version>-<target>.tar.gz with configs and SHA256SUMS

CROSS_TARGETS ?= armv7-unknown-linux-musleabihf aarch64-unknown-linux-musl \
                 mips-unknown-linux-musl mipsel-unknown-linux-musl \
                 x86_64-unknown-linux-musl armv5te-unknown-linux-musleabi
# Board builds are the agent (`run`, `check`, `log`) plus `watch` where it
# fits; they leave out what does not fit the board budgets (Cargo.toml's
# features, docs/size.md): the PC-side tools `report` and `dump --diff`,
# the interactive `snapshot`, `maps` and `dump --top`, and the agent's
# optional outputs and tools `dump` (memdog dump and the dump action, 7.6 KB
# on armv7), `metrics` (the Prometheus textfile and endpoint, 9.1 KB) and
# `syslog` (local and remote copies of the log, 1.6 KB). armv5te's Thumb-1
# code is 6 % larger than Thumb-2: it leaves `watch` (3.5 KB) out too. Each
# left-out tool answers with one line naming its feature; `memdog --version`
# lists a build's features. A board with the flash for more:
#   make cross CROSS_FEATURES="dump syslog metrics"
BOARD_FEATURES ?= watch
BOARD_FEATURES_armv5te-unknown-linux-musleabi ?=
CROSS_FEATURES ?=
board_features = $(strip $(if $(filter undefined,$(origin BOARD_FEATURES_$1)),$(BOARD_FEATURES),$(BOARD_FEATURES_$1)) $(CROSS_FEATURES))
CROSS_TEST_TARGETS ?= armv7-unknown-linux-musleabihf mips-unknown-linux-musl aarch64-unknown-linux-musl
XCARGO := RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc /usr/bin/cargo --config cross/cargo-config.toml
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

# Targets build side by side, one per core: each is a single-threaded LTO
# link plus a core (and, cold, a musl) build, so two cores halve the wall
# time (cold: 16 min one by one on 2 cores). Each gets its own target dir,
# since cargo locks a target dir for the whole build.
CROSS_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CROSS_BINS := $(foreach t,$(CROSS_TARGETS),dist/$(t)/memdog)

.PHONY: cross-deps cross size size-modules cross-test dist cross-force

cross-deps:
	@sh cross/install.sh

cross: cross-deps
	@$(MAKE) --no-print-directory -j$(CROSS_JOBS) $(CROSS_BINS)
	@ls -l $(CROSS_BINS)

# memcpy/memmove/memset from Rust's compiler_builtins, which are smaller
# than zig's musl ones on these targets (measured: armv5te -464 bytes,
# x86_64 -384, aarch64 -240, armv7 -84) but larger on MIPS (+672)
RUST_MEM_TARGETS := armv7-unknown-linux-musleabihf armv5te-unknown-linux-musleabi \
                    aarch64-unknown-linux-musl x86_64-unknown-linux-musl

# Release board binaries only (added to cross/cargo-config.toml's flags; the
# unit tests under qemu need unwinding): a panic is a trap instruction, with
# no panic handler or its location tables behind it (aarch64 -472, mips -592,
# armv7 -312 bytes). memdog's code does not panic (clippy denies unwrap,
# expect and panic; slices are read with get), so this only changes how a
# bug would end: SIGILL or SIGTRAP instead of SIGABRT.
RELEASE_RUSTFLAGS := ["-Zunstable-options", "-Cpanic=immediate-abort"]
# LLVM's machine outliner (repeated instruction sequences made into shared
# functions) for Thumb-2 only, where the stripped budget binds and xz has
# room: armv7 -736 bytes stripped, +290 xz (2026-12-02). Elsewhere it trades
# one budget for the other (docs/size.md), and Thumb-1 (armv5te) has none.
OUTLINE_TARGETS := armv7-unknown-linux-musleabihf
RELEASE_RUSTFLAGS_OUTLINE := ["-Zunstable-options", "-Cpanic=immediate-abort", "-Cllvm-args=-enable-machine-outliner"]

# always handed to cargo, which knows what is up to date; `+` hands it
# make's jobserver, so the builds share the -j tokens
dist/%/memdog: cross-force
	+@MEMDOG_DISCARD=1 CARGO_TARGET_DIR=target/cross/$* $(XCARGO) \
	  --config 'target.$*.rustflags=$(if $(filter $*,$(OUTLINE_TARGETS)),$(RELEASE_RUSTFLAGS_OUTLINE),$(RELEASE_RUSTFLAGS))' build --locked --release \
	  --no-default-features $(if $(call board_features,$*),--features "$(call board_features,$*)") \
	  --target $* -Zbuild-std=core -q \
	  $(if $(filter $*,$(RUST_MEM_TARGETS)),-Zbuild-std-features=compiler-builtins-mem)
	@mkdir -p dist/$* && llvm-strip --strip-all -o $@ target/cross/$*/$*/release/memdog

size: cross $(BIN)
	@sh cross/size.sh $(CROSS_TARGETS)

# code bytes per memdog module and target (docs/size.md)
size-modules: cross
	@python3 cross/size-modules.py $(CROSS_TARGETS)

# The library's unit tests under qemu are built at the release opt-level
# (std stays a debug build, debug assertions stay on): the inline asm of
# sys/raw.rs is only as right as the registers the optimizer gives its
# operands, and a debug build gives others. ARM's six-argument syscall had
# its pointer put in r7 by an optimized fork() only, so bare_fork_and_wait
# passed here at opt-level 0 while every board binary crashed in fork.
UNIT_OPT := --config 'profile.dev.package.memdog.opt-level="z"'

# Property tests run their full 256 cases on the host (make unit); under
# qemu they check the same properties on each ABI with fewer cases (the
# topk properties alone took 8.5 min under qemu-arm at 256)
CROSS_PROPTEST_CASES ?= 24

cross-test: cross $(BIN)
	@for t in $(CROSS_TEST_TARGETS); do \
	  echo "== unit tests under qemu: $$t"; \
	  PROPTEST_CASES=$(CROSS_PROPTEST_CASES) CARGO_PROFILE_DEV_PANIC=unwind $(XCARGO) $(UNIT_OPT) test --locked --lib --target $$t \
	    -Zbuild-std=std,panic_abort -q > target/cross-test-$$t.log 2>&1; rc=$$?; \
	  grep -E "^test result|FAILED|panicked|^error" target/cross-test-$$t.log; \
	  [ $$rc -eq 0 ] || { tail -30 target/cross-test-$$t.log; exit 1; }; \
	done
	@sh cross/smoke.sh $(CROSS_TARGETS)

dist: cross
	@sh cross/dist.sh $(VERSION) $(CROSS_TARGETS)
