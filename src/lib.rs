//! memdog: a tiny, static, allocation-free memory watchdog for embedded Linux.
//!
//! The library holds everything but the entry point, so it is tested with std
//! under `cargo test` while the agent binary is `no_std` with no allocator.
//!
//! Contract: no heap allocation (every buffer is a fixed, named capacity),
//! no panic on any input (malformed /proc text, arguments, files are values),
//! and `unsafe` only in [`sys`].
#![cfg_attr(not(test), no_std)]
// inline asm (sys::raw) is unstable on MIPS; cross builds set RUSTC_BOOTSTRAP
#![cfg_attr(target_arch = "mips", feature(asm_experimental_arch))]
#![deny(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod cli;
pub mod config;
pub mod daemon;
pub mod inspect;
pub mod line;
pub mod lz;
pub mod metrics;
pub mod num;
pub mod out;
pub mod policy;
pub mod proc;
pub mod report;
pub mod sample;
pub mod snapshot;
pub mod sys;
pub mod syslog;
pub mod units;
pub mod watch;
