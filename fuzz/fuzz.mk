# Fuzzing with cargo-fuzz (libFuzzer), on rustup's stable rustc with
# RUSTC_BOOTSTRAP=1 for the sanitizer flags. Included by the top Makefile.
#   make fuzz         every target for FUZZ_SECONDS (default 60)
#   make fuzz-smoke   every target for 15 s (CI)
FUZZ_TARGETS := status stat maps meminfo config args report lines
FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-smoke fuzz-deps fuzz-corpus

fuzz-deps:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked

fuzz-corpus:
	@for t in status stat maps meminfo; do mkdir -p fuzz/corpus/$$t; \
	  for f in tests/fixtures/proc/*/[0-9]*/$$t tests/fixtures/proc/*/$$t; do [ -f "$$f" ] && cp "$$f" fuzz/corpus/$$t/$$(echo $$f | tr / _); done; done; true
	@for t in $(FUZZ_TARGETS); do mkdir -p fuzz/corpus/$$t; done
	@cp board-configs/*.conf fuzz/corpus/config/
	@printf 'watch\0--pid\0self\0--interval\0500ms\0--fields\0VmRSS,heap' > fuzz/corpus/args/watch
	@printf 'run\0-c\0x.conf\0--daemonize\0--pidfile\0p' > fuzz/corpus/args/run
	@printf '2026-11-24T10:00:00Z up=1.5 seq=1 pid=3 name="a b" VmRSS=12 heap=4\n2026-11-24-10:00:00\nVmRSS:\t 12 kB\n' > fuzz/corpus/report/seed
	@printf 'a\nbb\n\nlong line\n' > fuzz/corpus/lines/seed

define fuzz_run
	@mkdir -p target; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t ($(1) s)"; \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run $$t corpus/$$t -- -max_total_time=$(1) -print_final_stats=1) > target/fuzz-$$t.log 2>&1; rc=$$?; \
	  grep -E "stat::number_of_executed_units|SUMMARY|panicked|ERROR" target/fuzz-$$t.log; \
	  [ $$rc -eq 0 ] || { tail -40 target/fuzz-$$t.log; exit 1; }; \
	done
endef

fuzz: fuzz-deps fuzz-corpus
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-deps fuzz-corpus
	$(call fuzz_run,15)
