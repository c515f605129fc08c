//! Batches events for the consumer. A consumer that keeps up (its queue empty) gets each batch at once; one that is
//! behind gets received bytes coalesced per peer, one batch per interval at most, so it is not buried in batches.
use std::collections::HashMap;
use std::mem;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Sender, TrySendError};

use super::{Counters, Delivery, Event, EventKind, Notify, ReceivedAs};

/// A batch is sent early once it holds this much received data.
const BATCH_BYTES: usize = 256 * 1024;
/// Lossless delivery stops reading a peer while this much of its data waits for the consumer: one peer's flood
/// does not stop the others (their echoes, their joins) …
const PAUSE_PEER_BYTES: usize = 4 * BATCH_BYTES;
/// … until this much waits from all of them together.
const PAUSE_BYTES: usize = 64 * BATCH_BYTES;
/// The most one read takes when the consumer may be handed less than everything (the window): a batch then holds
/// at most `BATCH_BYTES` and one read, so the consumer's queue of `EVENT_BATCHES` holds a few MiB at most per session
/// (with 1 MiB reads, 16 busy tabs had over 100 MiB waiting in their queues).
const BEHIND_READ: usize = 64 * 1024;
/// How soon to offer a batch again after the consumer's queue was full.
const RETRY: Duration = Duration::from_millis(1);

pub(super) struct Outbox {
    tx: Sender<Vec<Event>>,
    notify: Notify,
    counters: Arc<Counters>,
    delivery: Delivery,
    interval: Duration,
    received_as: ReceivedAs,
    pending: Vec<Event>,
    pending_data: usize,
    /// `pending_data` by peer.
    pending_by_peer: HashMap<SocketAddr, usize>,
    last_sent: Option<Instant>,
    /// Set while the consumer's queue is full: when to try again.
    retry_at: Option<Instant>,
    /// Batches put in the consumer's queue so far; `u64::MAX` once nobody listens any more.
    handed: u64,
}

impl Outbox {
    /// One message cut by the framing, for the messages/s the window plots.
    pub fn count_message(&self) {
        self.counters.add_message();
    }

    pub fn new(
        tx: Sender<Vec<Event>>,
        notify: Notify,
        counters: Arc<Counters>,
        delivery: Delivery,
        interval: Duration,
        received_as: ReceivedAs,
    ) -> Self {
        Outbox {
            tx,
            notify,
            counters,
            delivery,
            interval,
            received_as,
            pending: Vec::new(),
            pending_data: 0,
            pending_by_peer: HashMap::new(),
            last_sent: None,
            retry_at: None,
            handed: 0,
        }
    }

    pub fn push(&mut self, kind: EventKind) {
        // Progress reports only matter as the latest value.
        if let Some(last) = self.pending.last_mut()
            && same_progress(&last.kind, &kind)
        {
            last.kind = kind;
            return;
        }
        self.pending.push(Event {
            at: SystemTime::now(),
            kind,
        });
    }

    /// Received bytes; `coalesce` joins them to the previous chunk of the same peer (TCP streams, not datagrams).
    pub fn push_received(&mut self, peer: SocketAddr, data: &[u8], coalesce: bool) {
        match self.received_as {
            ReceivedAs::Bytes => {}
            ReceivedAs::Lengths => return self.push_received_len(peer, data.len() as u64),
            ReceivedAs::Nothing => return,
        }
        self.pending_data += data.len();
        if self.delivery == Delivery::Lossless {
            *self.pending_by_peer.entry(peer).or_default() += data.len();
        }
        match self.pending.last_mut() {
            Some(Event {
                kind: EventKind::Received { peer: last, bytes },
                ..
            }) if coalesce && *last == peer => bytes.extend_from_slice(data),
            _ => self.push(EventKind::Received {
                peer,
                bytes: data.to_vec(),
            }),
        }
        if self.pending_data >= BATCH_BYTES {
            // Keeps batches bounded however much one turn reads.
            self.flush(Instant::now(), false);
        }
    }

    /// A count instead of the bytes: nothing held, so nothing for back-pressure to wait on.
    fn push_received_len(&mut self, peer: SocketAddr, n: u64) {
        match self.pending.last_mut() {
            Some(Event {
                kind: EventKind::ReceivedLen { peer: last, len },
                ..
            }) if *last == peer => *len += n,
            _ => self.push(EventKind::ReceivedLen { peer, len: n }),
        }
    }

    /// How many batches the consumer must take to have seen every event pushed so far.
    pub fn mark(&self) -> u64 {
        self.handed.saturating_add(u64::from(!self.pending.is_empty()))
    }

    /// Whether the consumer has taken the batches up to `mark` out of its queue.
    pub fn taken(&self, mark: u64) -> bool {
        self.handed == u64::MAX || self.handed.saturating_sub(self.tx.len() as u64) >= mark
    }

    /// The most one read of a stream should take (`BEHIND_READ`, or no limit for lossless delivery, which stops
    /// reading instead, and when no bytes are handed over).
    pub fn read_cap(&self) -> usize {
        match (self.delivery, self.received_as) {
            (Delivery::DropWhenBehind, ReceivedAs::Bytes) => BEHIND_READ,
            _ => usize::MAX,
        }
    }

    pub fn is_lossless(&self) -> bool {
        self.delivery == Delivery::Lossless
    }

    /// Lossless delivery with the consumer behind: stop reading `peer` (`None`: whoever comes next, UDP).
    pub fn is_blocking(&self, peer: Option<SocketAddr>) -> bool {
        self.delivery == Delivery::Lossless
            && (self.pending_data >= PAUSE_BYTES
                || peer.is_some_and(|p| self.pending_by_peer.get(&p).is_some_and(|&n| n >= PAUSE_PEER_BYTES)))
    }

    /// When the pending batch is due; `None` when nothing is pending.
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        if self.retry_at.is_some() {
            return self.retry_at;
        }
        match self.last_sent {
            // Batching only protects a consumer that is behind: an idle one is handed the data now, and one that
            // was behind as soon as it is seen to have caught up.
            Some(at) if self.pending_data < BATCH_BYTES && !self.tx.is_empty() => {
                let look_again = now + RETRY;
                Some(
                    at.checked_add(self.interval)
                        .map_or(look_again, |due| due.min(look_again)),
                )
            }
            _ => Some(now),
        }
    }

    /// Sends the pending batch if it is due (or `force`). Returns `false` if a batch is still waiting.
    pub fn flush(&mut self, now: Instant, force: bool) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        if !force && self.deadline(now).is_some_and(|due| due > now) {
            return false;
        }
        let batch = mem::take(&mut self.pending);
        match self.tx.try_send(batch) {
            Ok(()) => {
                self.handed += 1;
                self.pending_data = 0;
                self.pending_by_peer.clear();
                self.last_sent = Some(now);
                self.retry_at = None;
                (self.notify)();
                true
            }
            Err(TrySendError::Full(batch)) => {
                self.pending = batch;
                self.retry_at = Some(now + RETRY);
                if self.delivery == Delivery::DropWhenBehind {
                    self.drop_received();
                }
                false
            }
            // Nobody listens any more: nothing to keep.
            Err(TrySendError::Disconnected(_)) => {
                self.handed = u64::MAX;
                self.pending_data = 0;
                self.pending_by_peer.clear();
                true
            }
        }
    }

    /// Blocks until the last batch is taken (or `timeout`): the final events of a session must arrive.
    pub fn flush_final(&mut self, timeout: Duration) {
        if self.pending.is_empty() {
            return;
        }
        let batch = mem::take(&mut self.pending);
        if self.tx.send_timeout(batch, timeout).is_ok() {
            (self.notify)();
        }
    }

    /// Keeps the control events (joins, errors, …) and counts the data it throws away.
    fn drop_received(&mut self) {
        let mut kept: Vec<Event> = Vec::with_capacity(self.pending.len());
        for event in mem::take(&mut self.pending) {
            let (peer, bytes) = match event.kind {
                EventKind::Received { peer, bytes } => {
                    self.counters.add_dropped(bytes.len());
                    (peer, bytes.len() as u64)
                }
                EventKind::DroppedFromView { peer, bytes } => (peer, bytes),
                _ => {
                    kept.push(event);
                    continue;
                }
            };
            // One tally per peer, where its data was: the kept events stay few however long the consumer lags.
            let tally = kept.iter_mut().rev().find_map(|e| match &mut e.kind {
                EventKind::DroppedFromView { peer: p, bytes } if *p == peer => Some(bytes),
                _ => None,
            });
            match tally {
                Some(total) => *total += bytes,
                None => kept.push(Event {
                    at: event.at,
                    kind: EventKind::DroppedFromView { peer, bytes },
                }),
            }
        }
        self.pending = kept;
        self.pending_data = 0;
    }
}

fn same_progress(a: &EventKind, b: &EventKind) -> bool {
    matches!(
        (a, b),
        (
            EventKind::PeriodicProgress { done: false, .. },
            EventKind::PeriodicProgress { .. }
        ) | (
            EventKind::FileProgress { done: false, .. },
            EventKind::FileProgress { .. }
        )
    )
}
