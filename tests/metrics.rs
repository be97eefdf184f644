//! The Prometheus outputs against real Prometheus components, each started
//! by the test on 127.0.0.1 only: `promtool check metrics` on the textfile
//! and on the endpoint's body, node_exporter's textfile collector reading
//! memdog's file, and a Prometheus server scraping memdog's `/metrics`
//! (its HTTP API must return memdog's series with the values memdog saw).
//! And the endpoint's HTTP contract, and its behaviour under what a LAN
//! throws at it while samples and watchdog kicks keep their schedule.
//!
//! The tools come from Debian's `prometheus` and `prometheus-node-exporter`
//! packages (`make test` installs them, see TEST_PKGS); a test whose tool is
//! missing says so in one loud line and skips.

mod common;
use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Children of this test, killed (and reaped) when it ends, pass or fail.
#[derive(Default)]
struct Kids(Vec<Child>);
impl Kids {
    fn spawn(&mut self, cmd: &mut Command) -> u32 {
        let c = spawn_retry(cmd);
        let id = c.id();
        self.0.push(c);
        id
    }
}
impl Drop for Kids {
    fn drop(&mut self) {
        for c in self.0.iter_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn have(tool: &str, package: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!(
            "!!!!! SKIPPED: {tool} not installed (apt-get install -y {package}; `make test` does) !!!!!"
        );
    }
    ok
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Send `req` raw, read the answer to EOF (memdog closes after answering).
fn raw(addr: &str, req: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(req).unwrap();
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    v
}

struct Resp {
    status: u16,
    head: String,
    body: String,
}

fn parse(v: &[u8]) -> Resp {
    let text = String::from_utf8(v.to_vec()).expect("an HTTP answer in UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Resp {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

fn header<'a>(r: &'a Resp, name: &str) -> Option<&'a str> {
    r.head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn get(addr: &str, path: &str) -> Resp {
    parse(&raw(
        addr,
        format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: test\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    ))
}

/// GET from another program's server: HTTP/1.0, so no chunked body.
fn get10(addr: &str, path: &str) -> Resp {
    parse(&raw(
        addr,
        format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes(),
    ))
}

/// Wait until something answers on `addr` (GET `path` with 200).
fn wait_http(addr: &str, path: &str, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes());
            let mut v = Vec::new();
            let _ = s.read_to_end(&mut v);
            if v.starts_with(b"HTTP/1.1 200") || v.starts_with(b"HTTP/1.0 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not answer on {addr}{path} within 30 s");
}

/// The exposition's own rules, beyond promtool: HELP and TYPE once per
/// name and before its series, each series once, no timestamps, a final newline.
fn check_shape(text: &str) {
    assert!(text.ends_with('\n'), "no final newline");
    let mut typed = std::collections::BTreeSet::new();
    let mut series = std::collections::BTreeSet::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(typed.insert(name.to_string()), "TYPE twice: {name}");
        } else if !l.starts_with('#') {
            let name = l.split(['{', ' ']).next().unwrap();
            assert!(typed.contains(name), "series before its TYPE: {l}");
            let (id, value) = l.rsplit_once(' ').unwrap();
            assert!(series.insert(id.to_string()), "series twice: {id}");
            assert!(value.parse::<f64>().is_ok(), "value: {l}");
            // a timestamp would be a third field after the labels
            let after = id.rsplit_once('}').map_or(id, |(_, a)| a);
            assert!(!after.contains(' '), "timestamp? {l}");
        }
    }
}

fn kb_of(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .parse()
        .unwrap()
}

fn sleeper(kids: &mut Kids) -> u32 {
    kids.spawn(
        Command::new("sleep")
            .arg("300")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// The textfile of a real run passes promtool, and node_exporter's textfile
/// collector reads it without error and serves memdog's series with
/// memdog's values.
#[test]
fn textfile_passes_promtool_and_node_exporter_serves_it() {
    if !have("promtool", "prometheus")
        || !have("prometheus-node-exporter", "prometheus-node-exporter")
    {
        return;
    }
    let t = TempDir::new("metrics-tf");
    let dir = t.join("textfile");
    std::fs::create_dir(&dir).unwrap();
    let prom = dir.join("memdog.prom");
    let mut kids = Kids::default();
    let kid = sleeper(&mut kids);
    let o = memdog(&[
        "watch",
        "--pid",
        &kid.to_string(),
        "--name",
        "sleep",
        "--count",
        "3",
        "--interval",
        "20ms",
        "--textfile",
        prom.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&prom).unwrap();
    promtool_check(&text, "the textfile");
    check_shape(&text);
    let rss = kb_of(kid, "VmRSS") * 1024;
    let line = format!(
        "memdog_process_memory_bytes{{target=\"pid:{kid}\",name=\"sleep\",memtype=\"resident\"}} {rss}\n"
    );
    assert!(text.contains(&line), "{line} in\n{text}");
    assert!(text.contains(&format!(
        "memdog_process_info{{target=\"pid:{kid}\",name=\"sleep\",pid=\"{kid}\"}} 1\n"
    )));
    // the start time as ps computes it: btime + starttime / USER_HZ
    let btime: u64 = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{kid}/stat")).unwrap();
    let ticks: u64 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let want = format!(
        "memdog_process_start_time_seconds{{target=\"pid:{kid}\",name=\"sleep\"}} {}.{:02}\n",
        btime + ticks / 100,
        ticks % 100
    );
    assert!(text.contains(&want), "{want} in\n{text}");
    // the --name target: every `sleep` on the machine, summed, and counted
    let n = text
        .lines()
        .find_map(|l| l.strip_prefix("memdog_target_processes{target=\"sleep\"} "))
        .unwrap();
    let infos = text
        .lines()
        .filter(|l| l.starts_with("memdog_process_info{target=\"sleep\""))
        .count();
    assert_eq!(n.parse::<usize>().unwrap(), infos, "{text}");
    assert!(infos >= 1);

    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    kids.spawn(
        Command::new("prometheus-node-exporter")
            .args([
                "--collector.disable-defaults",
                "--collector.textfile",
                &format!("--collector.textfile.directory={}", dir.display()),
                &format!("--web.listen-address={addr}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_http(&addr, "/metrics", "node_exporter");
    let r = get10(&addr, "/metrics");
    assert_eq!(r.status, 200);
    let body = r.body;
    // node_exporter sorts labels by name and prints values as floats
    let want = format!(
        "memdog_process_memory_bytes{{memtype=\"resident\",name=\"sleep\",target=\"pid:{kid}\"}} "
    );
    let v: f64 = body
        .lines()
        .find_map(|l| l.strip_prefix(&want))
        .unwrap_or_else(|| panic!("{want} not in node_exporter's:\n{body}"))
        .parse()
        .unwrap();
    assert_eq!(v, rss as f64);
    assert!(body.contains("memdog_samples_total 3"), "{body}");
    assert!(
        body.lines()
            .any(|l| l.starts_with("node_textfile_scrape_error 0")),
        "{body}"
    );
    assert!(
        !body
            .lines()
            .any(|l| l.starts_with("node_textfile_scrape_error 1")),
        "{body}"
    );
}

/// The endpoint's HTTP contract: 200 with exactly Prometheus' content type
/// and a Content-Length, 404 off /metrics, 405 for other methods, 400 for
/// garbage, each answer then closed; and its body is the textfile's text
/// (one writer), which promtool accepts.
#[test]
fn endpoint_answers_exactly_and_its_body_is_the_textfile() {
    let t = TempDir::new("metrics-ep");
    let prom = t.join("m.prom");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut kids = Kids::default();
    let kid = sleeper(&mut kids);
    kids.spawn(
        Command::new(bin())
            .args([
                "watch",
                "--pid",
                &kid.to_string(),
                "--pid",
                "self",
                "--interval",
                "300ms",
                "--textfile",
                prom.to_str().unwrap(),
                "--metrics-listen",
                &addr,
            ])
            .stdout(Stdio::null()),
    );
    wait_http(&addr, "/metrics", "memdog");
    let r = get(&addr, "/metrics");
    assert_eq!(r.status, 200, "{}", r.head);
    assert_eq!(
        header(&r, "Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        header(&r, "Content-Length").map(|v| v.parse::<usize>().unwrap()),
        Some(r.body.len())
    );
    check_shape(&r.body);
    if have("promtool", "prometheus") {
        promtool_check(&r.body, "the endpoint's body");
    }
    // the same text as the file, read between two samples
    let mut same = false;
    for _ in 0..50 {
        let a = std::fs::read_to_string(&prom).unwrap_or_default();
        let body = get(&addr, "/metrics").body;
        let b = std::fs::read_to_string(&prom).unwrap_or_default();
        if a == b && !a.is_empty() {
            assert_eq!(body, a, "endpoint and textfile differ");
            same = true;
            break;
        }
    }
    assert!(same, "never read the textfile twice between two samples");
    assert!(get(&addr, "/metrics?x=1").status == 200);
    for p in ["/", "/metric", "/metrics/", "/metricsx", "/Metrics"] {
        assert_eq!(get(&addr, p).status, 404, "{p}");
    }
    for m in ["POST", "PUT", "HEAD", "DELETE", "get"] {
        let r = parse(&raw(
            &addr,
            format!("{m} /metrics HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        ));
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(header(&r, "Allow"), Some("GET"));
    }
    for g in [
        &b"\x00\x01\x02\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET /metrics FTP/1\r\n\r\n",
    ] {
        assert_eq!(parse(&raw(&addr, g)).status, 400, "{g:?}");
    }
    // a half-closed client (request sent, its side shut) still gets the answer
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let mut v = Vec::new();
    s.read_to_end(&mut v).unwrap();
    assert_eq!(parse(&v).status, 200);
}

#[test]
fn endpoint_listens_on_ipv6_loopback() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("!!!!! SKIPPED: no IPv6 loopback on this machine (::1) !!!!!");
        return;
    }
    let port = free_port();
    let addr = format!("[::1]:{port}");
    let mut kids = Kids::default();
    kids.spawn(
        Command::new(bin())
            .args(["watch", "--pid", "self", "--interval", "200ms"])
            .args(["--metrics-listen", &addr])
            .stdout(Stdio::null()),
    );
    wait_http(&addr, "/metrics", "memdog on ::1");
    assert!(get(&addr, "/metrics")
        .body
        .contains("memdog_process_memory_bytes{target=\"self\""));
    // and not on 127.0.0.1
    assert!(TcpStream::connect(format!("127.0.0.1:{port}")).is_err());
}

#[test]
fn bad_listen_addresses_are_refused_with_the_reason() {
    for a in [
        "9101",
        "localhost:9101",
        "0.0.0.0",
        "1.2.3.4:0",
        "[::1]",
        "::1:9101",
        "[:::1]:1",
        "[1:2:3:4:5:6:7:8:9]:1",
    ] {
        let o = memdog(&[
            "watch",
            "--pid",
            "self",
            "--count",
            "1",
            "--metrics-listen",
            a,
        ]);
        assert_eq!(o.status.code(), Some(2), "{a}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("numeric IPv4 or [IPv6] address"),
            "{a}: {}",
            stderr(&o)
        );
    }
    // a port in use: the errno and a remedy, before any sample
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = taken.local_addr().unwrap().to_string();
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "1",
        "--metrics-listen",
        &a,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("EADDRINUSE"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "sampled anyway: {}", stdout(&o));
}

/// A process that grows by about 1 MB a second: a leak for the detector.
fn leaker(kids: &mut Kids) -> u32 {
    kids.spawn(
        Command::new("/usr/bin/python3")
            .args([
                "-c",
                "import time\na=[]\nwhile True:\n    a.append(bytearray(50000))\n    time.sleep(0.05)",
            ])
            .stdout(Stdio::null()),
    )
}

fn enc(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A real Prometheus server scrapes the built binary's `/metrics` (a config
/// the test writes, 1 s scrapes); its HTTP API returns memdog's series:
/// the leaking child's memory, its pid in the info series, the rule that
/// fired on it and the detector's slope.
#[test]
fn prometheus_server_scrapes_the_endpoint() {
    if !have("prometheus", "prometheus") {
        return;
    }
    let t = TempDir::new("metrics-prom");
    let mut kids = Kids::default();
    let kid = leaker(&mut kids);
    let mport = free_port();
    let maddr = format!("127.0.0.1:{mport}");
    let conf = t.join("memdog.conf");
    std::fs::write(
        &conf,
        format!(
            "interval = 100ms\nlog = {}\nmetrics_listen = {maddr}\n[target leaky]\npid = {kid}\nwarn = VmRSS slope > 10/h over 3s\ncrit = VmRSS > 100000000\n",
            t.join("memdog.log").display()
        ),
    )
    .unwrap();
    kids.spawn(
        Command::new(bin())
            .args(["run", "-c", conf.to_str().unwrap()])
            .stdout(Stdio::null()),
    );
    wait_http(&maddr, "/metrics", "memdog");
    let pport = free_port();
    let paddr = format!("127.0.0.1:{pport}");
    let pconf = t.join("prometheus.yml");
    std::fs::write(
        &pconf,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: memdog\n    static_configs:\n      - targets: ['{maddr}']\n"
        ),
    )
    .unwrap();
    kids.spawn(
        Command::new("prometheus")
            .arg(format!("--config.file={}", pconf.display()))
            .arg(format!("--storage.tsdb.path={}", t.join("tsdb").display()))
            .arg(format!("--web.listen-address={paddr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    wait_http(&paddr, "/-/ready", "prometheus");
    let query = |q: &str| get10(&paddr, &format!("/api/v1/query?query={}", enc(q))).body;
    let until = |q: &str, want: &dyn Fn(&str) -> bool| -> String {
        let start = Instant::now();
        loop {
            let b = query(q);
            if want(&b) {
                return b;
            }
            assert!(
                start.elapsed() < Duration::from_secs(45),
                "prometheus never had {q}: {b}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    };
    let up = until("up{job=\"memdog\"}", &|b| b.contains("\"1\"]"));
    assert!(up.contains(&maddr), "{up}");
    let info = until("memdog_process_info", &|b| b.contains("\"pid\""));
    assert!(info.contains(&format!("\"pid\":\"{kid}\"")), "{info}");
    assert!(info.contains("\"target\":\"leaky\""), "{info}");
    let comm = std::fs::read_to_string(format!("/proc/{kid}/comm")).unwrap();
    assert!(
        info.contains(&format!("\"name\":\"{}\"", comm.trim())),
        "{info}"
    );
    // the stored value is what memdog measured: within the leak's growth of /proc now
    let rss = until(
        "memdog_process_memory_bytes{target=\"leaky\",memtype=\"resident\"}",
        &|b| b.contains("\"value\""),
    );
    let v: f64 = rss
        .rsplit("\"value\":[")
        .next()
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let now = (kb_of(kid, "VmRSS") * 1024) as f64;
    assert!(
        v > 1e6 && v <= now,
        "stored {v}, /proc says {now} now: {rss}"
    );
    // the slope rule fired (warn = 1) and the detector's view is stored
    until(
        "memdog_rule_state{target=\"leaky\",rule=\"1\",level=\"warn\"}",
        &|b| b.contains("\"1\"]"),
    );
    let crit = query("memdog_rule_state{target=\"leaky\",rule=\"2\",level=\"crit\"}");
    assert!(crit.contains("\"0\"]"), "{crit}");
    let slope = until(
        "memdog_leak_slope_bytes_per_second{target=\"leaky\"}",
        &|b| b.contains("\"value\""),
    );
    let s: f64 = slope
        .rsplit("\"value\":[")
        .next()
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    // 50 kB every 50 ms is ~1 MB/s; python's allocator and the sampling blur it
    assert!((2e5..5e6).contains(&s), "slope {s} B/s: {slope}");
    assert!(slope.contains("\"memtype\":\"resident\""), "{slope}");
    let r2 = query("memdog_leak_fit_r2{target=\"leaky\"}");
    let r: f64 = r2
        .rsplit("\"value\":[")
        .next()
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.9..=1.0).contains(&r), "r2 {r}: {r2}");
    let agent = query("memdog_agent_info");
    assert!(
        agent.contains(&format!("\"version\":\"{}\"", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );
}

/// Seconds of `up=` of each sample line (one per target sample) in a log.
fn sample_times(log: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut seen = std::collections::BTreeMap::new();
    for l in text.lines().filter_map(logfmt) {
        if let (Some(seq), Some(up)) = (l.get("seq"), l.get("up")) {
            if l.contains_key("meminfo") {
                seen.insert(seq.parse::<u64>().unwrap(), up.parse::<f64>().unwrap());
            }
        }
    }
    seen.into_values().collect()
}

fn worst_gap(times: &[f64]) -> f64 {
    times.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max)
}

/// What a LAN throws at the endpoint: slowloris (a byte a second on more
/// connections than there are slots), 1 000 connects in a burst, a 1 MB
/// request line, binary garbage, clients that never read, half-closed
/// sockets. Throughout, the daemon samples every 100 ms and kicks its
/// watchdog (a FIFO the test reads, timing each kick) every 50 ms; the
/// worst delays are printed, and a scrape still works at the end.
#[test]
fn endpoint_survives_a_hostile_lan_while_samples_and_kicks_keep_time() {
    let t = TempDir::new("metrics-lan");
    let fifo = t.join("watchdog");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    // the reader first: memdog's open for writing waits for one
    let t0 = Instant::now();
    let reader = std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            let mut f = std::fs::File::open(&fifo).unwrap();
            let start = t0;
            let mut times = Vec::new();
            let mut b = [0u8; 64];
            loop {
                match f.read(&mut b) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let at = start.elapsed().as_secs_f64();
                        times.extend(std::iter::repeat_n(at, n));
                    }
                }
            }
            times
        }
    });
    let log = t.join("memdog.log");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let conf = t.join("memdog.conf");
    std::fs::write(
        &conf,
        format!(
            "interval = 100ms\nlog = {}\nwatchdog_device = {}\nwatchdog_kick = 50ms\nmetrics_listen = {addr}\n[target me]\nself = yes\n",
            log.display(),
            fifo.display()
        ),
    )
    .unwrap();
    let mut kids = Kids::default();
    let daemon = kids.spawn(
        Command::new(bin())
            .args(["run", "-c", conf.to_str().unwrap()])
            .stdout(Stdio::null()),
    );
    wait_http(&addr, "/metrics", "memdog");
    let before = sample_times(&log).len();
    let stress_start = Instant::now();

    // slowloris: 8 connections (2x the slots), a byte a second
    let slow: Vec<_> = (0..8)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let Ok(mut s) = TcpStream::connect(&addr) else {
                    return;
                };
                for &b in b"GET /metrics HTTP/1.1\r\n" {
                    if s.write_all(&[b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // a scrape gets through while slowloris holds every slot: it takes the oldest's
    let r = get(&addr, "/metrics");
    assert_eq!(r.status, 200);
    // 1 000 connects in a burst (connect and drop)
    let mut burst = Vec::new();
    for _ in 0..1000 {
        if let Ok(s) =
            TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_millis(200))
        {
            burst.push(s);
        }
    }
    drop(burst);
    // a 1 MB request line: refused (400) or cut off, never read whole
    {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
        let mut big = b"GET /".to_vec();
        big.extend(std::iter::repeat_n(b'a', 1 << 20));
        let _ = s.write_all(&big);
        let mut v = Vec::new();
        let _ = s.read_to_end(&mut v);
        assert!(
            v.is_empty() || v.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&v)
        );
    }
    // binary garbage
    {
        let mut s = TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
            .collect();
        let _ = s.write_all(&junk);
        let mut v = Vec::new();
        let _ = s.read_to_end(&mut v);
        assert!(
            v.is_empty() || v.starts_with(b"HTTP/1.1 400"),
            "{:?}",
            String::from_utf8_lossy(&v)
        );
    }
    // clients that ask and never read, and half-closed ones that never ask
    let mut idle = Vec::new();
    for i in 0..6 {
        let mut s = TcpStream::connect(&addr).unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
        } else {
            s.write_all(b"GET /met").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
        }
        idle.push(s);
    }
    std::thread::sleep(Duration::from_secs(2));
    for h in slow {
        h.join().unwrap();
    }
    drop(idle);
    // the endpoint still answers
    let r = get(&addr, "/metrics");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("memdog_process_memory_bytes{target=\"me\""));
    let stress = stress_start.elapsed().as_secs_f64();
    let (from, to) = (
        (stress_start - t0).as_secs_f64(),
        t0.elapsed().as_secs_f64(),
    );

    let times = sample_times(&log);
    let during: Vec<f64> = times[before.saturating_sub(1)..].to_vec();
    let _ = Command::new("kill").arg(daemon.to_string()).status();
    for c in kids.0.iter_mut() {
        let _ = c.wait();
    }
    let kicks = reader.join().unwrap();
    let sample_gap = worst_gap(&during);
    // kicks: every sample and every 50 ms between; the watchdog is closed with 'V' at the end
    let during_kicks: Vec<f64> = kicks
        .into_iter()
        .filter(|&k| k >= from && k <= to)
        .collect();
    let kick_gap = worst_gap(&during_kicks);
    println!(
        "stress {stress:.1} s: {} samples, worst sample interval {:.1} ms (100 ms asked), worst kick gap {:.1} ms (50 ms asked)",
        during.len(),
        sample_gap * 1000.0,
        kick_gap * 1000.0
    );
    assert!(
        during.len() as f64 >= stress * 10.0 * 0.8,
        "samples missing: {} in {stress} s",
        during.len()
    );
    // a blocked loop would show gaps of seconds (the slow clients' lifetimes)
    assert!(sample_gap < 0.5, "a sample waited {sample_gap} s");
    assert!(kick_gap < 0.5, "a kick waited {kick_gap} s");
}

fn promtool(args: &[&str]) {
    let o = Command::new("promtool")
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("board-configs/prometheus"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "promtool {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The alerts users copy (board-configs/prometheus): promtool accepts the
/// rules and the example config, and the rules' unit tests pass (input
/// series in, the leak, slope and exhaustion alerts expected out, and the
/// cases that must not fire); every memdog metric they use is one memdog writes.
#[test]
fn alert_rules_pass_promtool_and_their_unit_tests() {
    if !have("promtool", "prometheus") {
        return;
    }
    promtool(&["check", "rules", "memdog.rules.yml"]);
    promtool(&["test", "rules", "memdog.rules.test.yml"]);
    promtool(&["check", "config", "prometheus.yml"]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rules =
        std::fs::read_to_string(root.join("board-configs/prometheus/memdog.rules.yml")).unwrap();
    let src = std::fs::read_to_string(root.join("src/metrics.rs")).unwrap();
    let mut used = 0;
    for w in rules.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if w.starts_with("memdog_") {
            assert!(
                src.contains(&format!("b\"{w}\"")),
                "{w} is not a metric memdog writes"
            );
            used += 1;
        }
    }
    assert!(used >= 5);
}

/// An answer the socket does not take at once: strace makes every other
/// send(2) of memdog fail with EAGAIN (a full socket buffer; loopback's
/// buffers grow too large to fill with memdog's at most ~60 KB of text).
/// memdog must resume where it stopped (the text rendered again, the bytes
/// already sent skipped) and the client get it whole: byte for byte the
/// answer of a plain run, matching its Content-Length.
#[test]
fn an_answer_resumed_after_eagain_arrives_whole() {
    if !have("strace", "strace") {
        return;
    }
    let t = TempDir::new("metrics-eagain");
    let mut kids = Kids::default();
    // 16 pidfile targets with long paths: about 30 KB of series, 60 sends
    let mut args: Vec<String> = vec!["watch".into(), "--interval".into(), "60s".into()];
    for i in 0..16 {
        let kid = sleeper(&mut kids);
        let p = t.join(&format!("{}-{i:02}.pid", "long-pidfile-name-".repeat(2)));
        std::fs::write(&p, format!("{kid}\n")).unwrap();
        args.push("--pidfile".into());
        args.push(p.to_str().unwrap().to_string());
    }
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    args.extend(["--metrics-listen".into(), addr.clone()]);
    let trace = t.join("strace.out");
    let st = kids.spawn(
        Command::new("strace")
            .args(["-qq", "-o", trace.to_str().unwrap(), "-e", "trace=sendto"])
            .args(["-e", "inject=sendto:error=EAGAIN:when=2+2"])
            .arg(bin())
            .args(&args)
            .stdout(Stdio::null()),
    );
    wait_http(&addr, "/metrics", "memdog under strace");
    for _ in 0..3 {
        let r = get(&addr, "/metrics");
        assert_eq!(r.status, 200);
        let len: usize = header(&r, "Content-Length").unwrap().parse().unwrap();
        assert!(len > 24_000, "only {len} bytes");
        assert_eq!(r.body.len(), len, "a resumed answer lost or gained bytes");
        check_shape(&r.body);
        assert_eq!(r.body.matches("memdog_process_info{").count(), 16);
    }
    // end memdog itself: a killed strace would leave its tracee running
    let kid = std::fs::read_to_string(format!("/proc/{st}/task/{st}/children")).unwrap();
    let kid: i32 = kid.split_whitespace().next().unwrap().parse().unwrap();
    let asked = Instant::now();
    unsafe { libc::kill(kid, libc::SIGTERM) };
    let mut strace = kids.0.pop().unwrap();
    strace.wait().unwrap();
    // right after serving: the stop is seen at once, not at the 60 s deadline
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "SIGTERM took {:?}",
        asked.elapsed()
    );
    let tr = std::fs::read_to_string(&trace).unwrap();
    let injected = tr.matches("(INJECTED)").count();
    assert!(injected > 100, "strace injected {injected} EAGAINs:\n{tr}");
}
