//! The window's receive/send history: raw chunks as they arrived, bounded by a byte budget.
//! Raw bytes are kept (not rendered text) so toggling hex or the encoding can re-render all of it.
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::ops::{Deref, Range};
use std::sync::Arc;

use chrono::{DateTime, Local};

use crate::net::LeaveReason;

/// NetAssist's default receive buffer (接收缓冲大小).
pub const DEFAULT_BUDGET: usize = 64 << 20;

/// Charged per chunk on top of its bytes: what a chunk costs in memory besides its payload (its
/// shared entry, two allocations, and the view's index entry for it, measured at ~180 bytes, and 32 more since a
/// chunk names its relay leg).
/// Without it a flood of one-byte datagrams (UDP chunks are never coalesced) would hold tens of
/// millions of chunks within a budget meant for megabytes of payload.
pub const CHUNK_OVERHEAD: usize = 224;

/// The most bytes one chunk holds: a bigger read is kept as pieces. What the window does per chunk (lay it out
/// to count its rows, render it when a row of it is on screen) then costs a bounded time, however big the
/// reads a flood brings.
pub const MAX_PIECE: usize = 16 << 10;

/// Memory let go at once that is worth handing back to the system.
const TRIM_AFTER: usize = 4 << 20;

/// What one history asks of a budget it shares with others (the window's tabs): its weight against theirs, and
/// the most it has use for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub weight: u32,
    pub want: usize,
}

/// Splits `total` in proportion to the claims' weights, where a claim that wants less than its part gets what it
/// wants and the rest goes to the others in turn (water-filling). The parts add up to `total` at most. Costs a few
/// passes over the claims, nothing over what the histories hold.
pub fn share(total: usize, claims: &[Claim]) -> Vec<usize> {
    let mut parts = vec![0; claims.len()];
    let mut open: Vec<usize> = (0..claims.len()).collect();
    let mut left = total as u128;
    while !open.is_empty() {
        let weights: u128 = open.iter().map(|&i| u128::from(claims[i].weight.max(1))).sum();
        let part = |i: usize| left * u128::from(claims[i].weight.max(1)) / weights;
        let (met, rest): (Vec<usize>, Vec<usize>) = open.iter().partition(|&&i| claims[i].want as u128 <= part(i));
        if met.is_empty() {
            for &i in &rest {
                parts[i] = part(i) as usize;
            }
            break;
        }
        for &i in &met {
            parts[i] = claims[i].want;
            left -= claims[i].want as u128;
        }
        open = rest;
    }
    parts
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Rx,
    Tx,
}

/// Which side of a relay's pair a chunk went through. `peer` is the side's own name: the client's address, or the
/// relay's end of the upstream connection (the upstream's address is the same for every pair).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Leg {
    /// Not a relay's: the peer is all there is.
    #[default]
    Direct,
    Client,
    /// The upstream side of the pair of this client.
    Upstream {
        client: SocketAddr,
    },
}

/// The way a relay's bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Way {
    /// Client → upstream: read from the client, or sent (injected) to the upstream.
    ToUpstream,
    /// Upstream → client: read from the upstream, or sent (injected) to the client.
    ToClient,
}

/// The bytes of a chunk: a read as the engine handed it over, or a piece of one. The pieces of a read share its
/// buffer, so cutting a read into pieces copies nothing.
#[derive(Debug, Clone)]
pub struct Payload {
    read: Arc<Vec<u8>>,
    range: Range<usize>,
}

impl Payload {
    /// The pieces of at most `size` bytes (one at least, empty for an empty read).
    fn pieces(self, size: usize) -> impl Iterator<Item = Payload> {
        let Range { start, end } = self.range;
        let count = (end - start).div_ceil(size).max(1);
        (0..count).map(move |nth| Payload {
            read: self.read.clone(),
            range: start + nth * size..(start + (nth + 1) * size).min(end),
        })
    }
}

impl From<Vec<u8>> for Payload {
    fn from(mut bytes: Vec<u8>) -> Payload {
        // The engine grows a read by appending: spare capacity would be held for as long as the chunk.
        if bytes.capacity() - bytes.len() > bytes.len() / 8 {
            bytes.shrink_to_fit();
        }
        Payload {
            range: 0..bytes.len(),
            read: Arc::new(bytes),
        }
    }
}

impl Deref for Payload {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.read[self.range.clone()]
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        **self == **other
    }
}

/// A peer's connection came or went: a row of its own in the view, with no bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    Connected,
    Disconnected(LeaveReason),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// Local time of arrival, converted once here rather than at every re-render.
    pub at: DateTime<Local>,
    pub peer: SocketAddr,
    pub direction: Direction,
    pub bytes: Payload,
    pub leg: Leg,
    /// A piece of the same read as the chunk before it (see [`MAX_PIECE`]): it goes on that chunk's row and gets
    /// no header of its own.
    pub continued: bool,
    /// Not data: the peer connected or disconnected (`bytes` is empty).
    pub note: Option<Note>,
}

impl Chunk {
    /// A read or a send as the engine reported it.
    pub fn new(at: DateTime<Local>, peer: SocketAddr, direction: Direction, bytes: Vec<u8>) -> Chunk {
        Chunk {
            at,
            peer,
            direction,
            bytes: Payload::from(bytes),
            leg: Leg::Direct,
            continued: false,
            note: None,
        }
    }

    /// `peer` connected or disconnected.
    pub fn noted(at: DateTime<Local>, peer: SocketAddr, note: Note) -> Chunk {
        Chunk {
            note: Some(note),
            ..Chunk::new(at, peer, Direction::Rx, Vec::new())
        }
    }

    /// The same, on a side of a relay's pair.
    pub fn on(self, leg: Leg) -> Chunk {
        Chunk { leg, ..self }
    }

    /// Whom it belongs to: its peer, or a relay pair's client (for either side of the pair).
    pub fn owner(&self) -> SocketAddr {
        match self.leg {
            Leg::Upstream { client } => client,
            Leg::Direct | Leg::Client => self.peer,
        }
    }

    /// The way a relay's bytes went (`None`: not a relay's).
    pub fn way(&self) -> Option<Way> {
        let upstream = match self.leg {
            Leg::Direct => return None,
            Leg::Client => false,
            Leg::Upstream { .. } => true,
        };
        // Read from the client or sent to the upstream: towards the upstream.
        Some(if upstream == (self.direction == Direction::Tx) {
            Way::ToUpstream
        } else {
            Way::ToClient
        })
    }
}

/// Chunks in arrival order with sequence numbers: the front chunk is `first_seq()`, the next
/// one `first_seq() + 1`, and so on; numbers are never reused, so a view can tell what fell out.
/// Chunks are shared (`Arc`): the view keeps the ones it shows and renders rows from their raw
/// bytes only when they are on screen.
///
/// The budget counts each chunk as its length plus [`CHUNK_OVERHEAD`]. When a push goes over,
/// the oldest chunks are dropped; the newest chunk always stays, cut to its last bytes if it
/// alone is over (those bytes count as dropped too).
#[derive(Debug)]
pub struct History {
    chunks: VecDeque<Arc<Chunk>>,
    first_seq: u64,
    bytes: usize,
    budget: usize,
    dropped_bytes: u64,
    dropped_chunks: u64,
    dropped_bytes_total: u64,
}

impl Default for History {
    fn default() -> Self {
        History::new(DEFAULT_BUDGET)
    }
}

impl History {
    pub fn new(budget: usize) -> History {
        History {
            chunks: VecDeque::new(),
            first_seq: 0,
            bytes: 0,
            budget,
            dropped_bytes: 0,
            dropped_chunks: 0,
            dropped_bytes_total: 0,
        }
    }

    /// Appends a chunk (it gets `next_seq()`; one over [`MAX_PIECE`] becomes several), then drops old data
    /// until the log fits its budget.
    pub fn push(&mut self, chunk: Chunk) {
        let Chunk {
            at,
            peer,
            direction,
            bytes,
            leg,
            continued,
            note,
        } = chunk;
        for (nth, bytes) in bytes.pieces(MAX_PIECE).enumerate() {
            self.bytes += bytes.len();
            self.chunks.push_back(Arc::new(Chunk {
                at,
                peer,
                direction,
                bytes,
                leg,
                continued: continued || nth > 0,
                note,
            }));
        }
        self.fit();
    }

    /// Empties the log and resets the dropped counters since the last clear: after "clear" the
    /// status bar counts afresh (`dropped_bytes_total` goes on). Sequence numbers go on, so a view
    /// sees every row it holds fall out. The freed memory is handed back to the system.
    pub fn clear(&mut self) {
        self.first_seq = self.next_seq();
        self.chunks = VecDeque::new();
        self.bytes = 0;
        self.dropped_bytes = 0;
        self.dropped_chunks = 0;
        crate::memory::return_free_memory();
    }

    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Payload bytes held (without the per-chunk overhead).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The sequence number of the oldest chunk held (equal to `next_seq()` when empty).
    pub fn first_seq(&self) -> u64 {
        self.first_seq
    }

    /// The sequence number the next pushed chunk gets.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.chunks.len() as u64
    }

    pub fn get(&self, seq: u64) -> Option<&Chunk> {
        self.get_shared(seq).map(|chunk| &**chunk)
    }

    pub fn get_shared(&self, seq: u64) -> Option<&Arc<Chunk>> {
        let index = usize::try_from(seq.checked_sub(self.first_seq)?).ok()?;
        self.chunks.get(index)
    }

    /// Every chunk held, oldest first, with its sequence number.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &Chunk)> {
        self.since(self.first_seq)
    }

    /// The chunks numbered `seq` and later (all held chunks if `seq` fell out already).
    pub fn since(&self, seq: u64) -> impl Iterator<Item = (u64, &Chunk)> {
        self.since_shared(seq).map(|(seq, chunk)| (seq, &**chunk))
    }

    /// [`since`](Self::since), with the chunks' shared handles.
    pub fn since_shared(&self, seq: u64) -> impl Iterator<Item = (u64, &Arc<Chunk>)> {
        let skip = seq.saturating_sub(self.first_seq).min(self.chunks.len() as u64);
        (self.first_seq + skip..).zip(self.chunks.range(skip as usize..))
    }

    /// Bytes dropped to stay within the budget since creation or `clear()`.
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_bytes
    }

    /// Bytes dropped to stay within the budget since creation: never goes down (not on `clear()`,
    /// not when the view re-renders), so a status bar can add it to other monotonic counts.
    pub fn dropped_bytes_total(&self) -> u64 {
        self.dropped_bytes_total
    }

    /// Whole chunks dropped since creation or `clear()` (a cut chunk is not counted here).
    pub fn dropped_chunks(&self) -> u64 {
        self.dropped_chunks
    }

    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Changes the budget; a smaller one drops old data at once (and gives its memory back when that was much:
    /// a budget shared by several tabs moves a little at many frames, and trimming costs milliseconds).
    pub fn set_budget(&mut self, budget: usize) {
        let held = self.cost();
        self.budget = budget;
        self.fit();
        if self.chunks.len() < self.chunks.capacity() / 4 {
            self.chunks.shrink_to_fit();
        }
        if held - self.cost() >= TRIM_AFTER {
            crate::memory::return_free_memory();
        }
    }

    fn cost(&self) -> usize {
        self.bytes + self.chunks.len() * CHUNK_OVERHEAD
    }

    fn drop_bytes(&mut self, count: usize) {
        self.bytes -= count;
        self.dropped_bytes += count as u64;
        self.dropped_bytes_total += count as u64;
    }

    fn fit(&mut self) {
        while self.cost() > self.budget && self.chunks.len() > 1 {
            let oldest = self.chunks.pop_front().expect("more than one chunk");
            self.first_seq += 1;
            self.drop_bytes(oldest.bytes.len());
            self.dropped_chunks += 1;
        }
        let excess = self.cost().saturating_sub(self.budget);
        let Some(last) = self.chunks.back_mut() else { return };
        if excess > 0 {
            // Budgets below CHUNK_OVERHEAD leave an empty chunk: its header still shows what arrived.
            let cut = excess.min(last.bytes.len());
            // A fresh vector, so the memory of an oversized read is given back; a view that
            // holds the uncut chunk sees that its handle is no longer the log's.
            let bytes = Payload::from(last.bytes[cut..].to_vec());
            match Arc::get_mut(last) {
                Some(chunk) => chunk.bytes = bytes,
                None => {
                    *last = Arc::new(Chunk {
                        bytes,
                        continued: last.continued,
                        leg: last.leg,
                        ..Chunk::new(last.at, last.peer, last.direction, Vec::new())
                    });
                }
            }
            self.drop_bytes(cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5000);

    fn chunk(bytes: &[u8]) -> Chunk {
        Chunk::new(Local::now(), PEER, Direction::Rx, bytes.to_vec())
    }

    /// A budget that holds `chunks` chunks of `len` bytes exactly.
    fn room_for(chunks: usize, len: usize) -> usize {
        chunks * (len + CHUNK_OVERHEAD)
    }

    fn contents(log: &History) -> Vec<(u64, Vec<u8>)> {
        log.iter().map(|(seq, chunk)| (seq, chunk.bytes.to_vec())).collect()
    }

    #[test]
    fn payloads_compare_by_their_bytes_and_a_piece_cuts_within_its_own_range() {
        let whole = Payload::from(b"abcdefgh".to_vec());
        let second = whole.pieces(4).nth(1).expect("two pieces");
        assert_eq!(second, Payload::from(b"efgh".to_vec()));
        assert_ne!(second, Payload::from(b"efgx".to_vec()));
        let halves: Vec<Vec<u8>> = second.pieces(2).map(|piece| piece.to_vec()).collect();
        assert_eq!(halves, [b"ef".to_vec(), b"gh".to_vec()]);
    }

    #[test]
    fn a_piece_cut_to_fit_the_budget_stays_a_piece_of_its_read() {
        for held_by_a_view in [false, true] {
            let mut log = History::default();
            log.push(chunk(&vec![b'x'; MAX_PIECE + 100]));
            let held = held_by_a_view.then(|| log.get_shared(1).cloned());
            log.set_budget(CHUNK_OVERHEAD + 10);
            let last = log.get(log.first_seq()).expect("the newest stays");
            assert_eq!(
                (last.bytes.len(), last.continued),
                (10, true),
                "held by a view: {held_by_a_view}"
            );
            drop(held);
        }
    }

    #[test]
    fn a_read_over_the_piece_size_is_kept_as_pieces_of_one_read() {
        let read: Vec<u8> = (0..2 * MAX_PIECE + 3).map(|i| i as u8).collect();
        let mut log = History::default();
        log.push(chunk(&read));
        log.push(chunk(b"next"));
        let pieces: Vec<(usize, bool)> = log.iter().map(|(_, c)| (c.bytes.len(), c.continued)).collect();
        assert_eq!(pieces, [(MAX_PIECE, false), (MAX_PIECE, true), (3, true), (4, false)]);
        let kept: Vec<u8> = log.iter().take(3).flat_map(|(_, c)| c.bytes.to_vec()).collect();
        assert_eq!(kept, read);
        assert_eq!(log.bytes(), read.len() + 4);
    }

    #[test]
    fn evicts_oldest_chunks_and_counts_them() {
        // (budget, lengths pushed, sequence numbers kept, dropped chunks)
        let cases: &[(usize, &[usize], &[u64], u64)] = &[
            (room_for(3, 10), &[10, 10, 10], &[0, 1, 2], 0),
            (room_for(3, 10), &[10, 10, 10, 10], &[1, 2, 3], 1),
            (room_for(3, 10), &[10, 10, 10, 10, 10, 10, 10], &[4, 5, 6], 4),
            // One byte over drops a whole chunk.
            (room_for(3, 10), &[10, 10, 11], &[1, 2], 1),
            (room_for(3, 10), &[1, 2, 3, 30], &[2, 3], 2),
        ];
        for &(budget, lengths, kept, dropped) in cases {
            let mut log = History::new(budget);
            for (n, &len) in lengths.iter().enumerate() {
                log.push(chunk(&vec![n as u8; len]));
            }
            let seqs: Vec<u64> = log.iter().map(|(seq, _)| seq).collect();
            assert_eq!(seqs, kept, "{lengths:?}");
            assert_eq!((log.len(), log.is_empty()), (kept.len(), false), "{lengths:?}");
            let held: usize = kept.iter().map(|&seq| lengths[seq as usize]).sum();
            assert_eq!(log.bytes(), held, "{lengths:?}");
            assert_eq!(log.dropped_chunks(), dropped, "{lengths:?}");
            assert_eq!(log.dropped_bytes(), (lengths.iter().sum::<usize>() - held) as u64);
            assert_eq!(log.dropped_bytes_total(), log.dropped_bytes());
            assert_eq!(log.first_seq(), kept[0]);
            assert_eq!(log.next_seq(), lengths.len() as u64);
        }
    }

    #[test]
    fn oversized_chunk_keeps_its_last_bytes() {
        let mut log = History::new(room_for(1, 4));
        log.push(chunk(b"ab"));
        log.push(chunk(b"0123456789"));
        assert_eq!(contents(&log), [(1, b"6789".to_vec())]);
        assert_eq!(log.bytes(), 4);
        assert_eq!(log.dropped_chunks(), 1);
        assert_eq!(log.dropped_bytes(), 2 + 6);
    }

    /// A chunk grown by appending reads may hold far more memory than bytes: the log keeps it only if the
    /// spare room is at most an eighth of the bytes.
    #[test]
    fn a_chunk_with_much_spare_room_is_shrunk() {
        // (bytes, capacity, capacity held)
        for (len, capacity, held) in [(100, 400, 100), (100, 101, 101), (80, 90, 90), (80, 91, 80)] {
            let mut bytes = Vec::with_capacity(capacity);
            bytes.resize(len, b'x');
            assert_eq!(bytes.capacity(), capacity, "the allocator gave what was asked");
            let kept = Payload::from(bytes);
            assert_eq!(
                (kept.len(), kept.read.capacity()),
                (len, held),
                "{len} bytes in {capacity}"
            );
        }
    }

    #[test]
    fn a_shared_budget_goes_by_weight_and_what_is_left_goes_to_those_that_want_more() {
        let claim = |weight, want| Claim { weight, want };
        // (total, claims, parts)
        let cases: &[(usize, &[Claim], &[usize])] = &[
            (100, &[claim(1, usize::MAX), claim(3, usize::MAX)], &[25, 75]),
            // An idle tab holding little keeps it; the busy one gets the rest.
            (100, &[claim(1, 10), claim(1, usize::MAX)], &[10, 90]),
            // Met in turn: 20 of a third, then 40 of what is left (80 / 2), the rest to the last.
            (100, &[claim(1, 20), claim(1, 40), claim(1, usize::MAX)], &[20, 40, 40]),
            // Everyone wants less than there is.
            (100, &[claim(1, 10), claim(8, 20)], &[10, 20]),
            (10, &[claim(1, usize::MAX); 3], &[3, 3, 3]),
            (0, &[claim(1, 5)], &[0]),
            (7, &[], &[]),
        ];
        for &(total, claims, parts) in cases {
            let got = share(total, claims);
            assert_eq!(got, parts, "{claims:?}");
            assert!(got.iter().sum::<usize>() <= total);
        }
        let huge = share(usize::MAX, &[claim(u32::MAX, usize::MAX), claim(u32::MAX, usize::MAX)]);
        assert!(huge.iter().all(|&part| part == usize::MAX / 2), "no overflow: {huge:?}");
    }

    #[test]
    fn budget_below_the_overhead_keeps_an_empty_newest_chunk() {
        let mut log = History::new(0);
        log.push(chunk(b"abc"));
        log.push(chunk(b"de"));
        assert_eq!(contents(&log), [(1, vec![])]);
        assert_eq!((log.dropped_chunks(), log.dropped_bytes()), (1, 5));
    }

    #[test]
    fn shrinking_the_budget_evicts_at_once() {
        let mut log = History::default();
        assert_eq!(log.budget(), DEFAULT_BUDGET);
        for byte in b"abcde" {
            log.push(chunk(&[*byte; 10]));
        }
        log.set_budget(room_for(2, 10));
        assert_eq!(log.budget(), room_for(2, 10));
        assert_eq!(contents(&log), [(3, vec![b'd'; 10]), (4, vec![b'e'; 10])]);
        assert_eq!((log.dropped_chunks(), log.dropped_bytes()), (3, 30));
        // Shrinking below the newest chunk cuts it too.
        log.set_budget(room_for(1, 3));
        assert_eq!(contents(&log), [(4, vec![b'e'; 3])]);
        assert_eq!((log.dropped_chunks(), log.dropped_bytes()), (4, 47));
        // Growing drops nothing.
        log.set_budget(DEFAULT_BUDGET);
        assert_eq!(log.len(), 1);
    }

    #[test]
    fn shrinking_the_budget_gives_the_queue_memory_back_and_growing_keeps_it() {
        let mut log = History::default();
        for _ in 0..1000 {
            log.push(chunk(b"x"));
        }
        let full = log.chunks.capacity();
        log.set_budget(DEFAULT_BUDGET + 1);
        assert_eq!(
            log.chunks.capacity(),
            full,
            "a larger budget drops nothing and frees nothing"
        );
        // Within the budget nothing is cut: a view holding the newest chunk keeps the log's handle.
        let newest = log.get_shared(log.next_seq() - 1).cloned().expect("newest");
        log.set_budget(log.budget());
        assert_eq!(log.chunks.capacity(), full, "the same budget again frees nothing");
        assert!(Arc::ptr_eq(
            &newest,
            log.get_shared(log.next_seq() - 1).expect("newest")
        ));
        log.set_budget(room_for(2, 1));
        assert_eq!(log.len(), 2);
        assert!(
            log.chunks.capacity() < full / 10,
            "{} of {full} slots kept",
            log.chunks.capacity()
        );
    }

    #[test]
    fn sequence_numbers_address_chunks() {
        let mut log = History::new(room_for(2, 1));
        for byte in b"abcd" {
            log.push(chunk(&[*byte]));
        }
        assert_eq!(log.get(1), None);
        assert_eq!(log.get(2).map(|c| &*c.bytes), Some(&b"c"[..]));
        assert_eq!(log.get(3).map(|c| &*c.bytes), Some(&b"d"[..]));
        assert_eq!(log.get(4), None);
        let since = |seq| log.since(seq).map(|(seq, _)| seq).collect::<Vec<_>>();
        assert_eq!(since(0), [2, 3]);
        assert_eq!(since(3), [3]);
        assert_eq!(since(4), Vec::<u64>::new());
        assert_eq!(since(9), Vec::<u64>::new());
    }

    #[test]
    fn clear_resets_counters_but_not_sequence_numbers() {
        let mut log = History::new(room_for(1, 1));
        log.push(chunk(b"a"));
        log.push(chunk(b"b"));
        log.clear();
        assert!(log.is_empty());
        assert_eq!((log.bytes(), log.dropped_bytes(), log.dropped_chunks()), (0, 0, 0));
        // The total never goes down: the status bar adds it to the engine's monotonic count.
        assert_eq!(log.dropped_bytes_total(), 1);
        assert_eq!((log.first_seq(), log.next_seq()), (2, 2));
        log.push(chunk(b"c"));
        assert_eq!(contents(&log), [(2, b"c".to_vec())]);
    }
}
