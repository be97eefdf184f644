//! Heavy hitters in fixed memory: the Space-Saving summary (Metwally,
//! Agrawal, El Abbadi, "Efficient computation of frequent and top-k elements
//! in data streams", 2005) over the strings of a dump.
//!
//! K counters. A string already counted is incremented; a new one takes a
//! free counter, or, when all are taken, the counter with the least count
//! `m`: it starts at `m + 1` with error `m`. Guarantees, for N strings fed:
//! every reported count `c` with error `e` has `c - e <= true <= c`; the
//! least count is at most N / K, and every string seen more than the least
//! count times holds a counter (so every string above N / K is reported).
//! The least count is found in O(log K) through a binary min-heap; strings are
//! found by their 64-bit hash in a linear-probing index with backward-shift
//! deletion (so an evicted string leaves no tombstone).

/// Bytes of each counted string kept for display.
pub const KEEP: usize = 48;
const EMPTY: u16 = u16::MAX;

#[derive(Clone, Copy)]
pub struct Entry {
    pub hash: u64,
    /// Space-Saving count: an over-estimate by at most `error`.
    pub count: u32,
    pub error: u32,
    /// Exact counts of a second pass ([`TopK::count_exact`]), per column.
    pub exact: [u32; 2],
    /// The string's whole length (saturating), of which `head` keeps KEEP bytes.
    pub len: u32,
    pub head_len: u8,
    pub head: [u8; KEEP],
    heap: u16,
}

impl Entry {
    const ZERO: Entry = Entry {
        hash: 0,
        count: 0,
        error: 0,
        exact: [0; 2],
        len: 0,
        head_len: 0,
        head: [0; KEEP],
        heap: 0,
    };
    pub fn head(&self) -> &[u8] {
        self.head.get(..usize::from(self.head_len)).unwrap_or(&[])
    }
}

/// A Space-Saving summary of K counters; S index slots (S >= 2K keeps probes short).
pub struct TopK<const K: usize, const S: usize> {
    e: [Entry; K],
    used: usize,
    /// min-heap of entry indices, by count
    heap: [u16; K],
    slot: [u16; S],
    /// strings fed
    pub seen: u64,
    /// counters taken over from another string
    pub evictions: u64,
}

impl<const K: usize, const S: usize> Default for TopK<K, S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const K: usize, const S: usize> TopK<K, S> {
    pub const CAPACITY: usize = K;

    /// More slots than counters (a free slot ends every probe), and entry
    /// indices fit the u16 index with EMPTY to spare.
    const SHAPE_OK: () = assert!(S > K && K < u16::MAX as usize);

    pub fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::SHAPE_OK;
        TopK {
            e: [Entry::ZERO; K],
            used: 0,
            heap: [0; K],
            slot: [EMPTY; S],
            seen: 0,
            evictions: 0,
        }
    }

    fn home(hash: u64) -> usize {
        // the high bits: FNV's low bits are weaker
        ((hash >> 17) as usize) % S.max(1)
    }

    fn entry(&self, i: u16) -> Option<&Entry> {
        self.e.get(usize::from(i))
    }

    fn count_at(&self, heap_pos: usize) -> u32 {
        self.heap
            .get(heap_pos)
            .and_then(|&i| self.entry(i))
            .map_or(u32::MAX, |e| e.count)
    }

    /// The index slot holding `hash`, or the empty slot where it would go.
    fn find(&self, hash: u64) -> (usize, Option<u16>) {
        let mut i = Self::home(hash);
        for _ in 0..S {
            match self.slot.get(i).copied() {
                Some(EMPTY) | None => return (i, None),
                Some(ix) if self.entry(ix).is_some_and(|e| e.hash == hash) => return (i, Some(ix)),
                _ => i = (i + 1) % S,
            }
        }
        (S, None)
    }

    /// Empty index slot `i` and shift later members of its cluster back.
    fn unindex(&mut self, mut i: usize) {
        if let Some(s) = self.slot.get_mut(i) {
            *s = EMPTY;
        }
        let mut j = i;
        for _ in 0..S {
            j = (j + 1) % S;
            let Some(&ix) = self.slot.get(j) else { return };
            if ix == EMPTY {
                return;
            }
            let home = self.entry(ix).map_or(j, |e| Self::home(e.hash));
            // stays if its home lies cyclically in (i, j]
            let stays = if i <= j {
                i < home && home <= j
            } else {
                i < home || home <= j
            };
            if !stays {
                if let Some(s) = self.slot.get_mut(i) {
                    *s = ix;
                }
                if let Some(s) = self.slot.get_mut(j) {
                    *s = EMPTY;
                }
                i = j;
            }
        }
    }

    fn swap_heap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        for p in [a, b] {
            if let Some(&ix) = self.heap.get(p) {
                if let Some(e) = self.e.get_mut(usize::from(ix)) {
                    e.heap = p as u16;
                }
            }
        }
    }

    fn sift_down(&mut self, mut p: usize) {
        loop {
            let (l, r) = (2 * p + 1, 2 * p + 2);
            let mut m = p;
            if l < self.used && self.count_at(l) < self.count_at(m) {
                m = l;
            }
            if r < self.used && self.count_at(r) < self.count_at(m) {
                m = r;
            }
            if m == p {
                return;
            }
            self.swap_heap(p, m);
            p = m;
        }
    }

    fn sift_up(&mut self, mut p: usize) {
        while p > 0 {
            let parent = (p - 1) / 2;
            if self.count_at(parent) <= self.count_at(p) {
                return;
            }
            self.swap_heap(p, parent);
            p = parent;
        }
    }

    /// Count one occurrence of the string with this hash, `len` bytes long, starting with `head`.
    pub fn add(&mut self, hash: u64, head: &[u8], len: u64) {
        self.seen += 1;
        let (slot, found) = self.find(hash);
        if let Some(ix) = found {
            if let Some(e) = self.e.get_mut(usize::from(ix)) {
                e.count = e.count.saturating_add(1);
                let p = usize::from(e.heap);
                self.sift_down(p);
            }
            return;
        }
        let (ix, count, error, slot) = if self.used < K {
            let ix = self.used as u16;
            if let Some(h) = self.heap.get_mut(self.used) {
                *h = ix;
            }
            self.used += 1;
            (ix, 1, 0, slot)
        } else {
            // take over the least counter
            let Some(&ix) = self.heap.first() else { return };
            let (old_hash, m) = self.entry(ix).map_or((0, 0), |e| (e.hash, e.count));
            if let (s, Some(_)) = self.find(old_hash) {
                self.unindex(s);
            }
            self.evictions += 1;
            // the slot may have moved in the backward shift
            let (slot, _) = self.find(hash);
            (ix, m.saturating_add(1), m, slot)
        };
        if let Some(s) = self.slot.get_mut(slot) {
            *s = ix;
        }
        let heap_pos = if count == 1 { self.used - 1 } else { 0 };
        if let Some(e) = self.e.get_mut(usize::from(ix)) {
            let n = head.len().min(KEEP);
            e.hash = hash;
            e.count = count;
            e.error = error;
            e.exact = [0; 2];
            e.len = len.min(u64::from(u32::MAX)) as u32;
            e.head_len = n as u8;
            if let (Some(d), Some(s)) = (e.head.get_mut(..n), head.get(..n)) {
                d.copy_from_slice(s);
            }
            e.heap = heap_pos as u16;
        }
        if count == 1 {
            self.sift_up(heap_pos);
        } else {
            self.sift_down(0);
        }
    }

    /// Second pass: count this string exactly in `col` if it holds a counter.
    pub fn count_exact(&mut self, hash: u64, col: usize) {
        if let (_, Some(ix)) = self.find(hash) {
            if let Some(c) = self
                .e
                .get_mut(usize::from(ix))
                .and_then(|e| e.exact.get_mut(col))
            {
                *c = c.saturating_add(1);
            }
        }
    }

    pub fn entries(&self) -> &[Entry] {
        self.e.get(..self.used).unwrap_or(&[])
    }

    pub fn is_full(&self) -> bool {
        self.used == K
    }

    /// The least count: once the table is full, every string seen more
    /// often than this holds a counter (0 while not full: all are counted).
    pub fn threshold(&self) -> u32 {
        if self.is_full() {
            self.count_at(0)
        } else {
            0
        }
    }

    /// The largest error of any counter: every count is exact to +-this.
    pub fn max_error(&self) -> u32 {
        self.entries().iter().map(|e| e.error).max().unwrap_or(0)
    }

    /// The k entries with the largest positive score, best first; ties by
    /// smaller error, then by the string (a stable order for tests).
    pub fn best<const N: usize>(
        &self,
        k: usize,
        score: impl Fn(&Entry) -> i64,
    ) -> heapless::Vec<Entry, N> {
        let mut top: heapless::Vec<Entry, N> = heapless::Vec::new();
        let k = k.min(N);
        let before = |a: &Entry, b: &Entry| {
            (
                score(a),
                core::cmp::Reverse(a.error),
                core::cmp::Reverse(a.head()),
            ) > (
                score(b),
                core::cmp::Reverse(b.error),
                core::cmp::Reverse(b.head()),
            )
        };
        for en in self.entries() {
            if score(en) <= 0 {
                continue;
            }
            let pos = top.iter().position(|t| before(en, t)).unwrap_or(top.len());
            if pos < k {
                if top.len() == k {
                    top.pop();
                }
                let _ = top.insert(pos, *en);
            }
        }
        top
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Feed a stream of small ids and check Space-Saving's guarantees
    /// against exact counts (the oracle: a HashMap).
    fn check<const K: usize, const S: usize>(stream: &[u64]) {
        let mut t: Box<TopK<K, S>> = Box::default();
        let mut truth: HashMap<u64, u32> = HashMap::new();
        for &id in stream {
            // spread ids so that many share home slots (clusters, shifts)
            let hash = id.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            t.add(hash, &id.to_le_bytes(), 8);
            *truth.entry(hash).or_default() += 1;
        }
        let n = stream.len() as u64;
        assert_eq!(t.seen, n);
        let distinct = truth.len();
        assert_eq!(t.entries().len(), distinct.min(K));
        // every counted string is findable, once
        let mut hashes: Vec<u64> = t.entries().iter().map(|e| e.hash).collect();
        hashes.sort();
        hashes.dedup();
        assert_eq!(hashes.len(), t.entries().len(), "a string counted twice");
        let sum: u64 = t.entries().iter().map(|e| u64::from(e.count)).sum();
        assert_eq!(sum, n, "Space-Saving's counts always sum to N");
        for e in t.entries() {
            let real = truth.get(&e.hash).copied().unwrap_or(0);
            assert!(
                e.count - e.error <= real && real <= e.count,
                "count {} error {} true {}",
                e.count,
                e.error,
                real
            );
            assert!(e.error <= t.max_error());
        }
        let m = t.threshold();
        assert!(u64::from(m) * K as u64 <= n, "least count {m} > N/K");
        for (h, &c) in &truth {
            if c > m {
                assert!(t.find(*h).1.is_some(), "a string seen {c} > {m} times lost");
            }
        }
        // the index holds exactly the counted strings
        let indexed = t.slot.iter().filter(|&&s| s != EMPTY).count();
        assert_eq!(indexed, t.entries().len());
        // heap order and back-pointers
        for p in 0..t.used {
            let ix = t.heap[p];
            assert_eq!(usize::from(t.e[usize::from(ix)].heap), p);
            if p > 0 {
                assert!(t.count_at((p - 1) / 2) <= t.count_at(p));
            }
        }
    }

    proptest! {
        // 300 on the host; PROPTEST_CASES (make cross-test: fewer, under qemu) wins
        #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300)))]
        #[test]
        fn guarantees_hold_on_small_tables(
            stream in proptest::collection::vec(
                prop_oneof![0u64..6, 0u64..40, 0u64..400], 0..3000)
        ) {
            check::<8, 16>(&stream);
            check::<16, 17>(&stream); // a nearly full index: long clusters
            check::<1, 2>(&stream);
        }
    }

    #[test]
    fn heavy_string_allocated_last_is_found_with_its_bound() {
        // 5000 distinct strings once each, then one string 300 times
        let mut stream: Vec<u64> = (1000..6000).collect();
        stream.extend(std::iter::repeat_n(7, 300));
        check::<64, 128>(&stream);
        let mut t: Box<TopK<64, 128>> = Box::default();
        for &id in &stream {
            t.add(id.wrapping_mul(0x9e37_79b9_7f4a_7c15), &id.to_le_bytes(), 8);
        }
        let best = t.best::<1>(1, |e| i64::from(e.count));
        let top = best[0];
        assert_eq!(top.head(), &7u64.to_le_bytes());
        assert!(top.count - top.error <= 300 && top.count >= 300);
        assert!(u64::from(top.error) <= 5300 / 64);
    }

    #[test]
    fn exact_second_pass() {
        let mut t: TopK<4, 8> = TopK::new();
        for h in [1u64, 2, 2, 3, 3, 3] {
            t.add(h << 20, b"x", 1);
        }
        for h in [3u64, 3, 9, 2] {
            t.count_exact(h << 20, 1);
        }
        let e: Vec<(u64, [u32; 2])> = t
            .entries()
            .iter()
            .map(|e| (e.hash >> 20, e.exact))
            .collect();
        assert!(e.contains(&(3, [0, 2])) && e.contains(&(2, [0, 1])) && e.contains(&(1, [0, 0])));
    }
}
