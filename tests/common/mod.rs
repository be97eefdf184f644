//! Helpers shared by the integration tests: run the built binary, make
//! temporary directories and fixture /proc trees, parse logfmt lines.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> PathBuf {
    // MEMDOG_BIN lets `make test` point the suite at another build (e.g. a static one)
    std::env::var_os("MEMDOG_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_memdog")))
}

/// Run memdog to completion; killed after 60 s so a test can never hang CI.
pub fn memdog(args: &[&str]) -> Output {
    run_bounded(Command::new(bin()).args(args))
}

pub fn run_bounded(cmd: &mut Command) -> Output {
    use std::process::Stdio;
    let mut child = spawn_retry(cmd.stdout(Stdio::piped()).stderr(Stdio::piped()));
    let (mut so, mut se) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("memdog did not finish within 60 s: {cmd:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// ../shared/proc-samples, read in place (never copied into the project).
pub fn shared_samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/proc-samples")
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proc")
}

/// A fresh temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "memdog-test-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
    pub fn s(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Parse one logfmt line (the format memdog writes) into key -> value, with
/// quoted values unescaped. The leading timestamp is stored under "ts" and
/// bare keys map to "". Returns None for anything that is not one clean line.
pub fn logfmt(line: &str) -> Option<BTreeMap<String, String>> {
    let mut m = BTreeMap::new();
    let b = line.as_bytes();
    if b.contains(&b'\n') {
        return None;
    }
    let mut i = 0;
    let mut first = true;
    while i < b.len() {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        let ks = i;
        while i < b.len() && b[i] != b'=' && b[i] != b' ' {
            i += 1;
        }
        let key = std::str::from_utf8(&b[ks..i]).ok()?.to_string();
        if first {
            first = false;
            m.insert("ts".into(), key);
            continue;
        }
        if i >= b.len() || b[i] == b' ' {
            m.insert(key, String::new());
            continue;
        }
        i += 1; // '='
        let mut val = Vec::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            loop {
                let c = *b.get(i)?;
                i += 1;
                match c {
                    b'"' => break,
                    b'\\' => {
                        let e = *b.get(i)?;
                        i += 1;
                        match e {
                            b'n' => val.push(b'\n'),
                            b't' => val.push(b'\t'),
                            b'r' => val.push(b'\r'),
                            b'"' => val.push(b'"'),
                            b'\\' => val.push(b'\\'),
                            b'x' => {
                                let h = std::str::from_utf8(b.get(i..i + 2)?).ok()?;
                                val.push(u8::from_str_radix(h, 16).ok()?);
                                i += 2;
                            }
                            _ => return None,
                        }
                    }
                    _ => val.push(c),
                }
            }
            if i < b.len() && b[i] != b' ' {
                return None;
            }
        } else {
            while i < b.len() && b[i] != b' ' {
                if b[i] == b'"' || b[i] == b'=' {
                    return None;
                }
                val.push(b[i]);
                i += 1;
            }
        }
        if m.insert(key, String::from_utf8_lossy(&val).into_owned())
            .is_some()
        {
            return None; // a duplicated key is a forged field
        }
    }
    Some(m)
}

/// Every line of `out` parsed; panics with the line if one does not parse.
pub fn lines(out: &str) -> Vec<BTreeMap<String, String>> {
    out.lines()
        .map(|l| logfmt(l).unwrap_or_else(|| panic!("not one logfmt line: {l:?}")))
        .collect()
}

/// Unmounts a test mount when the test ends, pass or fail.
pub struct Umount(pub PathBuf);

impl Drop for Umount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Raw bytes of the name value (quoted values unescaped), for names that are not UTF-8.
pub fn wait_for(mut f: impl FnMut() -> bool, what: &str) {
    for _ in 0..200 {
        if f() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}");
}

/// Spawn, retrying while the executable is "text file busy": a binary the
/// test just copied may still be open for writing in a child another test
/// thread forked at that moment (until that child execs).
pub fn spawn_retry(cmd: &mut Command) -> std::process::Child {
    for _ in 0..100 {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            r => return r.expect("spawn"),
        }
    }
    panic!("executable stayed busy: {cmd:?}");
}

/// `promtool check metrics` of `text`: no lint problem, no output.
pub fn promtool_check(text: &str, what: &str) {
    let mut p = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut p.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let o = p.wait_with_output().unwrap();
    // promtool prints lint problems (units, naming, counters) and exits 1 on any
    assert!(
        o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
        "promtool check metrics on {what}: {}{}\n{text}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
