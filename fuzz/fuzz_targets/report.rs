#![no_main]
// log lines read by `memdog report`
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut r = memdog::report::Report::new(None);
    for l in data.split(|&b| b == b'\n') {
        r.feed_line(l);
    }
});
