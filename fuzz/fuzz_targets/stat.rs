#![no_main]
// /proc/PID/stat: comm by the last ')', never a panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(s) = memdog::proc::stat::Stat::parse(data) {
        assert!(s.comm.len() <= memdog::proc::stat::COMM_CAP);
    }
});
