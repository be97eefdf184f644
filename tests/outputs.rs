//! Other outputs: local syslog (a unix datagram socket, as /dev/log),
//! remote syslog over UDP to 127.0.0.1, and the Prometheus textfile.

mod common;
use common::*;
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

#[test]
fn local_syslog_gets_rfc3164_datagrams() {
    let t = TempDir::new("syslog");
    let sock = t.join("log");
    let rx = UnixDatagram::bind(&sock).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "2",
        "--interval",
        "10ms",
        "--fields",
        "VmRSS",
        "--syslog-socket",
        sock.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = rx.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        if got.len() == 5 {
            break;
        }
    }
    assert_eq!(
        got.len(),
        5,
        "start + 2 x (sample + meminfo) and one line each: {got:?}"
    );
    // <PRI>Mmm dd hh:mm:ss TAG[PID]: msg ; daemon.notice = 29 for events, daemon.info = 30
    assert!(
        got[0].starts_with("<29>")
            && got[0].contains(" memdog[")
            && got[0].contains("]: up=")
            && got[0].contains("event=start"),
        "{}",
        got[0]
    );
    assert!(
        got[1].starts_with("<30>") && got[1].contains(" name=memdog VmRSS="),
        "{}",
        got[1]
    );
    let month = &got[1][4..7];
    assert!(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            .contains(&month)
    );
    // stdout still has the log
    assert_eq!(stdout(&o).lines().count(), 5);
}

#[test]
fn remote_syslog_over_udp_to_a_numeric_address() {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let addr = rx.local_addr().unwrap().to_string();
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "1",
        "--syslog-remote",
        &addr,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut buf = [0u8; 2048];
    let n = rx.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert!(
        msg.contains(&format!(" {} memdog[", host.trim())),
        "HOSTNAME field: {msg}"
    );
    assert_eq!(
        memdog(&["watch", "--pid", "self", "--syslog-remote", "localhost:514"])
            .status
            .code(),
        Some(2),
        "no DNS"
    );
}

#[test]
fn missing_syslog_socket_is_a_clear_error() {
    let o = memdog(&[
        "watch",
        "--pid",
        "self",
        "--count",
        "1",
        "--syslog-socket",
        "/nonexistent/log",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot connect to syslog at /nonexistent/log"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn prometheus_textfile_is_replaced_atomically_with_escaped_labels() {
    let t = TempDir::new("textfile");
    let prom = t.join("memdog.prom");
    // a hostile name: quote, backslash, newline
    let exe = t.join("we\"ird\\na\nme");
    std::fs::copy("/bin/sleep", &exe).unwrap();
    let mut kid = spawn_retry(std::process::Command::new(&exe).arg("30"));
    let o = memdog(&[
        "watch",
        "--pid",
        &kid.id().to_string(),
        "--pid",
        "self",
        "--count",
        "2",
        "--interval",
        "10ms",
        "--fields",
        "VmRSS,heap",
        "--textfile",
        prom.to_str().unwrap(),
    ]);
    kid.kill().unwrap();
    kid.wait().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&prom).unwrap();
    assert!(!t.join("memdog.prom.tmp").exists());
    assert!(text.contains("# TYPE memdog_process_memory_bytes gauge"));
    assert!(text.contains("memdog_samples_total 2\n"), "{text}");
    // the name escaped; the pid only in the info series
    let name = "name=\"we\\\"ird\\\\na\\nme\"";
    let kid_id = kid.id();
    assert!(
        text.contains(&format!(
            "memdog_process_memory_bytes{{target=\"pid:{kid_id}\",{name},memtype=\"resident\"}} "
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "memdog_process_info{{target=\"pid:{kid_id}\",{name},pid=\"{kid_id}\"}} 1\n"
        )),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("memdog_system_memory_bytes{field=\"MemAvailable\"} ")),
        "{text}"
    );
    // written in 512-byte chunks: this file spans a seam, and it is whole
    assert!(text.len() > 512, "{}", text.len());
    // every sample line is `name{labels} value`
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        let v = l.rsplit(' ').next().unwrap();
        assert!(v.parse::<f64>().is_ok(), "{l}");
    }
}
