#![no_main]
// command lines: NUL-separated arguments
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = memdog::cli::parse(data.split(|&b| b == 0));
});
