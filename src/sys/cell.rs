//! A static table handed out once: `memdog report`'s tables live in .bss,
//! so only the pages a report uses become resident (a stack frame of their
//! full capacity would be touched whole by the stack probes).

use core::cell::UnsafeCell;
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
