//! What a kind of session does (`Caps`), and the settings fields kinds are made from (`Parts`): what each kind's
//! folder fills in and the registry (`kind.rs`) hands to the front ends.
use std::net::SocketAddr;

use super::Group;
use crate::codec::pcapng::Carrier;

/// Whether a kind talks to a remote the user names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteUse {
    /// It has none (a server: its peers come to it).
    None,
    /// It cannot start without one (a client).
    Required,
    /// It may have one to send to by default (UDP).
    Optional,
}

/// How a send/expect script meets the session's peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptScope {
    /// A run per client that joins (TCP server).
    EachClient,
    /// One run, on the connection (now, or the next one made: TCP client).
    Once,
    /// One run, sending to the default remote and fed by every peer (UDP).
    Socket,
}

/// What a kind does, as the front ends ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Its command-line subcommand, also in thread names.
    pub name: &'static str,
    /// Its name in the window, Chinese and English.
    pub label: (&'static str, &'static str),
    /// Data comes from several peers at once: the view filters and colours by peer.
    pub many_peers: bool,
    /// Its peers are connections it accepted: a client list, a send target among them, kick.
    pub accepts: bool,
    /// What its peer is called in messages ("client 1.2.3.4:5 left").
    pub peer_noun: &'static str,
    pub remote: RemoteUse,
    /// The local port may stay 0 (any): a TCP client binds one only when the user sets it, as NetAssist does.
    pub local_port_optional: bool,
    /// The local port a new tab starts with.
    pub default_local_port: &'static str,
    /// It reconnects by itself when asked to.
    pub reconnects: bool,
    /// It can send to whoever sent last (NetAssist's "UDP目的IP/端口随对方变化").
    pub follows_peer: bool,
    /// It can broadcast and join multicast groups.
    pub multicast: bool,
    /// Each send is one datagram, so a send has a size limit.
    pub datagrams: bool,
    /// It can speak TLS.
    pub tls: bool,
    pub script_scope: ScriptScope,
    /// It passes messages on, so its rules may have a `direction` and rewrite, drop or delay (a relay).
    pub forwards: bool,
    /// What its packets carry in a pcap.
    pub carrier: Carrier,
    /// The first stderr line once ready, before the address (`None`: it says `connected to` when it connects).
    pub ready_line: Option<&'static str>,
}

impl Caps {
    /// It passes connections on to an upstream it can speak TLS to as well (a relay's second leg): `Parts::tls`
    /// is then its listen leg's.
    pub fn tls_upstream(&self) -> bool {
        self.tls && self.forwards
    }
}

/// The fields every kind's settings are made of; each kind takes the ones it uses (`Mode::from_parts`) and gives
/// back its own (`Mode::parts`), so the window's fields and the command line's arguments need no per-kind code.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parts {
    /// The local address: listened on, bound, or (a client's) bound when set.
    pub local: Option<SocketAddr>,
    /// `host:port`.
    pub remote: Option<String>,
    pub max_clients: Option<usize>,
    pub reconnect: bool,
    pub follow_peer: bool,
    pub broadcast: bool,
    pub groups: Vec<Group>,
    /// TLS options, taken by the kinds whose `Caps::tls` is true.
    pub tls: Option<super::tls::TlsSpec>,
    /// TLS towards the upstream, taken by the kinds that pass connections on (`Caps::tls_upstream`).
    pub tls_upstream: Option<super::tls::TlsSpec>,
}
