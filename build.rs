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
    let help = board_help(&full);
    let mut packed = vec![0u8; help.len() + help.len() / 64 + 8];
    let n = lz::compress(help.as_bytes(), &mut packed).expect("help text packs");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("help.lz"), &packed[..n]).expect("write help.lz");
    fs::write(out.join("help_len.rs"), help.len().to_string()).expect("write help_len.rs");
    // the cargo features of this build, for --version (and cross/smoke.sh)
    let mut feats: Vec<String> = env::vars()
        .filter_map(|(k, _)| {
            k.strip_prefix("CARGO_FEATURE_")
                .map(|f| f.to_lowercase().replace('_', "-"))
        })
        .filter(|f| f != "default")
        .collect();
    feats.sort();
    let feats = if feats.is_empty() {
        "none".to_string()
    } else {
        feats.join(" ")
    };
    fs::write(out.join("features.txt"), feats).expect("write features.txt");
    // board (musl) binaries bring their own entry point (src/main.rs)
    if env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        println!("cargo:rustc-link-arg-bins=-Wl,-e,memdog_entry");
    }
}

/// The tools a build leaves out (cargo features, docs/size.md): the usage
/// line that starts with `usage` goes, and the paragraph that starts with
/// `heading` becomes one line saying where the tool is.
const LEFT_OUT: [(&str, &str, &str, &str); 5] = [
    (
        "WATCH",
        "  memdog watch ",
        "WATCH ",
        "WATCH  not in this board build (make cross CROSS_FEATURES=watch puts it back): run -c CONFIG\n  with log = - samples the same to stdout (board-configs/default.conf: fields, log).\n",
    ),
    (
        "DUMP",
        "  memdog dump PID",
        "DUMP ",
        "DUMP  not in this board build (make cross CROSS_FEATURES=dump puts it back).\n",
    ),
    (
        "REPORT",
        "  memdog report ",
        "REPORT ",
        "REPORT  not in this board build: copy the log to a PC and run memdog report there.\n",
    ),
    (
        "SNAPSHOT",
        "  memdog snapshot ",
        "SNAPSHOT ",
        "SNAPSHOT  not in this board build (make cross CROSS_FEATURES=snapshot puts it back).\n",
    ),
    (
        "MAPS",
        "  memdog maps ",
        "MAPS ",
        "MAPS  not in this board build: copy /proc/PID/maps to DIR/PID/ on a PC, run memdog maps PID --proc-root DIR.\n",
    ),
];

/// The help of this build: without the tools it leaves out (all of them are
/// in a host build).
fn board_help(full: &str) -> String {
    let has = |f: &str| env::var_os(format!("CARGO_FEATURE_{f}")).is_some();
    let gone: Vec<_> = LEFT_OUT.iter().filter(|(f, ..)| !has(f)).collect();
    let mut out = String::new();
    let mut skipping = false;
    let mut cont = false;
    for line in full.lines() {
        if gone.iter().any(|(_, usage, ..)| line.starts_with(usage)) {
            cont = true;
            continue;
        }
        // a left-out usage's continuation lines (`              [--quiet] ...`)
        if cont && line.starts_with("              [") {
            continue;
        }
        cont = false;
        if let Some((.., instead)) = gone
            .iter()
            .find(|(_, _, heading, _)| line.starts_with(heading))
        {
            out.push_str(instead);
            skipping = true;
            continue;
        }
        // a paragraph ends at a blank line or at the next heading
        if skipping && (line.is_empty() || line.starts_with(|c: char| c.is_ascii_uppercase())) {
            skipping = false;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !has("DUMP_TOP") {
        // --top counts a dump's strings: on a PC, dump --diff /dev/null FILE
        out = out
            .replace(" [--top K]\n", "\n")
            .replace("--top K counts repeated strings; ", "");
    }
    if !has("FIELDS_EXTRA") {
        // two lines: the first names the fields, the second continues it
        let mut kept = String::new();
        let mut skip = 0;
        for line in out.lines() {
            if line.trim_start().starts_with("with fields-extra:") {
                skip = 2;
            }
            if skip > 0 {
                skip -= 1;
                continue;
            }
            kept.push_str(line);
            kept.push('\n');
        }
        out = kept;
    }
    out
}
