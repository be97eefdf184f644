#![no_main]
// /proc/PID/status: whole and line-fed parses must agree and never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let whole = memdog::proc::status::Status::parse(data);
    let mut fed = memdog::proc::status::Status::default();
    for l in data.split(|&b| b == b'\n') {
        fed.feed_line(l);
    }
    assert_eq!(whole, fed);
});
