//! The built binary against captured and hand-built /proc trees:
//! tests/fixtures/proc/* (see tests/fixtures/README.md) and the real
//! captures in ../shared/proc-samples, read in place.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

fn watch(root: &Path, args: &[&str]) -> Vec<BTreeMap<String, String>> {
    let mut a = vec![
        "watch",
        "--proc-root",
        root.to_str().unwrap(),
        "--count",
        "1",
        "--interval",
        "10ms",
    ];
    a.extend_from_slice(args);
    let o = memdog(&a);
    assert!(o.status.success(), "{}", stderr(&o));
    lines(&stdout(&o))
}

fn sample<'a>(ls: &'a [BTreeMap<String, String>], pid: &str) -> &'a BTreeMap<String, String> {
    ls.iter()
        .find(|l| l.get("pid").map(String::as_str) == Some(pid) && !l.contains_key("event"))
        .expect("sample line")
}

/// Reference: heap kB and the count of anonymous rw mappings directly above a
/// small ---p guard, computed here independently of memdog's parser.
fn reference_maps(maps: &str) -> (u64, usize) {
    let mut heap = 0;
    let mut stacks = 0;
    let mut prev_guard_end = None;
    for l in maps.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        let (s, e) = f[0].split_once('-').unwrap();
        let (s, e) = (
            u64::from_str_radix(s, 16).unwrap(),
            u64::from_str_radix(e, 16).unwrap(),
        );
        let path = f.get(5).copied().unwrap_or("");
        if path == "[heap]" {
            heap += (e - s) / 1024;
        }
        if path.starts_with("[stack:")
            || (path.is_empty() && f[1].starts_with("rw") && prev_guard_end == Some(s))
        {
            stacks += 1;
        }
        prev_guard_end = (path.is_empty() && f[1] == "---p" && e - s <= 64 * 1024).then_some(e);
    }
    (heap, stacks)
}

#[test]
fn this_machine_capture() {
    let root = fixtures().join("linux-6.18-x86_64");
    let py = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.starts_with("python"))
                && e.path().join("maps").metadata().is_ok_and(|m| m.len() > 0)
        })
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    let ls = watch(
        &root,
        &[
            "--pid",
            &py,
            "--pid",
            "2",
            "--fields",
            "VmRSS,VmSize,RssAnon,Threads,heap,nthreadstacks,stacks",
        ],
    );
    let s = sample(&ls, &py);
    let (heap, stacks) =
        reference_maps(&std::fs::read_to_string(root.join(&py).join("maps")).unwrap());
    assert_eq!(s["heap"], heap.to_string());
    assert_eq!(s["nthreadstacks"], stacks.to_string());
    assert_eq!(s["nthreadstacks"], "3", "the capture has 3 extra threads");
    assert_eq!(s["Threads"], "4");
    assert!(s.contains_key("RssAnon"));
    // a kernel thread: no Vm fields at all, and not 0
    let k = sample(&ls, "2");
    assert!(
        !k.contains_key("VmRSS") && !k.contains_key("VmSize"),
        "{k:?}"
    );
    assert_eq!(k["name"], "kthreadd");
}

#[test]
fn zombie_and_vanished_processes() {
    let root = fixtures().join("linux-6.18-x86_64");
    let zombie = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| {
            std::fs::read_to_string(e.path().join("status")).is_ok_and(|s| s.contains("State:\tZ"))
        })
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    let ls = watch(&root, &["--pid", &zombie]);
    let exit = ls
        .iter()
        .find(|l| l.get("event").map(String::as_str) == Some("exit"))
        .unwrap();
    assert_eq!(exit["reason"], "zombie");
    // listed in the directory but gone: not found for --pid, skipped by snapshot
    let o = memdog(&[
        "watch",
        "--proc-root",
        root.to_str().unwrap(),
        "--pid",
        "999999",
    ]);
    assert_eq!(o.status.code(), Some(3));
    let o = memdog(&["snapshot", "--proc-root", root.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(!stdout(&o).contains("999999"));
    assert!(stdout(&o).contains("processes=4 "), "{}", stdout(&o));
}

#[test]
fn old_kernel_2_6_32_armv7() {
    let root = fixtures().join("linux-2.6.32-armv7");
    let ls = watch(
        &root,
        &[
            "--name",
            "dnsmasq",
            "--name",
            "hostapd",
            "--fields",
            "VmRSS,VmSize,VmSwap,RssAnon,heap,nthreadstacks,stacks",
        ],
    );
    let d = sample(&ls, "901");
    assert_eq!(
        (
            d["VmRSS"].as_str(),
            d["VmSize"].as_str(),
            d["heap"].as_str()
        ),
        ("1624", "8408", "1024")
    );
    assert_eq!(
        (d["nthreadstacks"].as_str(), d["stacks"].as_str()),
        ("3", "6144"),
        "unlabelled stacks above guards"
    );
    assert!(
        !d.contains_key("VmSwap") && !d.contains_key("RssAnon"),
        "2.6.32 has neither: absent, not 0"
    );
    assert_eq!(sample(&ls, "812")["heap"], "140");
    let m = ls.iter().find(|l| l.contains_key("meminfo")).unwrap();
    assert!(!m.contains_key("MemAvailable"));
    // MemFree + Active(file) + Inactive(file) + SReclaimable
    assert_eq!(
        m["MemAvailable~"],
        (9120 + 10000 + 10000 + 1500).to_string()
    );
}

#[test]
fn kernel_3_10_mips_labelled_thread_stacks() {
    let root = fixtures().join("linux-3.10-mips");
    let ls = watch(
        &root,
        &["--pid", "901", "--fields", "VmSwap,nthreadstacks,stacks"],
    );
    let d = sample(&ls, "901");
    assert_eq!(
        (
            d["nthreadstacks"].as_str(),
            d["stacks"].as_str(),
            d["VmSwap"].as_str()
        ),
        ("3", "6144", "0")
    );
    let (_, want) = reference_maps(&std::fs::read_to_string(root.join("901/maps")).unwrap());
    assert_eq!(want, 3);
}

/// A temporary proc root whose entries link to the shared captures in place.
fn shared_tree(t: &TempDir, meminfo: &str, pids: &[(&str, &str)]) -> std::path::PathBuf {
    let root = t.join("proc");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(shared_samples().join(meminfo), root.join("meminfo")).unwrap();
    for (pid, src) in pids {
        std::os::unix::fs::symlink(shared_samples().join(src), root.join(pid)).unwrap();
    }
    root
}

#[test]
fn shared_real_captures() {
    let t = TempDir::new("shared");
    // status files need a stat beside them for watch; snapshot needs stat too,
    // so give each a minimal stat from the test and link the real status
    let root = t.join("proc");
    std::fs::create_dir_all(&root).unwrap();
    std::os::unix::fs::symlink(
        shared_samples().join("ddwrt-armv7/proc/meminfo"),
        root.join("meminfo"),
    )
    .unwrap();
    for (pid, status) in [
        ("2549", "gopsutil-mips64/proc/2549/status"),
        ("26235", "prometheus-procfs/proc/26235/status"),
        ("1505894", "gopsutil-x86/proc/1505894/status"),
    ] {
        std::fs::create_dir_all(root.join(pid)).unwrap();
        std::os::unix::fs::symlink(shared_samples().join(status), root.join(pid).join("status"))
            .unwrap();
        std::fs::write(
            root.join(pid).join("stat"),
            format!("{pid} (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 7 0 0 0\n"),
        )
        .unwrap();
    }
    let ls = watch(
        &root,
        &[
            "--pid",
            "2549",
            "--pid",
            "26235",
            "--pid",
            "1505894",
            "--fields",
            "VmRSS,VmSize",
        ],
    );
    let v = |p: &str| {
        (
            sample(&ls, p)["VmRSS"].clone(),
            sample(&ls, p)["VmSize"].clone(),
        )
    };
    assert_eq!(
        v("2549"),
        ("2892".into(), "664744".into()),
        "MIPS64, no final newline"
    );
    assert_eq!(
        v("26235"),
        ("42652".into(), "758200".into()),
        "mixed tabs and spaces"
    );
    assert_eq!(
        v("1505894"),
        ("1420".into(), "18956".into()),
        "long Groups line, empty values"
    );
    let m = ls.iter().find(|l| l.contains_key("meminfo")).unwrap();
    assert_eq!(
        (m["MemTotal"].as_str(), m["MemAvailable"].as_str()),
        ("254472", "210156"),
        "DD-WRT with a 2.4 byte table"
    );

    // the 646-line ARM maps of the reMarkable tablet
    let t2 = TempDir::new("shared-maps");
    let root2 = shared_tree(&t2, "ddwrt-armv7/proc/meminfo", &[]);
    std::fs::create_dir_all(root2.join("1000")).unwrap();
    std::os::unix::fs::symlink(
        shared_samples().join("remarkable-arm32/proc/1000/maps"),
        root2.join("1000/maps"),
    )
    .unwrap();
    std::fs::write(root2.join("1000/status"), "Name:\txochitl\nThreads:\t9\n").unwrap();
    std::fs::write(
        root2.join("1000/stat"),
        "1000 (xochitl) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 9 0 7 0 0 0\n",
    )
    .unwrap();
    let ls = watch(&root2, &["--pid", "1000", "--fields", "heap"]);
    assert_eq!(sample(&ls, "1000")["heap"], "24320");
}

#[test]
fn hostile_stat_comm_from_a_real_capture() {
    // prometheus 584/stat: comm `(a b ) ( c d) ` with spaces and parentheses
    let t = TempDir::new("hostile-stat");
    let root = shared_tree(&t, "ddwrt-armv7/proc/meminfo", &[]);
    std::fs::create_dir_all(root.join("1020")).unwrap();
    std::os::unix::fs::symlink(
        shared_samples().join("prometheus-procfs/proc/584/stat"),
        root.join("1020/stat"),
    )
    .unwrap();
    std::fs::write(root.join("1020/status"), "Name:\tx\nVmRSS:\t620 kB\n").unwrap();
    let ls = watch(&root, &["--pid", "1020", "--fields", "VmRSS"]);
    assert_eq!(sample(&ls, "1020")["name"], "(a b ) ( c d) ");
}
