#!/usr/bin/env python3
"""Receive datagrams for cross/smoke.sh: one per line into OUT.

  dgram-sink.py unix PATH OUT    bind a unix datagram socket at PATH
  dgram-sink.py udp PORTFILE OUT bind 127.0.0.1 on a free UDP port, written to PORTFILE

  dgram-sink.py end unix|udp PATH|IP:PORT   send the end marker to a sink

OUT.ready appears once the socket is bound. The sink stops at the end marker
(a datagram, so it comes after every datagram sent before it to the same
socket), on SIGTERM, or by itself after 60 s without a datagram, so a broken
smoke run leaves nothing behind.
"""
import signal
import socket
import sys

END = b"\0memdog-smoke-end"
if sys.argv[1] == "end":
    kind, where = sys.argv[2:4]
    if kind == "unix":
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(END, where)
    else:
        ip, port = where.rsplit(":", 1)
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(END, (ip, int(port)))
    sys.exit(0)
kind, where, out = sys.argv[1:4]
if kind == "unix":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(where)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    with open(where, "w") as f:
        f.write("%d\n" % s.getsockname()[1])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s.settimeout(60)
with open(out, "wb", buffering=0) as f:
    open(out + ".ready", "w").close()
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        if d == END:
            break
        f.write(d.rstrip(b"\n") + b"\n")
