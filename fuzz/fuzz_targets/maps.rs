#![no_main]
// /proc/PID/maps: class totals never exceed the total.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let s = memdog::proc::maps::MapsParser::parse(data);
    let parts = s.heap_kb as u128 + s.stack_kb as u128 + s.thread_stack_kb as u128 + s.anon_kb as u128 + s.file_kb as u128 + s.shm_kb as u128 + s.special_kb as u128;
    assert_eq!(parts, s.total_kb as u128);
});
