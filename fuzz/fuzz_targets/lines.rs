#![no_main]
// the fixed-buffer line streamer: every chunking gives the reference lines
struct Chunks<'a> {
    data: &'a [u8],
    step: usize,
}
impl embedded_io::ErrorType for Chunks<'_> {
    type Error = core::convert::Infallible;
}
impl embedded_io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        let n = self.data.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}
libfuzzer_sys::fuzz_target!(|input: (u8, u8, &[u8])| {
    let (step, cap, data) = input;
    let (step, cap) = (usize::from(step).max(1), usize::from(cap).max(1));
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; cap];
    memdog::proc::for_each_line(&mut Chunks { data, step }, &mut buf, |l| got.push(l.to_vec())).unwrap();
    let mut want: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(|l| l[..l.len().min(cap)].to_vec()).collect();
    if data.is_empty() || data.ends_with(b"\n") {
        want.pop();
    }
    assert_eq!(got, want);
});
