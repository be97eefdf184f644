#![no_std]
#![no_main]
use core::ffi::{c_char, c_int};
#[no_mangle]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    let s = b"hi\n";
    unsafe { libc::write(1, s.as_ptr().cast(), s.len()) };
    memdog::answer() as c_int - 42
}
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! { unsafe { libc::abort() } }
/// core is prebuilt with unwind tables; an unoptimised build keeps a reference to
/// the personality routine even with panic=abort. It is never called.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}
