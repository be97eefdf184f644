//! /proc/meminfo: every `Key: value [kB]` line, looked up by name.
//!
//! Old or odd kernels: MemAvailable exists since 3.14 (estimated otherwise,
//! and marked as an estimate); DD-WRT and 2.4-era kernels print a
//! `total: used: free:` table in bytes first, which is skipped; whitespace may
//! be collapsed; HugePages_* lines have no unit.

use super::split_key;
use crate::num::{parse_u64_prefix, trim};

/// A 6.x kernel prints about 58 lines; 80 leaves room for distro extras.
pub const MEMINFO_CAP: usize = 80;
/// Longest key seen: `ShmemPmdMapped`, `HugePages_Surp` (14); 24 is generous.
pub const KEY_CAP: usize = 24;

pub type Key = heapless::Vec<u8, KEY_CAP>;

#[derive(Clone, Debug, Default)]
pub struct Meminfo {
    entries: heapless::Vec<(Key, u64), MEMINFO_CAP>,
    /// lines dropped because the table was full or the key too long
    pub dropped: u32,
    /// a 256-bit filter of the keys in the table ([`key_bit`]): a line's
    /// key is searched for (first one wins) only when its bit is set, not
    /// for every line (that search was 7 % of a sample's CPU time in perf)
    seen: [u32; 8],
}

/// The filter bit of a key: from its length, first and last bytes (32-bit
/// words: no 64-bit shifts on the 32-bit boards).
fn key_bit(k: &[u8]) -> (usize, u32) {
    let (a, z) = (k.first().copied(), k.last().copied());
    let h = k.len() * 8 + usize::from(a.unwrap_or(0)) * 5 + usize::from(z.unwrap_or(0));
    ((h >> 5) & 7, 1 << (h & 31))
}

/// MemAvailable as printed, or estimated on kernels that lack it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Available {
    Kernel(u64),
    /// MemFree + Active(file) + Inactive(file) + SReclaimable (or
    /// MemFree + Buffers + Cached where the split LRU lists are missing):
    /// what the 3.14 kernel computes, without the watermark reserve.
    Estimated(u64),
}

impl Available {
    pub fn kb(self) -> u64 {
        match self {
            Available::Kernel(v) | Available::Estimated(v) => v,
        }
    }
}

impl Meminfo {
    pub fn parse(buf: &[u8]) -> Meminfo {
        let mut m = Meminfo::default();
        for line in buf.split(|&b| b == b'\n') {
            m.feed_line(line);
        }
        m
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.dropped = 0;
        self.seen = [0; 8];
    }

    pub fn feed_line(&mut self, line: &[u8]) {
        let Some((key, val)) = split_key(line) else {
            return;
        };
        // one number, optionally " kB", nothing else: rejects the 2.4 byte table
        let Some((v, rest)) = parse_u64_prefix(val) else {
            return;
        };
        let rest = trim(rest);
        if !(rest.is_empty() || rest == b"kB") || key.is_empty() {
            return;
        }
        let (w, bit) = key_bit(key);
        let word = self.seen.get(w).copied().unwrap_or(!0);
        if word & bit != 0 && self.get(key).is_some() {
            return; // first one wins
        }
        let Ok(k) = Key::from_slice(key) else {
            self.dropped += 1;
            return;
        };
        if self.entries.push((k, v)).is_err() {
            self.dropped += 1;
            return;
        }
        if let Some(s) = self.seen.get_mut(w) {
            *s |= bit;
        }
    }

    /// Add a value from another file (the pressure fields, so [system]
    /// rules find them like meminfo keys); a full table counts a drop.
    pub fn insert(&mut self, key: &[u8], v: u64) {
        let ok = Key::from_slice(key).is_ok_and(|k| self.entries.push((k, v)).is_ok());
        if !ok {
            self.dropped += 1;
            return;
        }
        let (w, bit) = key_bit(key);
        if let Some(s) = self.seen.get_mut(w) {
            *s |= bit;
        }
    }

    pub fn get(&self, key: &[u8]) -> Option<u64> {
        // length and first byte before the bytes: this search runs for
        // every line of every sample (first-one-wins), and most keys differ
        // in one of the two
        self.entries
            .iter()
            .find(|(k, _)| k.len() == key.len() && k.first() == key.first() && &k[..] == key)
            .map(|(_, v)| *v)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&[u8], u64)> {
        self.entries.iter().map(|(k, v)| (&k[..], *v))
    }

    pub fn available(&self) -> Option<Available> {
        if let Some(v) = self.get(b"MemAvailable") {
            return Some(Available::Kernel(v));
        }
        let free = self.get(b"MemFree")?;
        let sre = self.get(b"SReclaimable").unwrap_or(0);
        let est = match (self.get(b"Active(file)"), self.get(b"Inactive(file)")) {
            (Some(a), Some(i)) => free + a + i + sre,
            _ => free + self.get(b"Buffers").unwrap_or(0) + self.get(b"Cached").unwrap_or(0) + sre,
        };
        Some(Available::Estimated(est))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern() {
        let m = Meminfo::parse(b"MemTotal:       16303740 kB\nMemFree:         1234 kB\nMemAvailable:   9000 kB\nHugePages_Total:       0\n");
        assert_eq!(m.get(b"MemTotal"), Some(16303740));
        assert_eq!(m.available(), Some(Available::Kernel(9000)));
        assert_eq!(m.get(b"HugePages_Total"), Some(0));
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn old_kernel_estimate_and_byte_table_skipped() {
        let m = Meminfo::parse(
            b"        total:    used:    free:  shared: buffers:  cached:\n\
Mem:  260579328 50000000 210000000 0 1000 2000\nSwap: 0 0 0\n\
MemTotal: 254472 kB\nMemFree: 1000 kB\nBuffers: 10 kB\nCached: 100 kB\nActive(file): 40 kB\nInactive(file): 50 kB\n",
        );
        assert_eq!(m.get(b"Mem"), None);
        assert_eq!(m.get(b"total"), None);
        assert_eq!(m.get(b"MemTotal"), Some(254472));
        assert_eq!(m.available(), Some(Available::Estimated(1090)));
    }

    #[test]
    fn full_table_counts_drops() {
        let mut text = Vec::new();
        for i in 0..MEMINFO_CAP + 5 {
            text.extend_from_slice(format!("K{i}: {i} kB\n").as_bytes());
        }
        let m = Meminfo::parse(&text);
        assert_eq!(m.len(), MEMINFO_CAP);
        assert_eq!(m.dropped, 5);
    }
}
