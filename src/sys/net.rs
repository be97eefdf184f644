//! TCP for the `/metrics` endpoint: a non-blocking listening socket,
//! accept, reads and writes that never block, and ppoll(2) with a timeout.
//! Every socket is SOCK_NONBLOCK and close-on-exec; writes never raise
//! SIGPIPE (MSG_NOSIGNAL).

use super::raw::{check, nr, sc4, sc6};
use super::{Errno, Fd};

/// A numeric listen address: IPv4 or IPv6 bytes in network order, and a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    V4([u8; 4], u16),
    V6([u8; 16], u16),
}

fn sys(n: usize, a: usize, b: usize, c: usize, d: usize, e: usize) -> Result<usize, Errno> {
    check(unsafe { sc6(n, a, b, c, d, e, 0) })
}

/// A bound, listening TCP socket (SO_REUSEADDR: a restarted memdog gets its
/// port back while old connections sit in TIME_WAIT).
pub fn listen(addr: &Addr, backlog: u32) -> Result<Fd, Errno> {
    let family = match addr {
        Addr::V4(..) => libc::AF_INET,
        Addr::V6(..) => libc::AF_INET6,
    };
    let ty = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    let fd = Fd(sys(nr!(SYS_socket), family as usize, ty as usize, 0, 0, 0)? as i32);
    let one: i32 = 1;
    sys(
        nr!(SYS_setsockopt),
        fd.0 as usize,
        libc::SOL_SOCKET as usize,
        libc::SO_REUSEADDR as usize,
        &one as *const i32 as usize,
        core::mem::size_of::<i32>(),
    )?;
    match *addr {
        Addr::V4(ip, port) => {
            let mut sa: libc::sockaddr_in = unsafe { core::mem::zeroed() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_port = port.to_be();
            sa.sin_addr.s_addr = u32::from_ne_bytes(ip);
            bind(&fd, &sa)?;
        }
        Addr::V6(ip, port) => {
            let mut sa: libc::sockaddr_in6 = unsafe { core::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_port = port.to_be();
            sa.sin6_addr.s6_addr = ip;
            bind(&fd, &sa)?;
        }
    }
    sys(nr!(SYS_listen), fd.0 as usize, backlog as usize, 0, 0, 0)?;
    Ok(fd)
}

fn bind<A>(fd: &Fd, sa: &A) -> Result<(), Errno> {
    let (p, len) = (sa as *const A as usize, core::mem::size_of::<A>());
    sys(nr!(SYS_bind), fd.0 as usize, p, len, 0, 0).map(drop)
}

/// The next waiting connection, non-blocking; EAGAIN when there is none.
pub fn accept(listener: &Fd) -> Result<Fd, Errno> {
    let flags = (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) as usize;
    let fd = sys(nr!(SYS_accept4), listener.0 as usize, 0, 0, flags, 0)?;
    Ok(Fd(fd as i32))
}

/// What the peer sent, without waiting (0: it closed its side).
pub fn recv(fd: &Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    let (p, len) = (buf.as_mut_ptr() as usize, buf.len());
    check(unsafe { sc4(nr!(SYS_read), fd.0 as usize, p, len, 0) })
}

/// As much of `data` as the socket takes now; EAGAIN when its buffer is full.
pub fn send(fd: &Fd, data: &[u8]) -> Result<usize, Errno> {
    let flags = (libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL) as usize;
    let (p, len) = (data.as_ptr() as usize, data.len());
    sys(nr!(SYS_sendto), fd.0 as usize, p, len, flags, 0)
}

/// One descriptor to watch: `fd` (negative: skipped), POLLIN/POLLOUT wanted.
pub type PollFd = libc::pollfd;
pub const POLLIN: i16 = libc::POLLIN;
pub const POLLOUT: i16 = libc::POLLOUT;
/// Error, hang-up or invalid: the connection is over.
pub const POLLEND: i16 = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;

pub fn poll_fd(fd: Option<&Fd>, events: i16) -> PollFd {
    PollFd {
        fd: fd.map_or(-1, |f| f.0),
        events,
        revents: 0,
    }
}

#[cfg(target_arch = "arm")]
const SYS_PPOLL_TIME64: usize = 414;
#[cfg(target_arch = "mips")]
const SYS_PPOLL_TIME64: usize = 4000 + 414;

/// Wait up to `timeout_ns` for an event on `fds`; Ok(0) on timeout, EINTR
/// when a signal came (the caller looks at its flags). 32-bit targets use
/// the 64-bit time call (Linux 5.1+, where the old one may be configured
/// out) and fall back to the old one.
pub fn poll(fds: &mut [PollFd], timeout_ns: u64) -> Result<usize, Errno> {
    let ts = [
        (timeout_ns / 1_000_000_000) as i64,
        (timeout_ns % 1_000_000_000) as i64,
    ];
    let (p, n) = (fds.as_mut_ptr() as usize, fds.len());
    #[cfg(target_pointer_width = "32")]
    {
        match sys(SYS_PPOLL_TIME64, p, n, ts.as_ptr() as usize, 0, 0) {
            Err(e) if e.0 == libc::ENOSYS => {}
            other => return other,
        }
        let t32 = [ts[0] as i32, ts[1] as i32];
        sys(nr!(SYS_ppoll), p, n, t32.as_ptr() as usize, 0, 0)
    }
    #[cfg(target_pointer_width = "64")]
    sys(nr!(SYS_ppoll), p, n, ts.as_ptr() as usize, 0, 0)
}
