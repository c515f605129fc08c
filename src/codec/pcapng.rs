//! A session as packets Wireshark reads: pcapng with synthesized Ethernet, IPv4/IPv6 and TCP/UDP headers around the
//! real payloads, between the real addresses and ports. TCP gets a three-way handshake when a peer joins,
//! sequence and acknowledgement numbers that add up in both directions, and FIN (or RST) when it leaves, so
//! Wireshark's "Follow TCP stream" gives back exactly the bytes that went each way. Headers come from etherparse
//! (lengths and checksums), the file format from pcap-file.
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use etherparse::{EtherType, Ethernet2Header, IpNumber, Ipv4Header, Ipv6FlowLabel, Ipv6Header, TcpHeader, UdpHeader};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::{DataLink, Endianness};

/// Payload bytes per synthesized TCP segment: the most an IPv4 packet holds (65,535 less 20 for IPv4 and 20 for
/// TCP; IPv6 would hold 20 more). The fewer packets a flood takes, the less a live pcap costs.
pub const SEGMENT: usize = 65_495;
/// A UDP payload of more than this does not fit an IPv4 datagram; it is cut short (the record says so).
const MAX_UDP: usize = 65_507;
/// The window every synthesized segment advertises.
const WINDOW: u16 = 65_535;
const MAC_LOCAL: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const MAC_PEER: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// pcapng's block type for an Enhanced Packet Block, and the bytes of one besides the packet and its padding.
const ENHANCED_PACKET: u32 = 6;
const EPB_FRAMING: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
/// What the packets carry: the transport protocol of the headers synthesized around each payload.
pub enum Carrier {
    Tcp,
    Udp,
}

/// Which way bytes went, seen from this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// From the peer to us.
    In,
    /// From us to the peer.
    Out,
}

impl Way {
    fn back(self) -> Way {
        match self {
            Way::In => Way::Out,
            Way::Out => Way::In,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("cannot write the pcap: {0}")]
    Write(#[from] pcap_file::PcapError),
    #[error("cannot write the pcap: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot build a packet between {local} and {peer}: {reason}")]
    Packet {
        local: SocketAddr,
        peer: SocketAddr,
        reason: String,
    },
}

/// A TCP connection's next sequence numbers, each way.
#[derive(Debug, Clone, Copy)]
struct Flow {
    local_seq: u32,
    peer_seq: u32,
}

impl Flow {
    /// Made from the addresses, so the same connection gets the same numbers in every export of it.
    fn initial(local: SocketAddr, peer: SocketAddr) -> Flow {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (local, peer).hash(&mut hasher);
        let hash = hasher.finish();
        Flow {
            local_seq: hash as u32,
            peer_seq: (hash >> 32) as u32,
        }
    }

    /// The sequence number of the next byte going `way`, and the acknowledgement it carries.
    fn numbers(&self, way: Way) -> (u32, u32) {
        match way {
            Way::Out => (self.local_seq, self.peer_seq),
            Way::In => (self.peer_seq, self.local_seq),
        }
    }

    /// `len` sequence numbers used going `way` (a payload's bytes, or 1 for SYN and FIN).
    fn advance(&mut self, way: Way, len: u32) {
        let seq = match way {
            Way::Out => &mut self.local_seq,
            Way::In => &mut self.peer_seq,
        };
        *seq = seq.wrapping_add(len);
    }
}

pub struct PcapSynth<W: Write> {
    writer: PcapNgWriter<W>,
    carrier: Carrier,
    flows: HashMap<(SocketAddr, SocketAddr), Flow>,
    packet: Vec<u8>,
}

impl<W: Write> PcapSynth<W> {
    /// Starts the file: its section header and the one (Ethernet, nanosecond) interface.
    pub fn new(out: W, carrier: Carrier) -> Result<PcapSynth<W>, PcapError> {
        // Little-endian whatever the machine: `emit` writes its blocks so.
        let mut writer = PcapNgWriter::with_endianness(out, Endianness::Little)?;
        writer.write_pcapng_block(InterfaceDescriptionBlock {
            linktype: DataLink::ETHERNET,
            snaplen: 0,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        })?;
        Ok(PcapSynth {
            writer,
            carrier,
            flows: HashMap::new(),
            packet: Vec::new(),
        })
    }

    /// A TCP peer connected: SYN, SYN-ACK, ACK, from whoever opened it (`opened_by` `In`: the peer, to a server).
    pub fn joined(
        &mut self,
        at: SystemTime,
        local: SocketAddr,
        peer: SocketAddr,
        opened_by: Way,
    ) -> Result<(), PcapError> {
        if self.carrier != Carrier::Tcp {
            return Ok(());
        }
        let mut flow = Flow::initial(local, peer);
        let (opener, other) = (opened_by, opened_by.back());
        let (syn, _) = flow.numbers(opener);
        self.segment(at, local, peer, opener, syn, None, Flags::Syn, &[])?;
        flow.advance(opener, 1);
        let (syn_ack, ack) = flow.numbers(other);
        self.segment(at, local, peer, other, syn_ack, Some(ack), Flags::Syn, &[])?;
        flow.advance(other, 1);
        let (seq, ack) = flow.numbers(opener);
        self.segment(at, local, peer, opener, seq, Some(ack), Flags::None, &[])?;
        self.flows.insert((local, peer), flow);
        Ok(())
    }

    /// Bytes that went between us and a peer: TCP segments of at most [`SEGMENT`] bytes, or one UDP datagram.
    pub fn data(
        &mut self,
        at: SystemTime,
        local: SocketAddr,
        peer: SocketAddr,
        way: Way,
        bytes: &[u8],
    ) -> Result<(), PcapError> {
        if self.carrier == Carrier::Udp {
            let payload = &bytes[..bytes.len().min(MAX_UDP)];
            return self.datagram(at, local, peer, way, payload);
        }
        // A connection that started before the capture did: its handshake is made up now, from the side that
        // sends first.
        if !self.flows.contains_key(&(local, peer)) {
            self.joined(at, local, peer, way)?;
        }
        for piece in bytes.chunks(SEGMENT) {
            let Some(flow) = self.flows.get_mut(&(local, peer)) else {
                break;
            };
            let (seq, ack) = flow.numbers(way);
            flow.advance(way, piece.len() as u32);
            self.segment(at, local, peer, way, seq, Some(ack), Flags::Psh, piece)?;
        }
        Ok(())
    }

    /// A TCP peer left: FIN-ACK each way and the last ACK (closed by `way`), or one RST when it was reset.
    pub fn left(
        &mut self,
        at: SystemTime,
        local: SocketAddr,
        peer: SocketAddr,
        closed_by: Way,
        reset: bool,
    ) -> Result<(), PcapError> {
        let Some(mut flow) = self.flows.remove(&(local, peer)) else {
            return Ok(());
        };
        let (seq, ack) = flow.numbers(closed_by);
        if reset {
            return self.segment(at, local, peer, closed_by, seq, Some(ack), Flags::Rst, &[]);
        }
        self.segment(at, local, peer, closed_by, seq, Some(ack), Flags::Fin, &[])?;
        flow.advance(closed_by, 1);
        let other = closed_by.back();
        let (seq, ack) = flow.numbers(other);
        self.segment(at, local, peer, other, seq, Some(ack), Flags::Fin, &[])?;
        flow.advance(other, 1);
        let (seq, ack) = flow.numbers(closed_by);
        self.segment(at, local, peer, closed_by, seq, Some(ack), Flags::None, &[])
    }

    /// TLS secrets as NSS key log lines, in a Decryption Secrets Block: Wireshark decrypts the TLS records after it
    /// with nothing else (pcapng: block type 0x0A, secrets type "TLSK"; pcap-file writes no such block).
    pub fn secrets(&mut self, key_log: &[u8]) -> std::io::Result<()> {
        const BLOCK_TYPE: u32 = 0x0000_000A;
        const TLS_KEY_LOG: u32 = 0x544C_534B;
        let padded = key_log.len().next_multiple_of(4);
        let total = u32::try_from(20 + padded).map_err(|_| std::io::Error::other("key log too long for a block"))?;
        let len = u32::try_from(key_log.len()).map_err(|_| std::io::Error::other("key log too long"))?;
        let out = self.writer.get_mut();
        for word in [BLOCK_TYPE, total, TLS_KEY_LOG, len] {
            out.write_all(&word.to_le_bytes())?;
        }
        out.write_all(key_log)?;
        out.write_all(&[0; 3][..padded - key_log.len()])?;
        out.write_all(&total.to_le_bytes())
    }

    /// Hands what is buffered on to the file (a live capture does so whenever it is idle, so the file is current).
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.writer.get_mut().flush()
    }

    /// Every connection still open gets its FIN exchange (the capture ends, not the connections).
    pub fn finish(mut self, at: SystemTime) -> Result<W, PcapError> {
        let mut open: Vec<(SocketAddr, SocketAddr)> = self.flows.keys().copied().collect();
        open.sort_unstable();
        for (local, peer) in open {
            self.left(at, local, peer, Way::Out, false)?;
        }
        Ok(self.writer.into_inner())
    }

    fn datagram(
        &mut self,
        at: SystemTime,
        local: SocketAddr,
        peer: SocketAddr,
        way: Way,
        payload: &[u8],
    ) -> Result<(), PcapError> {
        let (from, to) = ends(local, peer, way);
        self.packet.clear();
        headers(&mut self.packet, from, to, way, None, payload).map_err(|error| packet_error(local, peer, error))?;
        self.emit(at, payload)
    }

    #[allow(clippy::too_many_arguments)]
    fn segment(
        &mut self,
        at: SystemTime,
        local: SocketAddr,
        peer: SocketAddr,
        way: Way,
        seq: u32,
        ack: Option<u32>,
        flags: Flags,
        payload: &[u8],
    ) -> Result<(), PcapError> {
        let (from, to) = ends(local, peer, way);
        let mut tcp = TcpHeader::new(from.port(), to.port(), seq, WINDOW);
        if let Some(ack) = ack {
            tcp.ack = true;
            tcp.acknowledgment_number = ack;
        }
        match flags {
            Flags::None => {}
            Flags::Syn => tcp.syn = true,
            Flags::Psh => tcp.psh = true,
            Flags::Fin => tcp.fin = true,
            Flags::Rst => tcp.rst = true,
        }
        self.packet.clear();
        headers(&mut self.packet, from, to, way, Some(tcp), payload)
            .map_err(|error| packet_error(local, peer, error))?;
        self.emit(at, payload)
    }

    /// One Enhanced Packet Block: the headers made in `packet`, then `payload` from where it is. pcap-file writes
    /// a block from one slice, which would cost a copy of every byte a live capture sees (and a buffered writer
    /// passes a big payload straight on); the block around it is seven numbers, in the section's byte order.
    fn emit(&mut self, at: SystemTime, payload: &[u8]) -> Result<(), PcapError> {
        let nanos = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_nanos();
        let nanos = u64::try_from(nanos).unwrap_or(u64::MAX);
        let len = self.packet.len() + payload.len();
        let pad = (4 - len % 4) % 4;
        // Headers and a payload that fits one IP packet: far below what the fields can say.
        let (captured, total) = (len as u32, (EPB_FRAMING + len + pad) as u32);
        let mut head = [0; 28];
        let fields = [
            ENHANCED_PACKET,
            total,
            0,
            (nanos >> 32) as u32,
            nanos as u32,
            captured,
            captured,
        ];
        for (slot, field) in head.chunks_exact_mut(4).zip(fields) {
            slot.copy_from_slice(&field.to_le_bytes());
        }
        let out = self.writer.get_mut();
        out.write_all(&head)?;
        out.write_all(&self.packet)?;
        out.write_all(payload)?;
        out.write_all(&[0; 3][..pad])?;
        out.write_all(&total.to_le_bytes())?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Flags {
    None,
    Syn,
    Psh,
    Fin,
    Rst,
}

/// Source and destination for bytes going `way`; a v4 address beside a v6 one becomes v4-mapped, so both ends of a
/// packet are of one family.
fn ends(local: SocketAddr, peer: SocketAddr, way: Way) -> (SocketAddr, SocketAddr) {
    let (local, peer) = match (local.ip(), peer.ip()) {
        (IpAddr::V4(v4), IpAddr::V6(_)) => (SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), local.port()), peer),
        (IpAddr::V6(_), IpAddr::V4(v4)) => (local, SocketAddr::new(IpAddr::V6(v4.to_ipv6_mapped()), peer.port())),
        _ => (local, peer),
    };
    match way {
        Way::Out => (local, peer),
        Way::In => (peer, local),
    }
}

/// The Ethernet, IP and TCP (`tcp`, its checksum filled in here) or UDP headers of a packet carrying `payload`
/// from `from` to `to` (of one family, as `ends` makes them), with their lengths and checksums.
fn headers(
    out: &mut Vec<u8>,
    from: SocketAddr,
    to: SocketAddr,
    way: Way,
    tcp: Option<TcpHeader>,
    payload: &[u8],
) -> Result<(), String> {
    let (source, destination) = match way {
        Way::Out => (MAC_LOCAL, MAC_PEER),
        Way::In => (MAC_PEER, MAC_LOCAL),
    };
    let (number, transport_len) = match &tcp {
        Some(tcp) => (IpNumber::TCP, tcp.header_len()),
        None => (IpNumber::UDP, UdpHeader::LEN),
    };
    let ip_payload = u16::try_from(transport_len + payload.len()).map_err(|_| "more than one IP packet holds")?;
    let text = |error: etherparse::err::ValueTooBigError<usize>| error.to_string();
    match (from.ip(), to.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            out.extend_from_slice(&ethernet(source, destination, EtherType::IPV4));
            let mut ip = Ipv4Header::new(ip_payload, 64, number, a.octets(), b.octets()).map_err(|e| e.to_string())?;
            ip.header_checksum = ip.calc_header_checksum();
            out.extend_from_slice(&ip.to_bytes());
            match tcp {
                Some(mut tcp) => {
                    tcp.checksum = tcp_checksum(&a.octets(), &b.octets(), &tcp, payload);
                    out.extend_from_slice(&tcp.to_bytes());
                }
                None => {
                    let udp = UdpHeader::with_ipv4_checksum(from.port(), to.port(), &ip, payload).map_err(text)?;
                    out.extend_from_slice(&udp.to_bytes());
                }
            }
        }
        (a, b) => {
            out.extend_from_slice(&ethernet(source, destination, EtherType::IPV6));
            let ip = Ipv6Header {
                traffic_class: 0,
                flow_label: Ipv6FlowLabel::ZERO,
                payload_length: ip_payload,
                next_header: number,
                hop_limit: 64,
                source: v6_octets(a),
                destination: v6_octets(b),
            };
            out.extend_from_slice(&ip.to_bytes());
            match tcp {
                Some(mut tcp) => {
                    tcp.checksum = tcp_checksum(&ip.source, &ip.destination, &tcp, payload);
                    out.extend_from_slice(&tcp.to_bytes());
                }
                None => {
                    let udp = UdpHeader::with_ipv6_checksum(from.port(), to.port(), &ip, payload).map_err(text)?;
                    out.extend_from_slice(&udp.to_bytes());
                }
            }
        }
    }
    Ok(())
}

/// The TCP checksum (RFC 793, over the IPv4 or IPv6 pseudo-header, the header and `payload`). Every byte a live
/// capture sees goes through it: etherparse's sums two bytes at a time, this one eight.
fn tcp_checksum(source: &[u8], destination: &[u8], tcp: &TcpHeader, payload: &[u8]) -> u16 {
    let length = (tcp.header_len() + payload.len()) as u64;
    let mut header = tcp.clone();
    header.checksum = 0;
    let mut sum = ones_sum(0, source);
    sum = ones_sum(sum, destination);
    sum += u64::from(u8::from(IpNumber::TCP)) + length;
    sum = ones_sum(sum, &header.to_bytes());
    sum = ones_sum(sum, payload);
    !fold(sum)
}

/// `sum` plus the big-endian 16-bit words of `bytes` (an odd last byte padded with zero), not yet folded. Summed
/// as little-endian 32-bit words, which the compiler turns into vector adds: one's complement sums do not care
/// about byte order but for swapping the result (RFC 1071), and 2^16 = 1, so a 32-bit word is its halves' sum.
fn ones_sum(sum: u64, bytes: &[u8]) -> u64 {
    let mut words = bytes.chunks_exact(4);
    let mut little: u64 = (&mut words)
        .map(|word| u64::from(u32::from_le_bytes([word[0], word[1], word[2], word[3]])))
        .sum();
    let rest = words.remainder();
    if rest.len() >= 2 {
        little += u64::from(u16::from_le_bytes([rest[0], rest[1]]));
    }
    if rest.len() % 2 == 1 {
        // The last byte is a word's high byte, the low one in little-endian order.
        little += u64::from(rest[rest.len() - 1]);
    }
    sum + u64::from(fold(little).swap_bytes())
}

/// A one's complement sum folded to 16 bits.
fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

fn ethernet(source: [u8; 6], destination: [u8; 6], ether_type: EtherType) -> [u8; 14] {
    Ethernet2Header {
        source,
        destination,
        ether_type,
    }
    .to_bytes()
}

fn v6_octets(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V6(v6) => v6.octets(),
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
    }
}

fn packet_error(local: SocketAddr, peer: SocketAddr, error: impl std::fmt::Display) -> PcapError {
    PcapError::Packet {
        local,
        peer,
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same checksums etherparse makes, for every length of payload around the 8-byte steps and a big one.
    #[test]
    fn tcp_checksums_match_etherparse_for_v4_and_v6() {
        let payload: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut tcp = TcpHeader::new(50_123, 7788, 0xDEAD_BEEF, WINDOW);
        tcp.ack = true;
        tcp.psh = true;
        tcp.acknowledgment_number = 0x0102_0304;
        let lengths = (0..40).chain([1460, 32_767, SEGMENT]);
        for len in lengths {
            let payload = &payload[..len];
            let v4 = Ipv4Header::new(0, 64, IpNumber::TCP, [127, 0, 0, 1], [10, 1, 2, 3]).expect("v4");
            let expected = tcp.calc_checksum_ipv4(&v4, payload).expect("etherparse v4");
            assert_eq!(
                tcp_checksum(&v4.source, &v4.destination, &tcp, payload),
                expected,
                "v4, {len} bytes"
            );
            let v6 = Ipv6Header {
                source: [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 1],
                destination: std::net::Ipv6Addr::LOCALHOST.octets(),
                ..Default::default()
            };
            let expected = tcp.calc_checksum_ipv6(&v6, payload).expect("etherparse v6");
            assert_eq!(
                tcp_checksum(&v6.source, &v6.destination, &tcp, payload),
                expected,
                "v6, {len} bytes"
            );
        }
    }
}
