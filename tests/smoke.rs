#[test]
fn runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_memdog")).output().unwrap();
    assert_eq!(out.stdout, b"hi\n");
}
