#!/usr/bin/env python3
"""`memdog run --daemonize --pidfile F` really daemonizes (cross/smoke.sh).

  daemon-check.py PIDFILE LOG CMD...

Runs CMD (memdog run -c CONF --daemonize --pidfile PIDFILE, maybe under
qemu-user) as a child subreaper, so the daemon is re-parented to this
script and its exit status can be read. Checks, in order: the parent exits 0,
and PIDFILE is there by then; it names a live process other than the parent;
that process is a session leader without a controlling terminal, in /, with
stdin/out/err on /dev/null; its LOG gets a second sample; a second CMD is refused
(exit 1, "already running") without touching PIDFILE; SIGTERM ends the daemon
with exit 0 within 10 s, and it removes PIDFILE.
Prints one line (ok, or what failed) and exits 0 or 1.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
pidfile, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]


def fail(msg):
    print("daemon-check: " + msg)
    sys.exit(1)


def until(pred, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def status(code):
    if code < 0:
        return "killed by %s" % signal.Signals(-code).name
    return "exit %d" % code


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    fail("prctl(PR_SET_CHILD_SUBREAPER): errno %d" % ctypes.get_errno())
# stdin a pipe and stdout/err the caller's files, so /dev/null in the
# daemon is daemonize's doing
parent = subprocess.Popen(cmd, stdin=subprocess.PIPE)
try:
    rc = parent.wait(timeout=20)
except subprocess.TimeoutExpired:
    parent.kill()
    fail("the parent did not exit within 20 s")
if rc != 0:
    fail("the parent ended with %s, expected exit 0 (the daemon forked off)" % status(rc))
# the parent writes the daemon's pid before it exits: an init script's
# `status` right after `start` must find it
text = read(pidfile)
if not text:
    fail("no pidfile %s when the parent exited" % pidfile)
if not text.strip().isdigit():
    fail("pidfile %s holds %r, expected a pid and a newline" % (pidfile, text))
pid = int(text)
if pid == parent.pid:
    fail("pidfile names the parent %d, not the daemon" % pid)


ours = True  # the daemon is this script's child and not yet reaped


def reap(secs):
    """The daemon's wait status once it has ended, or None."""
    global ours
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            p, st = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            ours = False
            fail("pid %d is not a child of this subreaper (not the daemon?)" % pid)
        if p == pid:
            ours = False
            return st
        time.sleep(0.05)
    return None


try:
    stat = read("/proc/%d/stat" % pid)
    if not stat:
        st = reap(1)
        fail("daemon %d named by the pidfile is not running (%s)"
             % (pid, "never reaped" if st is None else status(os.waitstatus_to_exitcode(st))))
    def detached():
        """None once the daemon has detached, else what is still missing."""
        stat = read("/proc/%d/stat" % pid)
        if not stat:
            return "daemon %d is gone" % pid
        # fields after the ")" that ends comm: state ppid pgrp session tty_nr
        f = stat[stat.rindex(")") + 2:].split()
        ppid, session, tty = int(f[1]), int(f[3]), int(f[4])
        if ppid != os.getpid():
            return "daemon %d has parent %d, expected this subreaper %d" % (pid, ppid, os.getpid())
        if session != pid:
            return "daemon %d is in session %d: setsid did not run" % (pid, session)
        if tty != 0:
            return "daemon %d still has a controlling terminal (tty_nr %d)" % (pid, tty)
        try:
            cwd = os.readlink("/proc/%d/cwd" % pid)
            if cwd != "/":
                return "daemon %d runs in %s, expected /" % (pid, cwd)
            for fd in range(3):
                t = os.readlink("/proc/%d/fd/%d" % (pid, fd))
                if t != "/dev/null":
                    return "daemon %d has fd %d on %s, expected /dev/null" % (pid, fd, t)
        except OSError as e:
            return "daemon %d: %s" % (pid, e)
        return None

    # the parent writes the pidfile as soon as it has forked, so the child
    # may still be detaching: 10 s for setsid, chdir and the stdio
    if not until(lambda: detached() is None, 10):
        fail(detached() or "daemon %d detached only after 10 s" % pid)
    if not until(lambda: " seq=2 " in read(log), 10):
        fail("daemon %d wrote no second sample to %s within 10 s:\n%s" % (pid, log, read(log)))
    # a second start with the same pidfile is refused (the pidfile is locked)
    # before it forks, and the pidfile still names the first daemon
    second = subprocess.run(cmd, stdin=subprocess.PIPE, capture_output=True, timeout=20)
    if second.returncode != 1 or b"already running" not in second.stderr:
        fail("a second start with the same pidfile ended with %s, expected exit 1 and 'already running': %r"
             % (status(second.returncode), second.stderr))
    if read(pidfile) != text:
        fail("a refused second start changed the pidfile to %r" % read(pidfile))
    os.kill(pid, signal.SIGTERM)
    st = reap(10)
    if st is None:
        fail("daemon %d still running 10 s after SIGTERM" % pid)
    code = os.waitstatus_to_exitcode(st)
    if code != 0:
        fail("daemon %d ended with %s after SIGTERM, expected exit 0" % (pid, status(code)))
    if os.path.exists(pidfile):
        fail("daemon %d exited but left its pidfile %s" % (pid, pidfile))
finally:
    # only a daemon still unreaped is ours to kill (a reaped pid may be reused)
    if ours:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    # and any other process re-parented to this subreaper (a second daemon
    # that should not have started): children of this script only
    for d in os.listdir("/proc"):
        st = read("/proc/%s/stat" % d) if d.isdigit() else ""
        if st and int(st[st.rindex(")") + 2:].split()[1]) == os.getpid():
            try:
                os.kill(int(d), signal.SIGKILL)
                os.waitpid(int(d), 0)
            except (OSError, ChildProcessError):
                pass
print("daemon-check: ok: pid %d daemonized, sampled, refused a second start, exit 0 on SIGTERM, pidfile removed" % pid)
