//! Automation inside the worker, on the bytes as read: each peer's stream cut into messages, the auto-reply rules
//! (with `--echo` as a built-in one) answering every message, and send/expect scripts. Nothing here waits for the
//! consumer; replies due now go out from the read itself, delayed replies, gap-ended messages and script steps at
//! the worker's automation turn (`turn`), which the poll's timeout keeps on time.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use super::caps::ScriptScope;
use super::message::RuleHits;
use super::outbox::Outbox;
use super::{AutoEvent, Bytes, EventKind, NetError, ScriptEnd, StepOutcome, Target};
use crate::automation::problem::ReplyProblem;
use crate::automation::rules::{Context, Rules};
use crate::automation::script::{Action, Run, Script};
use crate::codec::framing::{Framer, Framing};

/// Delayed replies waiting in all, in bytes: past this a rule's delayed reply is refused (and reported), so a
/// flood of requests with a long delay cannot hold memory without bound.
const MAX_DELAYED_BYTES: usize = 16 * 1024 * 1024;

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
    /// When the last of them is due (they leave the queue in order, so this holds until the count is 0).
    last: Instant,
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
    framers: HashMap<SocketAddr, Framer>,
    rules: Option<Rules>,
    echo: bool,
    hits: Option<Arc<RuleHits>>,
    delayed: BinaryHeap<Reverse<Delayed>>,
    delayed_bytes: usize,
    /// Per peer, what `delayed` holds for it: a half-closed peer is kept open until the last of them is written.
    owed: HashMap<SocketAddr, Owed>,
    seq: u64,
    script: Option<Arc<Script>>,
    /// A `Once` script waiting for its connection.
    script_waiting: bool,
    runs: HashMap<Option<SocketAddr>, ScriptRun>,
    /// `false` for the stand-in `turn` leaves in the context while it has the real one out.
    real: bool,
    /// Peers that left while the real state was out (this is its stand-in): told to it afterwards.
    gone: Vec<SocketAddr>,
}

impl Automation {
    pub fn new(framing: Framing, rules: Option<Rules>, echo: bool, show_messages: bool) -> Automation {
        Automation {
            framing,
            show_messages,
            echo,
            real: true,
            ..Automation::default()
        }
        .with_rules(rules)
    }

    fn with_rules(mut self, rules: Option<Rules>) -> Automation {
        self.set_rules_quietly(rules);
        self
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
        for (peer, mut framer) in std::mem::take(&mut self.framers) {
            if let Some(message) = framer.finish() {
                outbox.count_message();
                outbox.push_received(peer, &message.bytes, false);
            }
        }
    }

    /// Bytes from `peer` (already counted and captured): handed to the consumer (one event per message when
    /// framed), answered by the rules and fed to the peer's script. Returns the replies due now.
    pub fn received(&mut self, peer: SocketAddr, data: &[u8], coalesce: bool, outbox: &mut Outbox) -> Vec<Reply> {
        let mut replies = Vec::new();
        let now = Instant::now();
        if !self.cuts() {
            outbox.push_received(peer, data, coalesce);
            self.message(peer, data, now, outbox, &mut replies);
            return replies;
        }
        // Out of the map while it hands out messages, which the rest of `self` answers.
        let mut framer = (self.framers.remove(&peer)).unwrap_or_else(|| Framer::new(self.framing.clone()));
        framer.push_with(data, now, |message, _, _| {
            outbox.count_message();
            outbox.push_received(peer, message, false);
            self.message(peer, message, now, outbox, &mut replies);
        });
        self.framers.insert(peer, framer);
        replies
    }

    /// A peer's stream ended (it half-closed, or left): its unfinished message comes out, and is answered if the
    /// peer can still take a reply.
    pub fn stream_ended(&mut self, peer: SocketAddr, outbox: &mut Outbox) -> Vec<Reply> {
        let mut replies = Vec::new();
        if let Some(message) = self.framers.remove(&peer).and_then(|mut framer| framer.finish()) {
            outbox.count_message();
            outbox.push_received(peer, &message.bytes, false);
            self.message(peer, &message.bytes, Instant::now(), outbox, &mut replies);
        }
        replies
    }

    /// A TCP peer left: its message so far comes out, its delayed replies and script run end.
    pub fn peer_left(&mut self, peer: SocketAddr, outbox: &mut Outbox) {
        if !self.real {
            self.gone.push(peer);
            return;
        }
        self.stream_ended(peer, outbox);
        if self.owed.remove(&peer).is_some() {
            self.delayed.retain(|Reverse(delayed)| delayed.peer != peer);
            self.delayed_bytes = self.delayed.iter().map(|Reverse(d)| d.reply.bytes.len()).sum();
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
            run: Run::new(script.clone(), Instant::now()),
            fed: false,
            // Its first steps go at the next turn, in this same loop.
            wake: Some(Instant::now()),
        };
        self.runs.insert(peer, run);
    }

    /// One message: the first matching rule answers it; the peer's script sees it.
    fn message(&mut self, peer: SocketAddr, bytes: &[u8], now: Instant, outbox: &mut Outbox, replies: &mut Vec<Reply>) {
        if let Some(rules) = &mut self.rules {
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
                        replies.push(reply);
                    } else if self.delayed_bytes + reply.bytes.len() > MAX_DELAYED_BYTES {
                        outbox.push(EventKind::Automation(AutoEvent::RuleFailed {
                            peer,
                            rule: answer.rule,
                            problem: ReplyProblem::DelayedFull {
                                limit: MAX_DELAYED_BYTES,
                            },
                        }));
                    } else {
                        self.delayed_bytes += reply.bytes.len();
                        self.seq += 1;
                        let due = now.checked_add(answer.delay).unwrap_or(now);
                        let owed = self.owed.entry(peer).or_insert(Owed { count: 0, last: due });
                        owed.count += 1;
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

    /// When the last delayed reply owed to `peer` is due, if one is.
    pub fn owes(&self, peer: SocketAddr) -> Option<Instant> {
        self.owed.get(&peer).map(|owed| owed.last)
    }

    /// One of `peer`'s delayed replies left the queue.
    fn paid(&mut self, peer: SocketAddr) {
        if let Some(owed) = self.owed.get_mut(&peer) {
            owed.count -= 1;
            if owed.count == 0 {
                self.owed.remove(&peer);
            }
        }
    }

    /// When the automation turn is due next (`now` when a run has data to look at).
    pub fn deadline(&self, now: Instant) -> Option<Instant> {
        let delayed = self.delayed.peek().map(|Reverse(d)| d.due);
        let gaps = match self.framing {
            Framing::Gap(_) => self.framers.values().filter_map(Framer::deadline).min(),
            _ => None,
        };
        let runs = self
            .runs
            .values()
            .filter_map(|run| if run.fed { Some(now) } else { run.wake })
            .min();
        [delayed, gaps, runs].into_iter().flatten().min()
    }
}

/// Where the automation's turn sends and reports: the worker's context with its transport (`transport.rs`).
pub(super) trait Link {
    fn send(&mut self, to: Target, bytes: Bytes, report: bool) -> Result<(), NetError>;
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
            self.delayed_bytes -= delayed.reply.bytes.len();
            self.paid(delayed.peer);
            let reply = delayed.reply;
            if let Err(e) = link.send(Target::Peer(delayed.peer), reply.bytes, reply.report) {
                link.error(e);
            }
        }
        if matches!(self.framing, Framing::Gap(_)) {
            let mut ended = Vec::new();
            for (&peer, framer) in &mut self.framers {
                if let Some(message) = framer.expire(now) {
                    ended.push((peer, message));
                }
            }
            for (peer, message) in ended {
                let mut replies = Vec::new();
                let outbox = link.outbox();
                outbox.count_message();
                outbox.push_received(peer, &message.bytes, false);
                self.message(peer, &message.bytes, now, outbox, &mut replies);
                for reply in replies {
                    if let Err(e) = link.send(Target::Peer(peer), reply.bytes, reply.report) {
                        link.error(e);
                    }
                }
            }
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
