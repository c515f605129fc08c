//! The engine's only platform-specific code.
use std::io;
use std::net::SocketAddr;

use socket2::Socket;

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
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `limit` is a valid, writable rlimit.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 || limit.rlim_cur >= limit.rlim_max {
            return;
        }
        // macOS reports an unlimited hard limit but refuses more than OPEN_MAX (10240).
        for wanted in [limit.rlim_max, limit.rlim_max.min(10240)] {
            if wanted <= limit.rlim_cur {
                return;
            }
            let raised = libc::rlimit {
                rlim_cur: wanted,
                rlim_max: limit.rlim_max,
            };
            // SAFETY: `raised` is a valid rlimit that outlives the call.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                return;
            }
        }
    });
}

/// Windows has no per-process limit on sockets to raise.
#[cfg(not(unix))]
pub fn raise_fd_limit() {}

/// Asks the kernel for a UDP receive buffer of `wanted` bytes, so bursts wait there instead of being dropped, and
/// returns what it granted. Linux caps `SO_RCVBUF` at `net.core.rmem_max`; `SO_RCVBUFFORCE` passes the cap where
/// we are allowed to (CAP_NET_ADMIN). Linux reports twice the size it grants (its bookkeeping): halved here.
pub fn grow_recv_buffer(socket: &Socket, wanted: usize) -> io::Result<usize> {
    let _ = socket.set_recv_buffer_size(wanted);
    #[cfg(target_os = "linux")]
    {
        if socket.recv_buffer_size()? / 2 < wanted {
            let _ = set_int_option(
                socket,
                libc::SO_RCVBUFFORCE,
                wanted.try_into().unwrap_or(libc::c_int::MAX),
            );
        }
        Ok(socket.recv_buffer_size()? / 2)
    }
    #[cfg(not(target_os = "linux"))]
    socket.recv_buffer_size()
}

#[cfg(target_os = "linux")]
fn set_int_option(socket: &Socket, option: libc::c_int, value: libc::c_int) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid descriptor, and a c_int value of the size given, alive for the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Asks the kernel to tell us how many datagrams it dropped for want of buffer room. Linux: `SO_RXQ_OVFL`
/// attaches its running count to each datagram received. Windows and macOS have no per-socket count (Windows only
/// keeps a system-wide one, `GetUdpStatistics`' dwInErrors), so there the count stays 0. Best effort.
pub fn count_udp_drops(socket: &Socket) {
    #[cfg(target_os = "linux")]
    let _ = set_int_option(socket, libc::SO_RXQ_OVFL, 1);
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
}

/// `recv_from`, plus the kernel's count of datagrams this socket dropped so far, where the datagram carries one
/// (Linux with `count_udp_drops`: only once the count is above 0).
#[cfg(target_os = "linux")]
pub fn recv_from_counting(
    socket: &mio::net::UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<u32>)> {
    use std::mem::{size_of, size_of_val, zeroed};
    use std::os::fd::AsRawFd;
    // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
    let mut name: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one u32 control message, aligned for cmsghdr.
    let mut control = [0u64; 8];
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of_val(&control) as _;
    // SAFETY: every pointer in `msg` points to a live buffer of the length given with it.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut dropped = None;
    // SAFETY: the kernel filled `msg_controllen` bytes of `control` with well-formed control messages; the CMSG
    // macros stay inside them, and the data of an SO_RXQ_OVFL message is one u32.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SO_RXQ_OVFL {
                dropped = Some(std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<u32>()));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok((n as usize, socket_addr(&name)?, dropped))
}

#[cfg(not(target_os = "linux"))]
pub fn recv_from_counting(
    socket: &mio::net::UdpSocket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddr, Option<u32>)> {
    let (n, from) = socket.recv_from(buf)?;
    Ok((n, from, None))
}

#[cfg(target_os = "linux")]
fn socket_addr(name: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match libc::c_int::from(name.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it is large and aligned enough for.
            let v4 = unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Ok(SocketAddrV4::new(ip, u16::from_be(v4.sin_port)).into())
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let v6 = unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Ok(SocketAddrV6::new(ip, u16::from_be(v6.sin6_port), v6.sin6_flowinfo, v6.sin6_scope_id).into())
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "datagram from an unknown address family",
        )),
    }
}

/// Wakes the poll at a precise moment. epoll counts its timeout in whole milliseconds, rounded up, so a periodic
/// send 1 ms apart would be up to 1 ms late every time; a timerfd in the poll is good to microseconds. Elsewhere
/// (Windows: its timers tick in ~1–16 ms steps anyway) there is none and the poll's own timeout serves.
#[cfg(target_os = "linux")]
pub struct FineTimer {
    fd: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl FineTimer {
    pub fn new(registry: &mio::Registry, token: mio::Token) -> Option<FineTimer> {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: plain system call; the descriptor it returns is owned here from now on.
        let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if fd < 0 {
            return None;
        }
        // SAFETY: `fd` is a new descriptor nobody else owns.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        registry
            .register(
                &mut mio::unix::SourceFd(&fd.as_raw_fd()),
                token,
                mio::Interest::READABLE,
            )
            .ok()?;
        Some(FineTimer { fd })
    }

    /// Wakes the poll `after` from now, replacing any earlier setting.
    pub fn set(&self, after: std::time::Duration) {
        use std::os::fd::AsRawFd;
        let fd = self.fd.as_raw_fd();
        // An expiry already signalled is consumed, so the next one is a new edge for the poll.
        let mut expiries = 0u64;
        // SAFETY: reads at most 8 bytes into a u64; a timerfd with nothing to report fails with EAGAIN.
        let _ = unsafe { libc::read(fd, (&mut expiries as *mut u64).cast(), 8) };
        // A zero value would disarm the timer: the shortest real wait instead.
        let after = after.max(std::time::Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: after.as_secs().try_into().unwrap_or(libc::time_t::MAX),
                tv_nsec: after.subsec_nanos().into(),
            },
        };
        // SAFETY: `spec` is a valid itimerspec; the old value is not asked for.
        let _ = unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) };
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
