//! The engine's only platform-specific code.
use std::io;
use std::net::SocketAddr;

use socket2::Socket;

/// The poll is edge-triggered (epoll, kqueue): a socket read shorter than asked was emptied, and a new event comes
/// with more data, so the read that would only learn `WouldBlock` is saved. Windows' poll is not.
pub const SHORT_READ_DRAINS: bool = cfg!(not(windows));

/// Lets a server rebind its port while old connections linger in TIME_WAIT. Unix only: on Windows
/// SO_REUSEADDR would let another program take the port, and the rebind works without it.
pub fn reuse_listen_port(socket: &Socket) -> io::Result<()> {
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    #[cfg(not(unix))]
    let _ = socket;
    Ok(())
}

/// Lets several programs listen on one multicast port.
pub fn share_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_address(true)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))))]
    socket.set_reuse_port(true)?;
    Ok(())
}

/// Linux hands a socket bound to a port the datagrams of every group anyone on the machine joined on that
/// port; a session must see only the groups it joined itself (as on Windows).
pub fn only_own_groups(socket: &Socket, ipv6: bool) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        socket.set_multicast_all_v4(false)?;
        if ipv6 {
            socket.set_multicast_all_v6(false)?;
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (socket, ipv6);
    Ok(())
}

/// A non-blocking connect that has started and not finished yet.
pub fn connect_in_progress(error: &io::Error) -> bool {
    #[cfg(unix)]
    return error.raw_os_error() == Some(libc::EINPROGRESS);
    #[cfg(not(unix))]
    return error.kind() == io::ErrorKind::WouldBlock;
}

/// Windows reports an ICMP "port unreachable" for an earlier datagram as a reset on the next receive;
/// for an unconnected UDP socket that says nothing about this datagram, so it is skipped.
pub fn is_stale_udp_reset(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::ConnectionReset
}

/// A dual-stack (`[::]`) socket sees IPv4 peers as `::ffff:a.b.c.d`; users know them as `a.b.c.d`.
pub fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

/// The form of `addr` a socket bound to `local` can send to.
pub fn reachable_from(local: SocketAddr, addr: SocketAddr) -> SocketAddr {
    match (local, addr) {
        (SocketAddr::V6(_), SocketAddr::V4(v4)) => SocketAddr::new(v4.ip().to_ipv6_mapped().into(), v4.port()),
        _ => addr,
    }
}

/// Raises the soft limit on open files to the hard one, once per process: a server promising a thousand
/// clients must not run out at the common soft limit of 1024. Best effort; the old limit stays on failure.
#[cfg(unix)]
pub fn raise_fd_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) else {
            return;
        };
        // macOS reports an unlimited hard limit but refuses more than OPEN_MAX (10240).
        for wanted in [hard, hard.min(10240)] {
            if wanted <= soft || setrlimit(Resource::RLIMIT_NOFILE, wanted, hard).is_ok() {
                return;
            }
        }
    });
}

/// Windows has no per-process limit on sockets to raise.
#[cfg(not(unix))]
pub fn raise_fd_limit() {}

/// The soft limit on open files, to say before a load run that it cannot open as many connections as asked.
#[cfg(unix)]
pub fn fd_limit() -> Option<u64> {
    use nix::sys::resource::{Resource, getrlimit};
    getrlimit(Resource::RLIMIT_NOFILE).ok().map(|(soft, _)| soft)
}

/// Windows has no such limit to check.
#[cfg(not(unix))]
pub fn fd_limit() -> Option<u64> {
    None
}

/// The process or the system is out of file descriptors (or, on Windows, socket buffers).
pub fn out_of_files(error: &io::Error) -> bool {
    #[cfg(unix)]
    return matches!(error.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
    // WSAEMFILE, WSAENOBUFS.
    #[cfg(not(unix))]
    return matches!(error.raw_os_error(), Some(10024 | 10055));
}

/// Asks the kernel for a UDP receive buffer of `wanted` bytes, so bursts wait there instead of being dropped, and
/// returns what it granted. Linux caps `SO_RCVBUF` at `net.core.rmem_max`; `SO_RCVBUFFORCE` passes the cap where
/// we are allowed to (CAP_NET_ADMIN). Linux reports twice the size it grants (its bookkeeping): halved here.
pub fn grow_recv_buffer(socket: &Socket, wanted: usize) -> io::Result<usize> {
    let _ = socket.set_recv_buffer_size(wanted);
    #[cfg(target_os = "linux")]
    {
        if socket.recv_buffer_size()? / 2 < wanted {
            let _ = nix::sys::socket::setsockopt(socket, nix::sys::socket::sockopt::RcvBufForce, &wanted);
        }
        Ok(socket.recv_buffer_size()? / 2)
    }
    #[cfg(not(target_os = "linux"))]
    socket.recv_buffer_size()
}

/// The kernel's running count of datagrams it dropped on `socket` for want of buffer room, read from the socket
/// itself (Linux 4.12+: `SO_MEMINFO`), so the drops at the end of a burst count too, with no datagram after them to
/// carry the count. `None` where there is no per-socket count: Windows keeps only a system-wide one
/// (`GetUdpStatistics`' dwInErrors), macOS none.
#[cfg(target_os = "linux")]
pub fn udp_drops(socket: &mio::net::UdpSocket) -> Option<u32> {
    let info = nix::sys::socket::getsockopt(socket, MemInfo).ok()?;
    usize::try_from(libc::SK_MEMINFO_DROPS)
        .ok()
        .and_then(|at| info.get(at).copied())
}

#[cfg(not(target_os = "linux"))]
pub fn udp_drops(_socket: &mio::net::UdpSocket) -> Option<u32> {
    None
}

/// `SK_MEMINFO_VARS`: the counters `SO_MEMINFO` fills. Every kernel with the option fills exactly these 9 (it copies
/// the shorter of ours and its own, and it has had 9 since it had the option), which the getter nix generates
/// checks.
#[cfg(target_os = "linux")]
const MEMINFO_VARS: usize = 9;

#[cfg(target_os = "linux")]
use nix::{getsockopt_impl, sockopt_impl};

#[cfg(target_os = "linux")]
sockopt_impl!(
    /// The socket's memory counters, `SK_MEMINFO_DROPS` among them (no crate has this option yet).
    MemInfo,
    GetOnly,
    libc::SOL_SOCKET,
    libc::SO_MEMINFO,
    [u32; MEMINFO_VARS]
);

/// Sends `datagrams` on a connected UDP socket, as many as the kernel takes now, and says how many went (an error
/// only when the first did not). Linux: one `sendmmsg` for them all, one system call per batch instead of one per
/// datagram; elsewhere a `send` each.
#[cfg(target_os = "linux")]
pub fn send_datagrams(socket: &mio::net::UdpSocket, datagrams: &[&[u8]]) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let mut iovecs: Vec<libc::iovec> = datagrams
        .iter()
        .map(|datagram| libc::iovec {
            iov_base: datagram.as_ptr().cast_mut().cast(),
            iov_len: datagram.len(),
        })
        .collect();
    let mut headers: Vec<libc::mmsghdr> = iovecs
        .iter_mut()
        .map(|iovec| {
            // SAFETY: an all-zero msghdr is valid: no address, no control data, no iovecs yet.
            let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
            msg.msg_iov = iovec;
            msg.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: msg,
                msg_len: 0,
            }
        })
        .collect();
    let count = libc::c_uint::try_from(headers.len()).unwrap_or(libc::c_uint::MAX);
    // SAFETY: `count` headers, each pointing at one iovec that points at a slice alive for the call; the kernel
    // reads them and writes only each header's `msg_len`.
    let sent = unsafe { libc::sendmmsg(socket.as_raw_fd(), headers.as_mut_ptr(), count, libc::MSG_NOSIGNAL) };
    usize::try_from(sent).map_err(|_| io::Error::last_os_error())
}

#[cfg(not(target_os = "linux"))]
pub fn send_datagrams(socket: &mio::net::UdpSocket, datagrams: &[&[u8]]) -> io::Result<usize> {
    let mut sent = 0;
    for datagram in datagrams {
        match socket.send(datagram) {
            Ok(_) => sent += 1,
            Err(error) if sent == 0 => return Err(error),
            Err(_) => break,
        }
    }
    Ok(sent)
}

/// Wakes the poll at a precise moment. epoll counts its timeout in whole milliseconds, rounded up, so a periodic
/// send 1 ms apart would be up to 1 ms late every time; a timerfd in the poll is good to microseconds. Elsewhere
/// (Windows: its timers tick in ~1–16 ms steps anyway) there is none and the poll's own timeout serves.
#[cfg(target_os = "linux")]
pub struct FineTimer {
    timer: nix::sys::timerfd::TimerFd,
}

#[cfg(target_os = "linux")]
impl FineTimer {
    pub fn new(registry: &mio::Registry, token: mio::Token) -> Option<FineTimer> {
        use nix::sys::timerfd::{ClockId, TimerFd, TimerFlags};
        use std::os::fd::{AsFd, AsRawFd};
        let flags = TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC;
        let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, flags).ok()?;
        registry
            .register(
                &mut mio::unix::SourceFd(&timer.as_fd().as_raw_fd()),
                token,
                mio::Interest::READABLE,
            )
            .ok()?;
        Some(FineTimer { timer })
    }

    /// Wakes the poll `after` from now, replacing any earlier setting.
    pub fn set(&self, after: std::time::Duration) {
        use nix::sys::timerfd::{Expiration, TimerSetTimeFlags};
        // An expiry already signalled is consumed, so the next one is a new edge for the poll; a timer with nothing
        // to report fails with EAGAIN (it is non-blocking).
        let _ = self.timer.wait();
        // A zero value would disarm the timer: the shortest real wait instead. One past what time_t holds would
        // wrap to a negative, refused time: 68 years is as good as never.
        let after = after.clamp(
            std::time::Duration::from_nanos(1),
            std::time::Duration::from_secs(i32::MAX as u64),
        );
        let at = Expiration::OneShot(after.into());
        let _ = self.timer.set(at, TimerSetTimeFlags::empty());
    }
}

#[cfg(not(target_os = "linux"))]
pub struct FineTimer;

#[cfg(not(target_os = "linux"))]
impl FineTimer {
    pub fn new(_registry: &mio::Registry, _token: mio::Token) -> Option<FineTimer> {
        None
    }

    pub fn set(&self, _after: std::time::Duration) {}
}
