# memdog — see README.md. `make run` and `make test` are the two entry points.
.PHONY: all run test
all:
	cargo build --release
