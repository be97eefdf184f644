#!/usr/bin/env python3
"""`make size-modules`: where each board binary's code goes, per memdog module.

Sums the function symbol sizes of the unstripped release builds
(target/cross/<t>/<t>/release/memdog) by the memdog module in the name:
a function inlined into a caller counts for the caller's module, and an
address with two names counts once. `main+cli` is main with the command-line
parser inlined into it; `inspect` is `maps` and `dump`. For choosing what to
trim next and for deciding which tools a board binary carries.
"""
import re
import subprocess
import sys

targets = sys.argv[1:]
short = {t: t.split("-")[0] for t in targets}
table = {}
for t in targets:
    path = f"target/cross/{t}/{t}/release/memdog"
    try:
        out = subprocess.run(["nm", "-S", "-C", path], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"size-modules: cannot read the symbols of {path} ({e}); run make cross")
    seen = set()
    for line in out.splitlines():
        parts = line.split(" ", 3)
        if len(parts) != 4 or parts[2] not in ("t", "T") or parts[0] in seen:
            continue
        seen.add(parts[0])
        name = parts[3]
        m = re.search(r"memdog::(\w+)", name)
        mod = m.group(1) if m else "main+cli" if name == "main" else "(core, libc, builtins)"
        row = table.setdefault(mod, {})
        row[t] = row.get(t, 0) + int(parts[1], 16)

first = targets[0]
print("%-24s" % "code bytes" + "".join("%10s" % short[t] for t in targets))
for mod, row in sorted(table.items(), key=lambda kv: -kv[1].get(first, 0)):
    print("%-24s" % mod + "".join("%10d" % row.get(t, 0) for t in targets))
print("%-24s" % "total" + "".join("%10d" % sum(r.get(t, 0) for r in table.values()) for t in targets))
