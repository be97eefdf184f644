//! A byte-oriented LZ77 for the `--help` text, as busybox compresses its
//! usage texts: the build script packs the text, the binary unpacks it on the
//! rare `--help`: the 4.3 KB text packs to 2.8 KB (a byte-level LZ does
//! not do better on short text; literals would need Huffman coding), for a
//! decoder of about 150 bytes. Shared, as source, by build.rs (`compress`)
//! and the library (`expand`); no allocation in either.
//!
//! Format, one token after another:
//! - `0nnnnnnn`: a run of n+1 literal bytes follows;
//! - `1lllDDDD dddddddd`: copy l+3 bytes (3..=10) from D:d+1 bytes back in
//!   the output (1..=4096).

/// Longest and shortest match a 2-byte token encodes, and how far back.
const MAX_MATCH: usize = 10;
const MIN_MATCH: usize = 3;
const MAX_DIST: usize = 4096;

/// Unpack `src` into `out`; returns the bytes written. Stops, without
/// panicking, at the end of `out` or at a malformed token.
pub fn expand(src: &[u8], out: &mut [u8]) -> usize {
    let (mut i, mut o) = (0, 0);
    while let Some(&t) = src.get(i) {
        i += 1;
        let (n, dist) = if t < 0x80 {
            (usize::from(t) + 1, 0)
        } else {
            let lo = usize::from(src.get(i).copied().unwrap_or(0));
            i += 1;
            let len = usize::from(t >> 4 & 7) + MIN_MATCH;
            (len, (usize::from(t & 0x0f) << 8 | lo) + 1)
        };
        if dist > o {
            return o;
        }
        for _ in 0..n {
            let b = if dist == 0 {
                i += 1;
                src.get(i - 1).copied()
            } else {
                out.get(o - dist).copied()
            };
            match (b, out.get_mut(o)) {
                (Some(b), Some(d)) => *d = b,
                _ => return o,
            }
            o += 1;
        }
    }
    o
}

/// Pack `src` into `out` (greedy longest match); None if `out` is too small.
/// Quadratic, which is fine for a few KB at build time.
pub fn compress(src: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut o = 0;
    let mut lit_start = 0;
    let mut i = 0;
    let flush = |out: &mut [u8], o: &mut usize, lits: &[u8]| -> Option<()> {
        for run in lits.chunks(128) {
            *out.get_mut(*o)? = (run.len() - 1) as u8;
            out.get_mut(*o + 1..*o + 1 + run.len())?
                .copy_from_slice(run);
            *o += 1 + run.len();
        }
        Some(())
    };
    while i < src.len() {
        let (mut best_len, mut best_dist) = (0, 0);
        for j in i.saturating_sub(MAX_DIST)..i {
            let mut n = 0;
            while n < MAX_MATCH && src.get(i + n).is_some() && src.get(i + n) == src.get(j + n) {
                n += 1;
            }
            if n > best_len {
                (best_len, best_dist) = (n, i - j);
            }
        }
        if best_len >= MIN_MATCH {
            flush(out, &mut o, src.get(lit_start..i)?)?;
            let d = best_dist - 1;
            *out.get_mut(o)? = 0x80 | ((best_len - MIN_MATCH) << 4) as u8 | (d >> 8) as u8;
            *out.get_mut(o + 1)? = d as u8;
            o += 2;
            i += best_len;
            lit_start = i;
        } else {
            i += 1;
        }
    }
    flush(out, &mut o, src.get(lit_start..)?)?;
    Some(o)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(s: &[u8]) {
        let mut packed = vec![0u8; s.len() + s.len() / 64 + 8];
        let n = compress(s, &mut packed).unwrap();
        let mut back = vec![0u8; s.len()];
        assert_eq!(expand(&packed[..n], &mut back), s.len());
        assert_eq!(back, s);
    }

    #[test]
    fn help_text_packs_to_two_thirds_and_back() {
        let help = include_bytes!("help.txt");
        roundtrip(help);
        let mut packed = vec![0u8; help.len()];
        let n = compress(help, &mut packed).unwrap();
        assert!(n < help.len() * 7 / 10, "{n} of {}", help.len());
    }

    #[test]
    fn edges() {
        roundtrip(b"");
        roundtrip(b"a");
        roundtrip(&[b'x'; 1000]); // overlapping copies
        roundtrip(&(0..=255u8).cycle().take(700).collect::<Vec<_>>());
    }

    proptest! {
        #[test]
        fn any_bytes_round_trip(s in proptest::collection::vec(0u8..4, 0..600)) {
            roundtrip(&s);
        }

        // hostile input: never panics, never writes past `out`
        #[test]
        fn expand_never_panics(src in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut out = [0u8; 96];
            prop_assert!(expand(&src, &mut out) <= out.len());
        }
    }
}
