//! NUL-terminated paths built in a stack buffer, e.g. `/proc/1234/status`.

/// PATH_MAX would be 4096; memdog builds proc paths and config-given file
/// paths, and a 256-byte limit keeps every path on the stack small. Longer
/// paths are refused with ENAMETOOLONG rather than truncated.
pub const PATH_CAP: usize = 256;

#[derive(Clone)]
pub struct PathBuf {
    buf: [u8; PATH_CAP],
    len: usize,
    overflow: bool,
}

impl Default for PathBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl PathBuf {
    pub const fn new() -> PathBuf {
        PathBuf {
            buf: [0; PATH_CAP],
            len: 0,
            overflow: false,
        }
    }

    pub fn from(s: &[u8]) -> PathBuf {
        let mut p = PathBuf::new();
        p.push(s);
        p
    }

    /// Append bytes; a path that does not fit is marked and opens as ENAMETOOLONG.
    pub fn push(&mut self, s: &[u8]) -> &mut Self {
        // keep one byte for the NUL; an embedded NUL would silently cut the path
        // a NUL inside: a plain loop, as slice::contains is a 128-byte memchr
        if !s.iter().all(|&b| b != 0) || self.len + s.len() >= PATH_CAP {
            self.overflow = true;
            return self;
        }
        self.buf[self.len..self.len + s.len()].copy_from_slice(s);
        self.len += s.len();
        self.buf[self.len] = 0;
        self
    }

    pub fn push_u32(&mut self, mut v: u32) -> &mut Self {
        let mut tmp = [0u8; 10];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&tmp[i..])
    }

    /// `<root>/<pid>/<file>`
    pub fn proc_file(root: &[u8], pid: u32, file: &[u8]) -> PathBuf {
        let mut p = PathBuf::from(root);
        p.push(b"/").push_u32(pid).push(b"/").push(file);
        p
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_valid(&self) -> bool {
        !self.overflow && self.len > 0
    }

    pub(crate) fn as_cstr_ptr(&self) -> *const core::ffi::c_char {
        self.buf.as_ptr().cast()
    }
}
