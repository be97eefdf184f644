//! Bad input on the command line and at start-up: one clear line on stderr
//! and the documented exit code.

mod common;
use common::*;
use std::os::unix::process::CommandExt;
use std::process::Command;

fn one_error_line(o: &std::process::Output, code: i32, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "exactly one line: {err:?}");
    assert!(err.starts_with("memdog: "), "{err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    assert!(o.stdout.is_empty());
}

#[test]
fn help_documents_commands_fields_and_exit_codes() {
    let o = memdog(&["--help"]);
    assert!(o.status.success());
    let h = stdout(&o);
    // packed by build.rs, unpacked by the binary: the text comes back whole
    assert_eq!(h, include_str!("../src/help.txt"));
    for w in [
        "watch",
        "snapshot",
        "--proc-root",
        "--interval",
        "VmRSS",
        "RssShmem",
        "nthreadstacks",
        "EXIT CODES",
    ] {
        assert!(h.contains(w), "help lacks {w}");
    }
    assert_eq!(memdog(&[]).status.code(), Some(0));
    assert!(stdout(&memdog(&["--version"])).starts_with("memdog 0."));
}

#[test]
fn unknown_flag_and_command() {
    one_error_line(
        &memdog(&["watch", "--pid", "1", "--frobnicate"]),
        2,
        "'--frobnicate'",
    );
    one_error_line(&memdog(&["dance"]), 2, "'dance'");
    one_error_line(
        &memdog(&["watch", "--fields", "VmRSS,VmFoo", "--pid", "1"]),
        2,
        "'VmFoo'",
    );
    one_error_line(&memdog(&["watch"]), 2, "needs a target");
}

#[test]
fn non_numeric_interval_and_pid() {
    one_error_line(
        &memdog(&["watch", "--pid", "1", "--interval", "soon"]),
        2,
        "'soon'",
    );
    one_error_line(
        &memdog(&["watch", "--pid", "1", "--interval", "0ms"]),
        2,
        "1ms to 7d",
    );
    one_error_line(&memdog(&["watch", "--pid", "one"]), 2, "'one'");
    one_error_line(
        &memdog(&["watch", "--pid", "1", "--count", "-3"]),
        2,
        "'-3'",
    );
    one_error_line(&memdog(&["watch", "--pid"]), 2, "needs a value");
}

#[test]
fn missing_pid() {
    // pid_max is at most 4194304, so this pid cannot exist
    one_error_line(
        &memdog(&["watch", "--pid", "4194305", "--count", "1"]),
        3,
        "pid 4194305 not found",
    );
}

#[test]
fn missing_proc_root() {
    one_error_line(
        &memdog(&["watch", "--pid", "1", "--proc-root", "/nonexistent"]),
        1,
        "is proc mounted",
    );
    one_error_line(
        &memdog(&["snapshot", "--proc-root", "/nonexistent"]),
        1,
        "/nonexistent",
    );
}

#[test]
fn unreadable_proc_is_permission_denied() {
    // a proc tree only root may read, read as nobody
    let t = TempDir::new("eacces");
    let root = t.join("proc");
    std::fs::create_dir_all(root.join("1")).unwrap();
    std::fs::write(root.join("meminfo"), "MemTotal: 1000 kB\n").unwrap();
    std::fs::write(
        root.join("1/stat"),
        "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1000 10 0\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("meminfo"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    if unsafe { libc_geteuid() } != 0 {
        eprintln!("skipped: needs root to switch to nobody");
        return;
    }
    let as_nobody = || watch_as_nobody(&root);
    one_error_line(&as_nobody(), 4, "permission denied");
    std::fs::set_permissions(root.join("meminfo"), std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(root.join("1"), std::fs::Permissions::from_mode(0o700)).unwrap();
    one_error_line(&as_nobody(), 4, "/1/stat: permission denied");
}

/// `memdog watch --pid 1 --count 1` on `root`, as user nobody. The binary
/// is copied beside `root` first: the build tree may be in a directory
/// nobody cannot enter (a checkout in `mktemp -d` is mode 0700).
fn watch_as_nobody(root: &std::path::Path) -> std::process::Output {
    let exe = root.with_file_name("memdog");
    if !exe.exists() {
        std::fs::copy(bin(), &exe).unwrap();
    }
    run_bounded(
        Command::new(&exe)
            .args([
                "watch",
                "--pid",
                "1",
                "--count",
                "1",
                "--proc-root",
                root.to_str().unwrap(),
            ])
            .uid(65534)
            .gid(65534),
    )
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

#[test]
fn log_path_that_is_a_symlink_is_refused() {
    let t = TempDir::new("symlink");
    let victim = t.join("victim");
    std::fs::write(&victim, "keep me\n").unwrap();
    std::os::unix::fs::symlink(&victim, t.join("memdog.log")).unwrap();
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "1",
        "--log",
        t.join("memdog.log").to_str().unwrap(),
    ]);
    one_error_line(&o, 1, "symlink");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me\n");
}

/// A real /proc mounted with hidepid=1, read by an unprivileged user.
#[test]
fn real_hidepid_proc_as_nobody() {
    if unsafe { libc_geteuid() } != 0 {
        eprintln!("skipped: needs root to mount proc");
        return;
    }
    let t = TempDir::new("hidepid");
    let mnt = t.join("proc");
    std::fs::create_dir_all(&mnt).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    if !Command::new("mount")
        .args([
            "-t",
            "proc",
            "-o",
            "hidepid=1",
            "proc",
            mnt.to_str().unwrap(),
        ])
        .status()
        .is_ok_and(|s| s.success())
    {
        eprintln!("note: cannot mount proc with hidepid here; skipped");
        return;
    }
    let o = watch_as_nobody(&mnt);
    let _ = Command::new("umount").arg(&mnt).status();
    one_error_line(&o, 4, "permission denied (run as root, or check hidepid=)");
}

/// `watch --pid TID` of a thread that is not its process's leader: refused
/// with the process to watch instead (a thread's /proc entry shows its
/// process's memory, and would be logged as if it were a process).
#[test]
fn watch_pid_of_a_thread_names_its_process() {
    let code = "import threading,time\nt=threading.Thread(target=time.sleep,args=(30,),daemon=True)\nt.start()\nprint(threading.get_native_id() and t.native_id, flush=True)\ntime.sleep(30)\n";
    let mut py = std::process::Command::new("python3")
        .args(["-c", code])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(py.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let tid = line.trim().to_string();
    let o = std::process::Command::new(bin())
        .args(["watch", "--pid", &tid, "--count", "1"])
        .output()
        .unwrap();
    let _ = py.kill();
    let _ = py.wait();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("pid {tid} is a thread of process {}", py.id())),
        "{err}"
    );
    assert!(o.stdout.is_empty(), "no samples of a thread");
}
