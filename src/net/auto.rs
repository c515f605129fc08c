//! Automation inside the worker, on the bytes as read: each peer's stream cut into messages, the auto-reply rules
//! (with `--echo` as a built-in one) answering every message, and send/expect scripts. Nothing here waits for the
//! consumer; replies due now go out from the read itself, delayed replies, gap-ended messages and script steps at
//! the worker's automation turn (`turn`), which the poll's timeout keeps on time.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::caps::ScriptScope;
use super::message::{RuleHits, message_cost};
use super::outbox::Outbox;
use super::{AutoEvent, Bytes, EventKind, NetError, ScriptEnd, StepOutcome, Target};
use crate::automation::rules::{Context, Rules};
use crate::automation::script::{Action, Run, Script};
use crate::codec::framing::{Framer, Framing, MAX_MESSAGE};

/// Delayed replies waiting in all, by their cost (`delayed_cost`): while this much waits, rules answer nothing more
/// and the peers with messages to answer are not read, so a flood of requests with a long delay holds this much at
/// most (about 130,000 empty replies) instead of one entry per request. Each peer's own share is bounded tighter, by
/// its queue's bound (see `Conn::room`).
const MAX_DELAYED_COST: usize = 16 * 1024 * 1024;
/// What a delayed reply costs besides its bytes: its heap entry and the reply's allocation.
const DELAYED_OVERHEAD: usize = 128;
/// Partial messages held by every peer's framer together: past this, a peer's partial message comes out in parts
/// of what it has (as one past `MAX_MESSAGE` does), so 25 peers cannot hold 16 MiB each. Two whole-size messages
/// still fit at once.
const MAX_PARTIAL_TOTAL: usize = 2 * MAX_MESSAGE;
/// What a peer may always hold, however full the total: ordinary messages are never cut short by another's flood.
const MIN_PARTIAL: usize = 4096;
/// A datagram peer's framer is dropped after this long without a datagram (its partial message comes out as it is):
/// UDP has no leave, and 10,000 source ports must not hold their partial messages forever.
pub(super) const DATAGRAM_PEER_IDLE: Duration = Duration::from_secs(10);

fn delayed_cost(bytes: usize) -> usize {
    bytes + DELAYED_OVERHEAD
}

/// A reply to send to the peer whose message it answers.
pub(super) struct Reply {
    pub bytes: Bytes,
    /// Report a `Sent` event once written (rule replies are shown; `--echo`'s are not, as always).
    pub report: bool,
}

/// A reply waiting for its rule's delay.
struct Delayed {
    due: Instant,
    /// Arrival order among equal times.
    seq: u64,
    peer: SocketAddr,
    reply: Reply,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

/// The delayed replies waiting for one peer.
struct Owed {
    count: usize,
    /// Their cost, counted against the peer's queue bound from the moment they are made.
    cost: usize,
    /// When the last of them is due (they leave the queue in order, so this holds until the count is 0).
    last: Instant,
}

/// A peer's framer, and when it last had data.
struct PeerFramer {
    framer: Framer,
    seen: Instant,
}

/// A peer's messages waiting for room for their replies: their bytes one after the other, and their lengths.
#[derive(Default)]
struct Held {
    bytes: Vec<u8>,
    /// Where the first message still held starts in `bytes`.
    start: usize,
    lens: VecDeque<u32>,
}

/// Who may still send to a half-closed peer, which keeps it open.
pub(super) enum Answerer {
    /// Nobody: it is closed once its queue is written.
    Nobody,
    /// The rules, to messages of it held for room in its queue: it is read (and written) until they are answered.
    Rules,
    /// Its delayed replies, the last due then.
    Delayed(Instant),
    /// Its script run, or the consumer (the window's send box, `--stdin`): a moment's grace once the consumer has
    /// its last bytes.
    Someone,
}

/// One script run: against one TCP peer, or (key `None`) a UDP session's remote.
struct ScriptRun {
    run: Run,
    /// Data arrived since the last advance.
    fed: bool,
    /// When the run wants to be looked at again.
    wake: Option<Instant>,
}

#[derive(Default)]
pub(super) struct Automation {
    framing: Framing,
    /// Someone looks at messages (the consumer gets the bytes): cut them even without rules or a script.
    show_messages: bool,
    framers: HashMap<SocketAddr, PeerFramer>,
    /// Bytes every framer holds together (see `MAX_PARTIAL_TOTAL`).
    partial: usize,
    /// Datagram peers have no leave: their framers go after `DATAGRAM_PEER_IDLE` without data (`None`: TCP).
    peer_idle: Option<Duration>,
    /// When to look for idle framers next.
    sweep_at: Option<Instant>,
    rules: Option<Rules>,
    /// Messages cut but not answered yet (the peer's queue had no room for more replies): the peer is not read
    /// until they are, so this holds one read at most.
    held: HashMap<SocketAddr, Held>,
    echo: bool,
    hits: Option<Arc<RuleHits>>,
    delayed: BinaryHeap<Reverse<Delayed>>,
    delayed_cost: usize,
    /// Per peer, what `delayed` holds for it: a half-closed peer is kept open until the last of them is written.
    owed: HashMap<SocketAddr, Owed>,
    seq: u64,
    script: Option<Arc<Script>>,
    /// A `Once` script waiting for its connection.
    script_waiting: bool,
    runs: HashMap<Option<SocketAddr>, ScriptRun>,
    /// The consumer may answer what it is shown (a window's send box, `--stdin`).
    consumer_replies: bool,
    /// `false` for the stand-in `turn` leaves in the context while it has the real one out.
    real: bool,
    /// Peers that left while the real state was out (this is its stand-in): told to it afterwards.
    gone: Vec<SocketAddr>,
}

impl Automation {
    pub fn new(
        framing: Framing,
        rules: Option<Rules>,
        echo: bool,
        show_messages: bool,
        consumer_replies: bool,
    ) -> Automation {
        Automation {
            framing,
            show_messages,
            echo,
            consumer_replies,
            real: true,
            ..Automation::default()
        }
        .with_rules(rules)
    }

    fn with_rules(mut self, rules: Option<Rules>) -> Automation {
        self.set_rules_quietly(rules);
        self
    }

    /// A relay applies the rules itself, per direction and message: it takes them, with the framing that cuts its
    /// messages, and the automation only shows what passes.
    pub fn take_rules(&mut self) -> (Option<Rules>, Framing) {
        self.hits = None;
        (self.rules.take(), self.framing.clone())
    }

    /// Rules (echo among them) may answer what is read.
    pub fn answers(&self) -> bool {
        self.rules.is_some()
    }

    /// Nothing to do on a read: no rules, no script, no messages to cut.
    pub fn idle(&self) -> bool {
        self.rules.is_none() && self.runs.is_empty() && !self.cuts()
    }

    fn cuts(&self) -> bool {
        self.framing != Framing::None && (self.show_messages || self.rules.is_some() || !self.runs.is_empty())
    }

    /// The rules' live counts, for the event that announces them.
    pub fn announce(&self, outbox: &mut Outbox) {
        if let Some(hits) = &self.hits {
            outbox.push(EventKind::Automation(AutoEvent::Rules { hits: hits.clone() }));
        }
    }

    pub fn set_rules(&mut self, rules: Option<Rules>, outbox: &mut Outbox) {
        self.set_rules_quietly(rules);
        if !self.cuts() {
            self.flush_framers(outbox);
        }
        match &self.hits {
            Some(_) => self.announce(outbox),
            None => outbox.push(EventKind::Automation(AutoEvent::Rules {
                hits: Arc::new(RuleHits::new(0)),
            })),
        }
    }

    fn set_rules_quietly(&mut self, rules: Option<Rules>) {
        let rules = match (rules, self.echo) {
            (Some(rules), true) => Some(rules.with_echo()),
            (None, true) => Some(Rules::none(crate::codec::text::TextEncoding::UTF8).with_echo()),
            (rules, false) => rules,
        };
        self.hits = rules.as_ref().map(|rules| Arc::new(RuleHits::new(rules.len())));
        self.rules = rules;
    }

    /// A new framing: what the old one held for each peer comes out first, as it is.
    pub fn set_framing(&mut self, framing: Framing, outbox: &mut Outbox) {
        self.flush_framers(outbox);
        self.framing = framing;
    }

    /// What each peer's framer holds comes out as it is (the framing changes, or nobody needs messages now).
    fn flush_framers(&mut self, outbox: &mut Outbox) {
        self.partial = 0;
        for (peer, mut framer) in std::mem::take(&mut self.framers) {
            if let Some(message) = framer.framer.finish() {
                outbox.count_message();
                outbox.push_received(peer, &message.bytes, false);
            }
        }
    }

    /// Datagram peers never leave: their framers go after `idle` without data instead.
    pub fn forget_idle_peers(&mut self, idle: Duration) {
        self.peer_idle = Some(idle);
    }

    /// Bytes from `peer` (already counted and captured): handed to the consumer (one event per message when
    /// framed), answered by the rules while their replies cost less than `room` in all (the rest is held, see
    /// `holds`) and fed to the peer's script. Returns the replies due now.
    pub fn received(
        &mut self,
        peer: SocketAddr,
        data: &[u8],
        coalesce: bool,
        outbox: &mut Outbox,
        mut room: usize,
    ) -> Vec<Reply> {
        let mut replies = Vec::new();
        let now = Instant::now();
        if !self.cuts() {
            outbox.push_received(peer, data, coalesce);
            self.message(peer, data, now, outbox, &mut replies, &mut room);
            return replies;
        }
        // Out of the map while it hands out messages, which the rest of `self` answers.
        let mut framer = self
            .take_framer(peer)
            .map_or_else(|| Framer::new(self.framing.clone()), |f| f.framer);
        // What this peer may hold: whatever the others leave of the total.
        framer.set_limit(
            MAX_MESSAGE
                .min(MAX_PARTIAL_TOTAL.saturating_sub(self.partial))
                .max(MIN_PARTIAL),
        );
        framer.push_with(data, now, |message, _, _| {
            outbox.count_message();
            outbox.push_received(peer, message, false);
            self.message(peer, message, now, outbox, &mut replies, &mut room);
        });
        self.put_framer(peer, framer, now);
        replies
    }

    fn take_framer(&mut self, peer: SocketAddr) -> Option<PeerFramer> {
        let framer = self.framers.remove(&peer)?;
        self.partial -= framer.framer.pending();
        Some(framer)
    }

    fn put_framer(&mut self, peer: SocketAddr, framer: Framer, seen: Instant) {
        self.partial += framer.pending();
        if let Some(idle) = self.peer_idle {
            self.sweep_at.get_or_insert(seen + idle);
        }
        self.framers.insert(peer, PeerFramer { framer, seen });
    }

    /// A peer's stream ended (it half-closed, or left): its unfinished message comes out, and is answered if the
    /// peer can still take a reply (within `room`, as `received`).
    pub fn stream_ended(&mut self, peer: SocketAddr, outbox: &mut Outbox, mut room: usize) -> Vec<Reply> {
        let mut replies = Vec::new();
        if let Some(message) = self.take_framer(peer).and_then(|mut framer| framer.framer.finish()) {
            outbox.count_message();
            outbox.push_received(peer, &message.bytes, false);
            self.message(peer, &message.bytes, Instant::now(), outbox, &mut replies, &mut room);
        }
        replies
    }

    /// A TCP peer left: its message so far comes out, its held messages, delayed replies and script run end.
    pub fn peer_left(&mut self, peer: SocketAddr, outbox: &mut Outbox) {
        if !self.real {
            self.gone.push(peer);
            return;
        }
        self.held.remove(&peer);
        let _ = self.stream_ended(peer, outbox, usize::MAX);
        self.held.remove(&peer);
        if self.owed.remove(&peer).is_some() {
            self.delayed.retain(|Reverse(delayed)| delayed.peer != peer);
            self.delayed_cost = self
                .delayed
                .iter()
                .map(|Reverse(d)| delayed_cost(d.reply.bytes.len()))
                .sum();
        }
        if let Some(mut run) = self.runs.remove(&Some(peer)) {
            finish_without_peer(Some(peer), &mut run, Instant::now(), outbox);
        }
    }

    /// A peer the script should meet: a client joined (`EachClient`) or the connection was made (`Once`).
    pub fn peer_joined(&mut self, peer: SocketAddr, scope: ScriptScope, outbox: &mut Outbox) {
        let start = match scope {
            ScriptScope::EachClient => self.script.is_some(),
            ScriptScope::Once => std::mem::take(&mut self.script_waiting),
            ScriptScope::Socket => false,
        };
        if start {
            self.start_run(Some(peer), outbox);
        }
    }

    /// Starts `script` (replacing one running) for the peers there are now, each run fed first what `seen` says
    /// its peer sent already; later peers per `scope`.
    pub fn run_script(
        &mut self,
        script: Arc<Script>,
        scope: ScriptScope,
        peers: &[SocketAddr],
        seen: Vec<(Option<SocketAddr>, Vec<u8>)>,
        outbox: &mut Outbox,
    ) {
        self.stop_script(outbox);
        self.script = Some(script);
        match scope {
            ScriptScope::Socket => self.start_run(None, outbox),
            ScriptScope::EachClient => peers.iter().for_each(|&peer| self.start_run(Some(peer), outbox)),
            ScriptScope::Once => match peers.first() {
                Some(&peer) => self.start_run(Some(peer), outbox),
                None => self.script_waiting = true,
            },
        }
        for (peer, bytes) in seen {
            // A UDP run is keyed `None` whoever sent; a TCP peer's only while it is still connected.
            let key = if scope == ScriptScope::Socket { None } else { peer };
            if let Some(run) = self.runs.get_mut(&key) {
                run.run.received(&bytes);
                run.fed = true;
            }
        }
    }

    pub fn stop_script(&mut self, outbox: &mut Outbox) {
        self.script = None;
        self.script_waiting = false;
        let mut stopped: Vec<_> = self.runs.drain().map(|(peer, _)| peer).collect();
        stopped.sort_unstable();
        for peer in stopped {
            outbox.push(EventKind::Automation(AutoEvent::ScriptEnded {
                peer,
                end: ScriptEnd::Stopped,
            }));
        }
    }

    fn start_run(&mut self, peer: Option<SocketAddr>, outbox: &mut Outbox) {
        let Some(script) = &self.script else { return };
        outbox.push(EventKind::Automation(AutoEvent::ScriptStarted {
            peer,
            steps: script.steps.len(),
        }));
        let run = ScriptRun {
            run: Run::new(script.clone(), peer, Instant::now()),
            fed: false,
            // Its first steps go at the next turn, in this same loop.
            wake: Some(Instant::now()),
        };
        self.runs.insert(peer, run);
    }

    /// One message: the first matching rule answers it (or it is held, see `answer`); the peer's script sees it.
    fn message(
        &mut self,
        peer: SocketAddr,
        bytes: &[u8],
        now: Instant,
        outbox: &mut Outbox,
        replies: &mut Vec<Reply>,
        room: &mut usize,
    ) {
        self.answer(peer, bytes, now, outbox, replies, room);
        if self.runs.is_empty() {
            return;
        }
        let key = if self.runs.contains_key(&Some(peer)) {
            Some(peer)
        } else {
            None
        };
        if let Some(run) = self.runs.get_mut(&key) {
            run.run.received(bytes);
            run.fed = true;
        }
    }

    /// Answers a message only while its reply has room: the peer's queue (`room`, what the replies made so far
    /// are taken from) and the session's delayed replies. Otherwise the message is held, after any held before it,
    /// and answered by `answer_held` once there is room; meanwhile the peer is not read.
    fn answer(
        &mut self,
        peer: SocketAddr,
        bytes: &[u8],
        now: Instant,
        outbox: &mut Outbox,
        replies: &mut Vec<Reply>,
        room: &mut usize,
    ) {
        if self.rules.is_none() {
            return;
        }
        if *room == 0 || self.delayed_cost >= MAX_DELAYED_COST || self.held.contains_key(&peer) {
            let held = self.held.entry(peer).or_default();
            held.bytes.extend_from_slice(bytes);
            // A message is at most `MAX_MESSAGE` (16 MiB), so its length fits.
            held.lens.push_back(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
            return;
        }
        self.respond(peer, bytes, now, outbox, replies, room);
    }

    /// Messages of `peer` held for room, answered while there is (as `answer`); the replies due now.
    pub fn answer_held(&mut self, peer: SocketAddr, outbox: &mut Outbox, mut room: usize) -> Vec<Reply> {
        let mut replies = Vec::new();
        let Some(mut held) = self.held.remove(&peer) else {
            return replies;
        };
        let now = Instant::now();
        while room > 0 && self.delayed_cost < MAX_DELAYED_COST {
            let Some(len) = held.lens.pop_front() else { break };
            let end = (held.start + len as usize).min(held.bytes.len());
            self.respond(peer, &held.bytes[held.start..end], now, outbox, &mut replies, &mut room);
            held.start = end;
        }
        if !held.lens.is_empty() {
            self.held.insert(peer, held);
        }
        replies
    }

    /// Whether messages of `peer` wait for room for their replies.
    pub fn holds(&self, peer: SocketAddr) -> bool {
        self.held.contains_key(&peer)
    }

    /// The peers with messages held (datagram sessions answer them before reading on).
    pub fn holding(&self) -> Vec<SocketAddr> {
        self.held.keys().copied().collect()
    }

    /// The rules' answer to one message, its cost taken from `room`.
    fn respond(
        &mut self,
        peer: SocketAddr,
        bytes: &[u8],
        now: Instant,
        outbox: &mut Outbox,
        replies: &mut Vec<Reply>,
        room: &mut usize,
    ) {
        let Some(rules) = &mut self.rules else { return };
        let context = || Context {
            peer,
            time: chrono::Local::now(),
        };
        match rules.answer_with(bytes, None, context) {
            None => {}
            Some(Ok(answer)) => {
                if let Some(hits) = &self.hits {
                    hits.add(answer.rule);
                }
                let reply = Reply {
                    bytes: answer.bytes,
                    report: !answer.quiet,
                };
                if answer.delay.is_zero() {
                    *room = room.saturating_sub(message_cost(reply.bytes.len()));
                    replies.push(reply);
                } else {
                    let cost = delayed_cost(reply.bytes.len());
                    *room = room.saturating_sub(cost);
                    self.delayed_cost += cost;
                    self.seq += 1;
                    let due = now.checked_add(answer.delay).unwrap_or(now);
                    let owed = self.owed.entry(peer).or_insert(Owed {
                        count: 0,
                        cost: 0,
                        last: due,
                    });
                    owed.count += 1;
                    owed.cost += cost;
                    owed.last = owed.last.max(due);
                    self.delayed.push(Reverse(Delayed {
                        due,
                        seq: self.seq,
                        peer,
                        reply,
                    }));
                }
            }
            Some(Err(error)) => {
                if let Some(hits) = &self.hits {
                    hits.add(error.index);
                }
                outbox.push(EventKind::Automation(AutoEvent::RuleFailed {
                    peer,
                    rule: error.index,
                    problem: error.problem,
                }));
            }
        }
    }

    /// Who may still send to `peer`, half-closed, so that it stays open.
    pub fn answerer(&self, peer: SocketAddr) -> Answerer {
        if self.held.contains_key(&peer) {
            Answerer::Rules
        } else if let Some(owed) = self.owed.get(&peer) {
            Answerer::Delayed(owed.last)
        } else if self.consumer_replies || self.runs.contains_key(&Some(peer)) {
            Answerer::Someone
        } else {
            Answerer::Nobody
        }
    }

    /// What the delayed replies owed to `peer` cost: taken from its queue's room until they are sent.
    pub fn owed_cost(&self, peer: SocketAddr) -> usize {
        self.owed.get(&peer).map_or(0, |owed| owed.cost)
    }

    /// What every delayed reply waiting costs (a datagram session's one queue).
    pub fn delayed_cost(&self) -> usize {
        self.delayed_cost
    }

    /// One of `peer`'s delayed replies left the queue.
    fn paid(&mut self, peer: SocketAddr, cost: usize) {
        if let Some(owed) = self.owed.get_mut(&peer) {
            owed.count -= 1;
            owed.cost -= cost;
            if owed.count == 0 {
                self.owed.remove(&peer);
            }
        }
    }

    /// When the automation turn is due next (`now` when a run has data to look at).
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        let delayed = self.delayed.peek().map(|Reverse(d)| d.due);
        let gaps = match self.framing {
            Framing::Gap(_) => self.framers.values().filter_map(|f| f.framer.deadline()).min(),
            _ => None,
        };
        let runs = self
            .runs
            .values()
            .filter_map(|run| if run.fed { Some(now) } else { run.wake })
            .min();
        [delayed, gaps, runs, self.sweep_at].into_iter().flatten().min()
    }
}

/// Where the automation's turn sends and reports: the worker's context with its transport (`transport.rs`).
pub(super) trait Link {
    fn send(&mut self, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError>;
    /// A rule's reply: its room was counted when it was made, so the queue's bound does not refuse it.
    fn reply(&mut self, to: SocketAddr, reply: Reply) -> Result<(), NetError>;
    fn outbox(&mut self) -> &mut Outbox;
    fn error(&mut self, error: NetError);
}

impl Automation {
    /// The automation's turn: delayed replies due, messages whose gap has passed, script steps. Runs on the worker
    /// after the sockets were served, so data read in this loop is answered in it. The context's automation is a
    /// stand-in meanwhile (see `Ctx::automation_turn`).
    pub(super) fn turn(&mut self, link: &mut dyn Link, now: Instant) {
        while self.delayed.peek().is_some_and(|Reverse(d)| d.due <= now) {
            let Some(Reverse(delayed)) = self.delayed.pop() else {
                break;
            };
            let cost = delayed_cost(delayed.reply.bytes.len());
            self.delayed_cost -= cost;
            self.paid(delayed.peer, cost);
            if let Err(e) = link.reply(delayed.peer, delayed.reply) {
                link.error(e);
            }
        }
        if matches!(self.framing, Framing::Gap(_)) {
            let mut ended = Vec::new();
            for (&peer, framer) in &mut self.framers {
                if let Some(message) = framer.framer.expire(now) {
                    self.partial -= message.bytes.len();
                    ended.push((peer, message.bytes));
                }
            }
            for (peer, message) in ended {
                self.ended_message(link, peer, &message, now);
            }
        }
        if self.sweep_at.is_some_and(|at| at <= now) {
            self.sweep(link, now);
        }
        let due: Vec<Option<SocketAddr>> = self
            .runs
            .iter()
            .filter(|(_, run)| run.fed || run.wake.is_some_and(|at| at <= now))
            .map(|(&peer, _)| peer)
            .collect();
        for peer in due {
            if let Some(mut run) = self.runs.remove(&peer)
                && advance(link, peer, &mut run, now)
            {
                self.runs.insert(peer, run);
            }
        }
    }

    /// A message that ended by time (its gap passed, its datagram peer went idle): out, and answered.
    fn ended_message(&mut self, link: &mut dyn Link, peer: SocketAddr, message: &[u8], now: Instant) {
        let mut replies = Vec::new();
        let outbox = link.outbox();
        outbox.count_message();
        outbox.push_received(peer, message, false);
        // Answered whatever room is left: one message per peer and turn at most.
        let mut room = usize::MAX;
        self.message(peer, message, now, outbox, &mut replies, &mut room);
        for reply in replies {
            if let Err(e) = link.reply(peer, reply) {
                link.error(e);
            }
        }
    }

    /// Datagram peers idle for `peer_idle`: their framers go, what they held comes out.
    fn sweep(&mut self, link: &mut dyn Link, now: Instant) {
        let Some(idle) = self.peer_idle else { return };
        let idle_ones: Vec<SocketAddr> = (self.framers.iter())
            .filter(|(_, f)| f.seen + idle <= now)
            .map(|(&peer, _)| peer)
            .collect();
        let held = self.partial;
        for peer in idle_ones {
            if let Some(message) = self.take_framer(peer).and_then(|mut f| f.framer.finish()) {
                self.ended_message(link, peer, &message.bytes, now);
            }
        }
        self.sweep_at = self.framers.values().map(|f| f.seen + idle).min();
        // Thousands of sources' partial messages are megabytes glibc would otherwise keep; the map's too.
        if self.framers.is_empty() {
            self.framers.shrink_to_fit();
        }
        if held - self.partial >= MAX_MESSAGE || (self.framers.is_empty() && held > self.partial) {
            crate::memory::return_free_memory();
        }
    }

    /// A stand-in's peers that left during a turn, told to the automation it stood in for.
    pub(super) fn hand_over_gone(self, to: &mut Automation, outbox: &mut Outbox) {
        for peer in self.gone {
            to.peer_left(peer, outbox);
        }
    }
}

/// Drives one run as far as it goes now; `false` once it has ended.
fn advance(link: &mut dyn Link, peer: Option<SocketAddr>, run: &mut ScriptRun, now: Instant) -> bool {
    run.fed = false;
    run.wake = None;
    let to = peer.map_or(Target::Default, Target::Peer);
    for action in run.run.advance(now) {
        match action {
            Action::Send(bytes) => {
                if let Err(e) = link.send(to, bytes.into(), true) {
                    link.error(e);
                    report_done(link.outbox(), peer, &mut run.run);
                    fail(peer, &mut run.run, now, link.outbox());
                    return false;
                }
            }
            Action::WaitUntil(at) => run.wake = Some(at),
            ended @ (Action::Passed | Action::Failed(_)) => {
                report_end(link.outbox(), peer, &mut run.run, ended, now);
                return false;
            }
        }
    }
    report_done(link.outbox(), peer, &mut run.run);
    true
}

/// A run whose peer left: what it had received still counts (a server that answers and closes passes the
/// expect), but it cannot send or wait any more.
fn finish_without_peer(peer: Option<SocketAddr>, run: &mut ScriptRun, now: Instant, outbox: &mut Outbox) {
    let actions = if run.fed { run.run.advance(now) } else { Vec::new() };
    match actions
        .into_iter()
        .find(|action| !matches!(action, Action::WaitUntil(_)))
    {
        Some(ended @ (Action::Passed | Action::Failed(_))) => report_end(outbox, peer, &mut run.run, ended, now),
        // A send it can no longer make, or a wait that nothing can end now.
        _ => {
            report_done(outbox, peer, &mut run.run);
            fail(peer, &mut run.run, now, outbox);
        }
    }
}

fn auto_event(outbox: &mut Outbox, event: AutoEvent) {
    outbox.push(EventKind::Automation(event));
}

/// The steps done since the last report.
fn report_done(outbox: &mut Outbox, peer: Option<SocketAddr>, run: &mut Run) {
    for done in run.take_done() {
        auto_event(
            outbox,
            AutoEvent::Step {
                peer,
                round: done.round,
                step: done.step,
                elapsed: done.elapsed,
                outcome: StepOutcome::Passed,
            },
        );
    }
}

/// The steps done, then how the run ended (`Passed`, or `Failed` with its step's failure).
fn report_end(outbox: &mut Outbox, peer: Option<SocketAddr>, run: &mut Run, ended: Action, now: Instant) {
    report_done(outbox, peer, run);
    let end = match ended {
        Action::Failed(failure) => {
            let end = ScriptEnd::Failed {
                step: failure.step,
                round: failure.round,
            };
            report_failure(outbox, peer, failure.step, failure.round, run, now, failure.received);
            end
        }
        _ => ScriptEnd::Passed,
    };
    auto_event(outbox, AutoEvent::ScriptEnded { peer, end });
}

fn report_failure(
    outbox: &mut Outbox,
    peer: Option<SocketAddr>,
    step: usize,
    round: u64,
    run: &Run,
    now: Instant,
    received: Vec<u8>,
) {
    auto_event(
        outbox,
        AutoEvent::Step {
            peer,
            round,
            step,
            elapsed: now.saturating_duration_since(run.began()),
            outcome: StepOutcome::Failed { received },
        },
    );
}

/// A run that cannot go on (its peer left, a send failed): its current step fails with what it had received.
fn fail(peer: Option<SocketAddr>, run: &mut Run, now: Instant, outbox: &mut Outbox) {
    let (step, round) = (run.step(), run.round());
    let received = run.take_received();
    report_failure(outbox, peer, step, round, run, now, received);
    auto_event(
        outbox,
        AutoEvent::ScriptEnded {
            peer,
            end: ScriptEnd::Failed { step, round },
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::text::TextEncoding;
    use crate::net::transport::Ctx;

    /// Where a turn sends: replies are kept, the rest goes nowhere.
    struct Sink {
        outbox: Outbox,
        replies: Vec<(SocketAddr, Reply)>,
    }

    impl Link for Sink {
        fn send(&mut self, _to: Target, _bytes: Bytes, _report: bool) -> Result<(), NetError> {
            Ok(())
        }
        fn reply(&mut self, to: SocketAddr, reply: Reply) -> Result<(), NetError> {
            self.replies.push((to, reply));
            Ok(())
        }
        fn outbox(&mut self) -> &mut Outbox {
            &mut self.outbox
        }
        fn error(&mut self, error: NetError) {
            panic!("{error}");
        }
    }

    fn echo_on_lines() -> Automation {
        Automation::new(Framing::Line, None, true, true, false)
    }

    fn peer(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// Finding 7: a UDP source that sent half a line and went quiet does not hold it for ever.
    #[test]
    fn a_datagram_peer_gone_idle_takes_its_partial_message_with_it() {
        let (ctx, _events, _poll) = Ctx::for_test();
        let mut sink = Sink {
            outbox: ctx.outbox,
            replies: Vec::new(),
        };
        let mut auto = echo_on_lines();
        auto.forget_idle_peers(DATAGRAM_PEER_IDLE);
        let start = Instant::now();
        assert!(
            auto.received(peer(1), b"half a ", false, &mut sink.outbox, usize::MAX)
                .is_empty()
        );
        assert_eq!((auto.framers.len(), auto.partial), (1, 7));
        auto.turn(&mut sink, start + DATAGRAM_PEER_IDLE / 2);
        assert_eq!(auto.framers.len(), 1, "not idle yet");
        let idle = auto.deadline(start).expect("a sweep is due");
        auto.turn(&mut sink, idle + Duration::from_millis(1));
        assert_eq!((auto.framers.len(), auto.partial, auto.sweep_at), (0, 0, None));
        assert_eq!(sink.replies.len(), 1, "what it held came out, and was answered");
        assert_eq!(&*sink.replies[0].1.bytes, b"half a ");
    }

    /// Finding 7: past the total, a peer's partial message comes out in parts of what it may hold.
    #[test]
    fn partial_messages_share_one_total() {
        let (ctx, _events, _poll) = Ctx::for_test();
        let mut outbox = ctx.outbox;
        let mut auto = echo_on_lines();
        let big = vec![b'z'; MAX_PARTIAL_TOTAL / 2 - 1];
        for port in [1, 2] {
            assert!(
                auto.received(peer(port), &big, true, &mut outbox, usize::MAX)
                    .is_empty()
            );
        }
        let replies = auto.received(peer(3), &[b'y'; 3 * MIN_PARTIAL], true, &mut outbox, usize::MAX);
        assert!(!replies.is_empty(), "the third peer's part came out");
        assert!(auto.partial <= MAX_PARTIAL_TOTAL, "{}", auto.partial);
    }

    /// Finding 15: a TCP peer that leaves takes every piece of its state with it.
    #[test]
    fn a_peer_that_leaves_takes_its_state_with_it() {
        let (ctx, _events, _poll) = Ctx::for_test();
        let mut outbox = ctx.outbox;
        let rules = Rules::parse(
            "[[rule]]\nmatch = \"x\"\nreply = \"later\"\ndelay_ms = 60000\n",
            TextEncoding::UTF8,
        );
        let mut auto = Automation::new(Framing::Line, Some(rules.expect("rules")), false, true, false);
        auto.run_script(
            Arc::new(Script::parse("[[step]]\nexpect = \"never\"\n", TextEncoding::UTF8).expect("script")),
            ScriptScope::EachClient,
            &[peer(1)],
            Vec::new(),
            &mut outbox,
        );
        // Room for one delayed reply: the second line is held, and the third line is half a line.
        let replies = auto.received(peer(1), b"x\nx\nhalf", true, &mut outbox, 1);
        assert!(replies.is_empty());
        assert!(auto.holds(peer(1)) && auto.owed_cost(peer(1)) > 0 && auto.partial == 4);
        auto.peer_left(peer(1), &mut outbox);
        assert!(auto.framers.is_empty() && auto.held.is_empty() && auto.owed.is_empty() && auto.runs.is_empty());
        assert!(auto.delayed.is_empty());
        assert_eq!((auto.partial, auto.delayed_cost), (0, 0));
    }
}
