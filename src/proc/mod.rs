//! Pure parsers for /proc text, fed line by line so a file of any size can
//! stream through one fixed buffer. No I/O here except [`for_each_line`],
//! which works over any `embedded_io::Read`.

pub mod maps;
pub mod meminfo;
#[cfg(feature = "fields-extra")]
pub mod psi;
#[cfg(feature = "fields-extra")]
pub mod rollup;
pub mod stat;
pub mod status;

/// Result of streaming a file through a fixed buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineStats {
    pub lines: u32,
    /// lines longer than the buffer; each was passed on cut to the buffer size
    pub truncated: u32,
}

/// Read `r` to the end through `buf`, calling `f` once per line (without the
/// newline). A last line without a newline is still a line. A line longer
/// than `buf` is passed cut to `buf.len()` bytes and counted in `truncated`:
/// a bounded buffer is never a panic and never a lost following line.
pub fn for_each_line<R: embedded_io::Read>(
    r: &mut R,
    buf: &mut [u8],
    mut f: impl FnMut(&[u8]),
) -> Result<LineStats, R::Error> {
    lines_of(r, buf, false, &mut f)
}

/// Like [`for_each_line`] for files produced whole by one kernel `show`
/// (status, stat, meminfo: single_open seq files) and for regular files: a
/// read that returns less than asked for means the end, which saves the
/// extra read(2) that only returns 0. Not for maps, whose seq_file may return
/// short reads before the end.
pub fn for_each_line_whole<R: embedded_io::Read>(
    r: &mut R,
    buf: &mut [u8],
    mut f: impl FnMut(&[u8]),
) -> Result<LineStats, R::Error> {
    lines_of(r, buf, true, &mut f)
}

/// The reader type's part: its errors are kept here, the loop sees a read
/// that failed as `None`.
fn lines_of<R: embedded_io::Read>(
    r: &mut R,
    buf: &mut [u8],
    short_is_eof: bool,
    f: &mut dyn FnMut(&[u8]),
) -> Result<LineStats, R::Error> {
    let mut err = None;
    let st = lines_until_eof(
        &mut |b| match r.read(b) {
            Ok(n) => Some(n),
            Err(e) => {
                err = Some(e);
                None
            }
        },
        buf,
        short_is_eof,
        f,
    );
    match err {
        Some(e) => Err(e),
        None => Ok(st),
    }
}

/// One copy of the loop in the binary, whatever the reader (a held file read
/// with pread, a plain descriptor): reader and line handler are called
/// through a `dyn` (each inlined copy cost 300-600 bytes of a board binary).
/// A failed read (`None`) ends it; the caller has the error.
fn lines_until_eof(
    read: &mut dyn FnMut(&mut [u8]) -> Option<usize>,
    buf: &mut [u8],
    short_is_eof: bool,
    f: &mut dyn FnMut(&[u8]),
) -> LineStats {
    let mut st = LineStats::default();
    let mut eof = false;
    let mut len = 0usize; // bytes of a partial line at buf[..len]
    let mut skipping = false; // inside the tail of an over-long line
    loop {
        let n = match buf.get_mut(len..) {
            Some(space) if !space.is_empty() && !eof => {
                let Some(n) = read(space) else {
                    return st;
                };
                eof = short_is_eof && n < space.len();
                n
            }
            _ => 0,
        };
        if n == 0 && (len < buf.len() || eof) {
            // end of file
            if len > 0 && !skipping {
                f(buf.get(..len).unwrap_or(&[]));
                st.lines += 1;
            }
            return st;
        }
        let end = len + n;
        let mut start = 0;
        while let Some(off) = buf.get(start..end).and_then(|s| find_byte(s, b'\n')) {
            if skipping {
                skipping = false;
            } else {
                f(buf.get(start..start + off).unwrap_or(&[]));
                st.lines += 1;
            }
            start += off + 1;
        }
        if start == 0 && end == buf.len() {
            // a full buffer with no newline: hand out the prefix, skip the rest
            if !skipping {
                f(buf);
                st.lines += 1;
                st.truncated += 1;
                skipping = true;
            }
            len = 0;
        } else if skipping {
            len = 0;
        } else {
            buf.copy_within(start..end, 0);
            len = end - start;
        }
    }
}

/// Index of the first `b` in `s`, a word at a time (the has-zero-byte test
/// on the word XOR b, bytes read little-endian so the lowest flagged byte
/// is the first match on every target). The newline and colon searches of
/// every /proc line were the top user-space symbols of a sample in perf.
#[inline(never)]
pub(crate) fn find_byte(s: &[u8], b: u8) -> Option<usize> {
    const W: usize = core::mem::size_of::<usize>();
    const LO: usize = usize::MAX / 255;
    const HI: usize = LO << 7;
    let pat = LO * usize::from(b);
    let mut chunks = s.chunks_exact(W);
    let mut i = 0;
    for c in &mut chunks {
        // a cast, not a copy: chunks_exact gives W bytes
        let Ok(w) = <[u8; W]>::try_from(c) else {
            break;
        };
        let x = usize::from_le_bytes(w) ^ pat;
        let t = x.wrapping_sub(LO) & !x & HI;
        if t != 0 {
            return Some(i + t.trailing_zeros() as usize / 8);
        }
        i += W;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == b)
        .map(|p| i + p)
}

/// Split `key: value` at the first colon; None when there is no colon.
pub(crate) fn split_key(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = find_byte(line, b':')?;
    Some((crate::num::trim(line.get(..i)?), line.get(i + 1..)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per read.
    struct Chunked<'a> {
        data: &'a [u8],
        chunk: usize,
    }
    impl embedded_io::ErrorType for Chunked<'_> {
        type Error = core::convert::Infallible;
    }
    impl embedded_io::Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            let n = self.data.len().min(buf.len()).min(self.chunk);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn lines(data: &[u8], chunk: usize, cap: usize) -> (Vec<Vec<u8>>, LineStats) {
        let mut out = Vec::new();
        let mut buf = vec![0u8; cap];
        let st = for_each_line(&mut Chunked { data, chunk }, &mut buf, |l| {
            out.push(l.to_vec())
        })
        .unwrap();
        (out, st)
    }

    #[test]
    fn every_split_and_buffer_size_gives_the_same_lines() {
        let data = b"a\nbb\n\nccc dd\nlast";
        let want: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(|l| l.to_vec()).collect();
        for chunk in 1..=data.len() {
            for cap in 8..=24 {
                let (got, st) = lines(data, chunk, cap);
                assert_eq!(got, want, "chunk {chunk} cap {cap}");
                assert_eq!(st.truncated, 0);
            }
        }
    }

    #[test]
    fn long_lines_are_cut_not_lost() {
        let data = b"short\nthis line is far longer than the buffer\nnext\n";
        for chunk in 1..=data.len() {
            let (got, st) = lines(data, chunk, 8);
            assert_eq!(
                got,
                vec![b"short".to_vec(), b"this lin".to_vec(), b"next".to_vec()],
                "chunk {chunk}"
            );
            assert_eq!(
                st,
                LineStats {
                    lines: 3,
                    truncated: 1
                }
            );
        }
    }

    /// Counts read calls; returns everything in one read.
    struct Once<'a> {
        data: &'a [u8],
        calls: u32,
    }
    impl embedded_io::ErrorType for Once<'_> {
        type Error = core::convert::Infallible;
    }
    impl embedded_io::Read for Once<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
            self.calls += 1;
            let n = self.data.len().min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn whole_file_reads_stop_at_a_short_read() {
        let data = b"VmRSS: 1 kB\nVmSize: 2 kB\nlast";
        let mut r = Once { data, calls: 0 };
        let mut buf = [0u8; 64];
        let mut n = 0;
        let st = for_each_line_whole(&mut r, &mut buf, |_| n += 1).unwrap();
        assert_eq!((st.lines, n, r.calls), (3, 3, 1));
        // a file larger than the buffer still reads to the end
        let big: Vec<u8> = (0..50)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let mut r = Once {
            data: &big,
            calls: 0,
        };
        let mut n = 0;
        let st = for_each_line_whole(&mut r, &mut buf, |_| n += 1).unwrap();
        assert_eq!((st.lines, n), (50, 50));
        assert!(r.calls > 1);
    }

    proptest::proptest! {
        // against the byte-at-a-time reference, on bytes near the searched
        // one (the borrow of the word trick) and at every alignment
        #[test]
        fn find_byte_matches_position(data in proptest::collection::vec(proptest::prop_oneof![0x08u8..0x0c, 0x38u8..0x3c, 0x7fu8..0x82, proptest::prelude::any::<u8>()], 0..64),
                                      b in proptest::prop_oneof![proptest::prelude::Just(b'\n'), proptest::prelude::Just(b':'), proptest::prelude::any::<u8>()],
                                      skip in 0usize..8) {
            let s = data.get(skip.min(data.len())..).unwrap();
            proptest::prop_assert_eq!(find_byte(s, b), s.iter().position(|&c| c == b));
        }
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert_eq!(lines(b"", 4, 8).0.len(), 0);
    }
}
