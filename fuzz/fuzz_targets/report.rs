#![no_main]
// log lines read by `memdog report`: format detection and record parsing
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for l in data.split(|&b| b == b'\n') {
        if let memdog::report::parse::Kind::Memdog(m) = memdog::report::parse::classify(l, 1_796_000_000) {
            let _ = memdog::report::parse::key(m.payload);
            let _ = memdog::report::record(m.payload);
        }
    }
});
