//! Packs the --help text (src/help.txt) with src/lz.rs, as busybox packs its
//! usage texts: OUT_DIR/help.lz and its unpacked length, OUT_DIR/help_len.rs.
//! A build without the `report` feature (the board build) leaves report's
//! usage out of the text and says where it went instead. Musl (board)
//! binaries enter at main.rs's `memdog_entry`, not the C start-up.
use std::{env, fs, path::PathBuf};

#[allow(dead_code)]
#[path = "src/lz.rs"]
mod lz;

fn main() {
    println!("cargo:rerun-if-changed=src/help.txt");
    println!("cargo:rerun-if-changed=src/lz.rs");
    let full = fs::read_to_string("src/help.txt").expect("src/help.txt");
    let help = if env::var_os("CARGO_FEATURE_REPORT").is_some() {
        full
    } else {
        board_help(&full)
    };
    let mut packed = vec![0u8; help.len() + help.len() / 64 + 8];
    let n = lz::compress(help.as_bytes(), &mut packed).expect("help text packs");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("help.lz"), &packed[..n]).expect("write help.lz");
    fs::write(out.join("help_len.rs"), help.len().to_string()).expect("write help_len.rs");
    // board (musl) binaries bring their own entry point (src/main.rs)
    if env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        println!("cargo:rustc-link-arg-bins=-Wl,-e,memdog_entry");
    }
}

/// The help without `memdog report`: its usage line goes, its paragraph
/// becomes one line saying where report runs.
fn board_help(full: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in full.lines() {
        if line.starts_with("  memdog report ") {
            continue;
        }
        if line.starts_with("REPORT ") {
            out.push_str("REPORT  not in this board build: copy the log to a PC and run memdog report there.\n");
            skipping = true;
            continue;
        }
        if skipping && line.is_empty() {
            skipping = false;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}
