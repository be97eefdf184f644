# memdog — two entry points for a newcomer (see README.md):
#   make run    build the agent and watch this machine's /proc in the foreground
#   make test   everything CI checks (fmt, clippy, unit + integration tests, cross builds under qemu)
# Others: make bench, make size, make cross, make dist.

CARGO   ?= cargo
BIN     := target/release/memdog
RUN_ARGS ?= run -c board-configs/default.conf

.PHONY: all run test lint unit bench soak size host-deps test-deps

all: $(BIN)

# rustup's toolchain ships rustfmt and clippy on these machines; say so clearly if not
host-deps:
	@command -v $(CARGO) >/dev/null || { echo "make: cargo not found: install rustup (https://rustup.rs)" >&2; exit 1; }
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

$(BIN): host-deps $(wildcard src/*.rs src/*/*.rs) Cargo.toml
	$(CARGO) build --release --locked

run: $(BIN)
	./$(BIN) $(RUN_ARGS)

# tools the integration tests compare against: strings (binutils), GNU time, gdb; rsyslog and busybox (syslogd, logread) store what report reads;
# prometheus (server and promtool) and prometheus-node-exporter check and read memdog's metrics, strace makes its sends fail (tests/metrics.rs)
TEST_PKGS := binutils time gdb faketime rsyslog busybox prometheus prometheus-node-exporter python3 strace
test-deps:
	@missing=""; for p in $(TEST_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "make: apt-get install$$missing"; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; fi

lint: host-deps
	$(CARGO) fmt --check
	$(CARGO) clippy --locked --all-targets -- -D warnings
	$(CARGO) clippy --locked --no-default-features -- -D warnings   # the board build (no report)

unit: host-deps test-deps
	$(CARGO) test --locked

# `size` last: the budgets are a fixed point (docs/size.md), and a breach
# fails CI after every other check has had its say
test: lint unit cross-test fuzz-smoke board-test size

# figures for the closing notes: CPU per sample vs kernel floor and shell loop, own RSS
# strace counts the system calls per sample (memdog's and the floor's)
bench: $(BIN)
	@command -v strace >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends strace >/dev/null; }
	$(CARGO) bench --locked --bench sample_cost
	$(CARGO) bench --locked --bench detection

# long run: own RSS and fds flat over SOAK_SAMPLES (default 100 000) evaluated samples
soak: $(BIN)
	$(CARGO) bench --locked --bench soak

# board in a box: Debian's ARM and MIPS kernels under qemu-system, each
# with a rootfs made from the `make dist` tarball as README installs it,
# busybox init and S99memdog; scenarios boot, leak (to a watchdog reset,
# then the pull over serial/ssh into `memdog report`), flash (ENOSPC, reboot -f).
# Two guests at a time; downloads cached in target/board-cache.
BOARD_ARCHES ?= aarch64 mipsel mips armv7
.PHONY: board-test
board-test: dist $(BIN)
	@BOARD_ARCHES='$(BOARD_ARCHES)' bash tests/board/board.sh all

include cross/cross.mk
include fuzz/fuzz.mk
