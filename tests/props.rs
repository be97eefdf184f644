//! Property tests: each fixed-buffer parser against a simple std reference
//! on generated inputs, split across every kind of read boundary.

mod common;
use memdog::proc::maps::MapsParser;
use memdog::proc::meminfo::Meminfo;
use memdog::proc::stat::Stat;
use memdog::proc::status::{Status, VM_FIELDS};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A reader handing out the data in the given chunk sizes (cycled).
struct Chunks<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    i: usize,
}
impl embedded_io::ErrorType for Chunks<'_> {
    type Error = core::convert::Infallible;
}
impl embedded_io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let want = self.sizes[self.i % self.sizes.len()].max(1);
        self.i += 1;
        let n = self.data.len().min(buf.len()).min(want);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn streamed_lines(data: &[u8], sizes: Vec<usize>, cap: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; cap];
    memdog::proc::for_each_line(&mut Chunks { data, sizes, i: 0 }, &mut buf, |l| {
        out.push(l.to_vec())
    })
    .unwrap();
    out
}

fn reference_lines(data: &[u8], cap: usize) -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = data
        .split(|&b| b == b'\n')
        .map(|l| l[..l.len().min(cap)].to_vec())
        .collect();
    if data.is_empty() || data.ends_with(b"\n") {
        v.pop();
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn line_streaming_matches_split(data in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..600),
                                    sizes in proptest::collection::vec(1usize..70, 1..8),
                                    cap in 1usize..90) {
        prop_assert_eq!(streamed_lines(&data, sizes, cap), reference_lines(&data, cap));
    }

    #[test]
    fn status_parser_matches_reference(vals in proptest::collection::btree_map(0usize..VM_FIELDS.len(), 0u64..100_000_000, 0..15),
                                       tabs in any::<bool>(),
                                       junk in proptest::collection::vec("[A-Za-z_]{1,12}:[ \t][ -~]{0,30}", 0..6),
                                       sizes in proptest::collection::vec(1usize..200, 1..5)) {
        let sep = if tabs { "\t" } else { "  " };
        let mut text = format!("Name:{sep}daemon\nState:{sep}S (sleeping)\n");
        for j in &junk {
            if !VM_FIELDS.iter().any(|f| j.starts_with(&format!("{f}:"))) && !j.starts_with("Name:") && !j.starts_with("State:") && !j.starts_with("Threads:") && !j.starts_with("Pid:") && !j.starts_with("PPid:") {
                text.push_str(j);
                text.push('\n');
            }
        }
        for (i, v) in &vals {
            text.push_str(&format!("{}:{sep}{v:>8} kB\n", VM_FIELDS[*i]));
        }
        let whole = Status::parse(text.as_bytes());
        let mut fed = Status::default();
        let mut buf = [0u8; 4096];
        memdog::proc::for_each_line(&mut Chunks { data: text.as_bytes(), sizes, i: 0 }, &mut buf, |l| fed.feed_line(l)).unwrap();
        prop_assert_eq!(&whole, &fed);
        for (i, f) in VM_FIELDS.iter().enumerate() {
            prop_assert_eq!(whole.get(f), vals.get(&i).copied(), "{}", f);
        }
        prop_assert_eq!(&whole.name[..], b"daemon");
    }

    #[test]
    fn meminfo_first_value_wins(entries in proptest::collection::vec(("[A-Za-z][A-Za-z_()]{0,14}", 0u64..1u64 << 40, any::<bool>()), 0..60)) {
        let mut text = String::new();
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for (k, v, unit) in &entries {
            text.push_str(&format!("{k}:{:>16}{}\n", v, if *unit { " kB" } else { "" }));
            want.entry(k.clone()).or_insert(*v);
        }
        let m = Meminfo::parse(text.as_bytes());
        for (k, v) in &want {
            prop_assert_eq!(m.get(k.as_bytes()), Some(*v));
        }
        prop_assert_eq!(m.len(), want.len());
    }

    #[test]
    fn stat_finds_comm_by_the_last_paren(comm in proptest::collection::vec(prop_oneof![Just(b')'), Just(b'('), Just(b' '), Just(b'\n'), 0x21u8..0x7f], 0..16),
                                         ppid in 0u32..4_000_000, threads in 1u32..5000, start in any::<u32>()) {
        let mut line = b"4242 (".to_vec();
        line.extend_from_slice(&comm);
        line.extend_from_slice(format!(") S {ppid} 1 1 0 -1 0 0 0 0 0 3 4 0 0 20 0 {threads} 0 {start} 8192 2 0 0 0\n").as_bytes());
        let s = Stat::parse(&line).unwrap();
        prop_assert_eq!(&s.comm[..], &comm[..]);
        prop_assert_eq!((s.pid, s.ppid, s.threads, s.starttime), (4242, ppid, threads, u64::from(start)));
    }

    #[test]
    fn maps_totals_match_reference(maps in proptest::collection::vec((1u64..4096, prop_oneof![Just("r-xp"), Just("rw-p"), Just("r--p"), Just("rw-s")],
                                                                     prop_oneof![Just(""), Just("[heap]"), Just("[stack]"), Just("/lib/libc.so"), Just("/usr/bin/a b (deleted)"), Just("[vdso]")]), 0..200),
                                   sizes in proptest::collection::vec(1usize..300, 1..5)) {
        let mut text = String::new();
        let mut at = 0x1000_0000u64;
        let (mut heap, mut stack, mut file, mut total) = (0u64, 0u64, 0u64, 0u64);
        for (pages, perms, path) in &maps {
            let end = at + pages * 4096;
            let inode = if path.starts_with('/') { 77 } else { 0 };
            text.push_str(&format!("{at:08x}-{end:08x} {perms} 00000000 00:00 {inode}          {path}\n"));
            let kb = pages * 4;
            total += kb;
            match *path {
                "[heap]" => heap += kb,
                "[stack]" => stack += kb,
                p if p.starts_with('/') => file += kb,
                _ => {}
            }
            at = end + 4096; // a gap: no guard adjacency
        }
        let mut p = MapsParser::default();
        let mut buf = [0u8; 128];
        memdog::proc::for_each_line(&mut Chunks { data: text.as_bytes(), sizes, i: 0 }, &mut buf, |l| p.feed_line(l)).unwrap();
        let s = p.sum;
        prop_assert_eq!((s.heap_kb, s.stack_kb, s.file_kb, s.total_kb, s.mappings as usize), (heap, stack, file, total, maps.len()));
        prop_assert_eq!(s.malformed, 0);
    }

    #[test]
    fn escaped_values_decode_back(v in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut l = memdog::line::Line::new();
        l.push(b"2026-11-24T10:00:00Z");
        l.kv_str(b"name", &v);
        l.kv(b"pid", 7);
        let out = l.finish().to_vec();
        prop_assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1);
        let text = std::str::from_utf8(&out[..out.len() - 1]).expect("escaped output is ASCII");
        let m = common::logfmt(text).expect("one clean logfmt line");
        prop_assert_eq!(&m["name"], &String::from_utf8_lossy(&v).into_owned());
        prop_assert_eq!(&m["pid"], "7");
    }

    #[test]
    fn arbitrary_arguments_never_panic(args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..12), 0..8)) {
        let _ = memdog::cli::parse(args.iter().map(|a| a.as_slice()));
    }

    #[test]
    fn arbitrary_config_text_never_panics(text in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'='), Just(b'['), Just(b']'), Just(b'#'), any::<u8>()], 0..800)) {
        let _ = memdog::config::Config::parse_text(&text);
    }

    #[test]
    fn generated_rules_round_trip(limit in 1u64..10_000_000, clear_below in 0u64..1000, n in 1u16..100, hours in 1u32..48) {
        let clear = limit.saturating_sub(clear_below);
        let text = format!("[target x]\nname = x\nwarn = VmRSS > {limit} for {n} clear {clear}\ncrit = heap slope > {limit}/h over {hours}h\n");
        let c = memdog::config::Config::parse_text(text.as_bytes()).unwrap();
        let r = &c.targets[0].rules;
        prop_assert_eq!((r[0].limit, r[0].clear, r[0].for_n), (limit, clear, n));
        prop_assert_eq!(r[1].kind, memdog::policy::Kind::Slope { window_s: hours * 3600 });
        prop_assert_eq!(r[1].limit, limit * 24, "slope limits are kept in kB per day");
    }
}
