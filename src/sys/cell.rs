//! A static table handed out once: `memdog report`'s tables live in .bss,
//! so only the pages a report uses become resident (a stack frame of their
//! full capacity would be touched whole by the stack probes).

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicBool, Ordering};

pub struct Once<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: `take` hands out the only reference, once, guarded by the flag.
unsafe impl<T: Send> Sync for Once<T> {}

impl<T> Once<T> {
    pub const fn new(value: T) -> Once<T> {
        Once {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, the first time only; `None` afterwards.
    #[allow(clippy::mut_from_ref)] // one reference ever: the flag guards it
    pub fn take(&'static self) -> Option<&'static mut T> {
        // load then store, not swap: ARMv5 has no atomic swap (it would
        // take the kernel's cmpxchg helper), and memdog has one thread
        if self.taken.load(Ordering::Relaxed) {
            return None;
        }
        self.taken.store(true, Ordering::Relaxed);
        // SAFETY: the flag was false, so no other reference exists, and none
        // will be made: the flag stays true for the life of the program.
        Some(unsafe { &mut *self.value.get() })
    }
}

/// Types whose all-zero bytes are a valid value.
///
/// # Safety
/// Every field must be valid as zero bytes: integers, bools (false),
/// heapless vectors (length 0), `Option` of a type without a niche or of a
/// reference (None), arrays of such.
pub unsafe trait ZeroValid {}

// SAFETY: Runtime holds integers, bools, heapless Vecs, Options of Fd and
// PathBuf (no niche: None is a zero tag), Option<u64>s, and
// the metrics Slot (empty, or an Option<Metrics> whose first field is a
// `&'static mut`: None is null):
// all valid as zero bytes, each one "empty".
unsafe impl ZeroValid for crate::daemon::Runtime {}

// SAFETY: Config holds integers, a bool (false), heapless Vecs and Strs
// (length 0), Option<Str> and Option<u32> (no niche: None is a zero tag),
// Fields (a u32 bit set) and Vecs of Targets, keys and exec lines (length
// 0, so no Target, Rule or Action value is read): all valid as zero bytes,
// an empty config that `Config::reset` then fills with the defaults.
unsafe impl ZeroValid for crate::config::Config {}

// SAFETY: a heapless Vec of lives (length 0: no Tracked is read) and a byte
// buffer.
unsafe impl ZeroValid for crate::watch::Tables {}

/// A static handed out once, zero-initialised: in .bss, so neither the
/// binary nor the RSS pays for the pages it does not use (a `const`
/// initializer with padding or `MaybeUninit` parts lands in .data, whole).
pub struct Zeroed<T> {
    taken: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: `take` hands out the only reference, once, guarded by the flag.
unsafe impl<T: Send> Sync for Zeroed<T> {}

impl<T: ZeroValid> Zeroed<T> {
    pub const fn new() -> Zeroed<T> {
        Zeroed {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::zeroed()),
        }
    }

    /// The value (all zero: empty), the first time only; `None` afterwards.
    #[allow(clippy::mut_from_ref)] // one reference ever: the flag guards it
    pub fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.load(Ordering::Relaxed) {
            return None;
        }
        self.taken.store(true, Ordering::Relaxed);
        // SAFETY: zero bytes are a valid T (ZeroValid), and this is the
        // only reference ever made (the flag stays true)
        Some(unsafe { (*self.value.get()).assume_init_mut() })
    }
}

impl<T: ZeroValid> Default for Zeroed<T> {
    fn default() -> Self {
        Self::new()
    }
}
