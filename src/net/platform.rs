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

/// Hands memory freed by a large drop (a cleared view, a smaller buffer) back to the system. glibc keeps freed
/// heap memory in its arenas for reuse, so without this RSS after "clear" stays at the flood's peak.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and trims the allocator's own free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}
