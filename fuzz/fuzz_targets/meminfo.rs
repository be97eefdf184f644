#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let m = memdog::proc::meminfo::Meminfo::parse(data);
    let _ = m.available();
    assert!(m.len() <= memdog::proc::meminfo::MEMINFO_CAP);
});
