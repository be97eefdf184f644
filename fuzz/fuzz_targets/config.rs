#![no_main]
// the config parser: errors, never panics, on any bytes
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = memdog::config::Config::parse_text(data);
});
