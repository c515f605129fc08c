//! A tab's automation at run time: the framing, rules and script its session runs, the rules' live hit counts and
//! each script run's steps, folded from the engine's `Automation` events. Nothing here is saved; what the user
//! edits is in `TabConfig`.
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::automation::problem::ReplyProblem;
use crate::automation::rules::{RuleSpec, Rules, RulesError};
use crate::automation::script::{Script, ScriptError, ScriptSpec};
use crate::codec::escape::escape_controls;
use crate::codec::framing::Framing;
use crate::codec::text::TextEncoding;
use crate::gui::i18n::Notice;
use crate::net::{AutoEvent, RuleHits, ScriptEnd, StepOutcome};

/// Script runs kept for the panel (a server runs one per client): the oldest goes first.
const MAX_RUNS: usize = 32;
/// What a failed step keeps of the bytes that did arrive (the newest), for the panel.
pub const MAX_RECEIVED_SHOWN: usize = 4096;

/// The rules as edited, checked by the command line's own code (kept until the table or encoding changes).
struct RulesCheck {
    /// The rules, the encoding, and whether the session passes messages on (a relay).
    key: (Vec<RuleSpec>, TextEncoding, bool),
    result: Result<Rules, RulesError>,
}

struct ScriptCheck {
    key: (ScriptSpec, TextEncoding),
    result: Result<Arc<Script>, ScriptError>,
}

/// How one step of a run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepResult {
    Waiting,
    Passed(Duration),
    Failed {
        elapsed: Duration,
        /// The newest `MAX_RECEIVED_SHOWN` bytes of what arrived instead.
        received: Vec<u8>,
        /// How many arrived in all.
        received_len: usize,
    },
}

/// One run of the script against one peer (`None`: a UDP session's remote).
#[derive(Debug, Clone)]
pub struct PeerRun {
    pub peer: Option<SocketAddr>,
    /// 1-based.
    pub round: u64,
    pub steps: Vec<StepResult>,
    /// `None` while it runs.
    pub end: Option<ScriptEnd>,
}

/// Rules from a file as the table edits them: control characters (a TOML "\r\n" is those two characters) become
/// escapes meaning the same bytes, so a one-line field shows them.
pub fn editable_rules(mut specs: Vec<RuleSpec>) -> Vec<RuleSpec> {
    for spec in &mut specs {
        for text in [&mut spec.match_text, &mut spec.match_regex, &mut spec.reply]
            .into_iter()
            .flatten()
        {
            *text = escape_controls(text);
        }
    }
    specs
}

/// A script from a file as the table edits it (see `editable_rules`).
pub fn editable_script(mut script: ScriptSpec) -> ScriptSpec {
    for step in &mut script.steps {
        for text in [&mut step.send, &mut step.expect, &mut step.expect_regex]
            .into_iter()
            .flatten()
        {
            *text = escape_controls(text);
        }
    }
    script
}

#[derive(Default)]
pub struct AutoState {
    /// The framing the session cuts with (the last the fields described validly).
    framing: Framing,
    rules_check: Option<RulesCheck>,
    /// Rules handed to the session, oldest first, each waiting for the event that carries its counts.
    rules_sent: VecDeque<Vec<RuleSpec>>,
    /// The rules in force and their live hit counts.
    in_force: Option<(Vec<RuleSpec>, Arc<RuleHits>)>,
    /// The last reply a rule could not make: to whom, the rule (0-based) and why.
    rule_failed: Option<(SocketAddr, usize, ReplyProblem)>,
    script_check: Option<ScriptCheck>,
    /// The script last run, as it was then (results are shown while the table still says the same).
    ran: Option<ScriptSpec>,
    /// Run was asked for and not stopped: a server runs it for each client that joins.
    armed: bool,
    /// Latest last.
    runs: VecDeque<PeerRun>,
    /// The run on show: `None` follows the latest.
    shown_peer: Option<Option<SocketAddr>>,
    /// Why the last import was refused.
    import_error: Option<Notice>,
    /// Run before Open (or the command line's `--script`): run it from the next Open.
    run_at_open: bool,
    /// The script running started with the session (else later: fed what had arrived since Open).
    from_open: bool,
}

impl AutoState {
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Takes the fields' framing when it is valid; `true` when it changed.
    pub(crate) fn take_framing(&mut self, framing: Framing) -> bool {
        let changed = self.framing != framing;
        self.framing = framing;
        changed
    }

    /// Checks the table and the script as edited; cheap while neither changed. Where the session does not pass
    /// messages on (`forwards`), a relay's direction or action is refused, as the command line refuses it.
    pub(crate) fn check(&mut self, rules: &[RuleSpec], script: &ScriptSpec, encoding: TextEncoding, forwards: bool) {
        if !self
            .rules_check
            .as_ref()
            .is_some_and(|check| check.key.1 == encoding && check.key.2 == forwards && check.key.0 == rules)
        {
            let result = Rules::from_specs(rules.to_vec(), encoding).and_then(|checked| match forwards {
                true => Ok(checked),
                false => checked.refuse_forwarding().map(|()| checked),
            });
            self.rules_check = Some(RulesCheck {
                result,
                key: (rules.to_vec(), encoding, forwards),
            });
        }
        if !self
            .script_check
            .as_ref()
            .is_some_and(|check| check.key.1 == encoding && check.key.0 == *script)
        {
            self.script_check = Some(ScriptCheck {
                result: Script::from_spec(script, encoding).map(Arc::new),
                key: (script.clone(), encoding),
            });
        }
    }

    /// Why the rules table cannot be applied (the first problem, naming its rule).
    pub fn rules_problem(&self) -> Option<&RulesError> {
        self.rules_check.as_ref().and_then(|check| check.result.as_ref().err())
    }

    pub fn script_problem(&self) -> Option<&ScriptError> {
        self.script_check.as_ref().and_then(|check| check.result.as_ref().err())
    }

    /// The checked rules (`None` for an empty table), to hand to a session; `Err` while any rule is invalid.
    pub(crate) fn rules(&self) -> Result<Option<Rules>, ()> {
        match self.rules_check.as_ref().map(|check| &check.result) {
            Some(Ok(rules)) if rules.is_empty() => Ok(None),
            Some(Ok(rules)) => Ok(Some(rules.clone())),
            Some(Err(_)) => Err(()),
            None => Ok(None),
        }
    }

    pub(crate) fn script(&self) -> Option<Arc<Script>> {
        self.script_check
            .as_ref()
            .and_then(|check| check.result.as_ref().ok().cloned())
    }

    /// Rules handed to the session: their counts come with the engine's answer.
    pub(crate) fn rules_sent(&mut self, specs: Vec<RuleSpec>) {
        self.rules_sent.push_back(specs);
    }

    /// The table's rules are the ones in force (an empty table: none are).
    pub fn applied(&self, rules: &[RuleSpec]) -> bool {
        match &self.in_force {
            Some((specs, _)) => specs == rules,
            None => rules.is_empty(),
        }
    }

    /// Messages rule `index` answered, while the table's row is the rule in force there.
    pub fn hits(&self, index: usize, spec: &RuleSpec) -> Option<u64> {
        let (specs, hits) = self.in_force.as_ref()?;
        (specs.get(index) == Some(spec)).then(|| hits.get(index))
    }

    pub fn rule_failed(&self) -> Option<(SocketAddr, usize, &ReplyProblem)> {
        self.rule_failed
            .as_ref()
            .map(|(peer, rule, problem)| (*peer, *rule, problem))
    }

    pub fn import_error(&self) -> Option<&Notice> {
        self.import_error.as_ref()
    }

    pub(crate) fn set_import_error(&mut self, error: Option<Notice>) {
        self.import_error = error;
    }

    pub(crate) fn set_run_at_open(&mut self, run: bool) {
        self.run_at_open = run;
    }

    pub fn run_at_open(&self) -> bool {
        self.run_at_open
    }

    /// Run was asked for (`from_open`: with the session): results start afresh.
    pub(crate) fn script_started(&mut self, spec: ScriptSpec, from_open: bool) {
        self.ran = Some(spec);
        self.from_open = from_open;
        self.armed = true;
        self.runs.clear();
        self.shown_peer = None;
    }

    pub(crate) fn script_stopped(&mut self) {
        self.armed = false;
    }

    /// The script running started with the session, so its expects see everything from the first byte.
    pub fn from_open(&self) -> bool {
        self.from_open
    }

    /// The script runs, or waits for clients to run for.
    pub fn script_running(&self) -> bool {
        self.armed || self.runs.iter().any(|run| run.end.is_none())
    }

    /// Run is on but no run is going (a server waiting for its next client).
    pub fn waiting_for_peer(&self) -> bool {
        self.armed && self.runs.iter().all(|run| run.end.is_some())
    }

    /// The script the results belong to.
    pub fn ran(&self) -> Option<&ScriptSpec> {
        self.ran.as_ref()
    }

    /// The peers with a run, oldest first.
    pub fn run_peers(&self) -> impl Iterator<Item = Option<SocketAddr>> + '_ {
        self.runs.iter().map(|run| run.peer)
    }

    pub fn shown_peer(&self) -> Option<Option<SocketAddr>> {
        self.shown_peer
    }

    pub(crate) fn show_peer(&mut self, peer: Option<Option<SocketAddr>>) {
        self.shown_peer = peer;
    }

    /// The run on show: the chosen peer's, else the latest.
    pub fn shown_run(&self) -> Option<&PeerRun> {
        match self.shown_peer {
            Some(peer) => self.runs.iter().rev().find(|run| run.peer == peer),
            None => self.runs.back(),
        }
    }

    /// The session ended: nothing is in force, nothing runs.
    pub(crate) fn closed(&mut self) {
        self.rules_sent.clear();
        self.in_force = None;
        self.armed = false;
        for run in &mut self.runs {
            run.end.get_or_insert(ScriptEnd::Stopped);
        }
    }

    /// Folds one automation event; `once`: the script runs once (not a server's run per client).
    pub(crate) fn handle(&mut self, event: AutoEvent, once: bool) {
        match event {
            AutoEvent::Rules { hits } => {
                let specs = self.rules_sent.pop_front().unwrap_or_default();
                self.in_force = (!specs.is_empty()).then_some((specs, hits));
                self.rule_failed = None;
            }
            AutoEvent::RuleFailed { peer, rule, problem } => {
                self.rule_failed = Some((peer, rule, problem));
            }
            AutoEvent::ScriptStarted { peer, steps } => {
                self.runs.retain(|run| run.peer != peer);
                if self.runs.len() >= MAX_RUNS {
                    self.runs.pop_front();
                }
                self.runs.push_back(PeerRun {
                    peer,
                    round: 1,
                    steps: vec![StepResult::Waiting; steps],
                    end: None,
                });
            }
            AutoEvent::Step {
                peer,
                round,
                step,
                elapsed,
                outcome,
            } => {
                let Some(run) = self.runs.iter_mut().rev().find(|run| run.peer == peer) else {
                    return;
                };
                if run.round != round {
                    run.round = round;
                    run.steps.fill(StepResult::Waiting);
                }
                let result = match outcome {
                    StepOutcome::Passed => StepResult::Passed(elapsed),
                    StepOutcome::Failed { received } => StepResult::Failed {
                        elapsed,
                        received_len: received.len(),
                        received: received[received.len().saturating_sub(MAX_RECEIVED_SHOWN)..].to_vec(),
                    },
                };
                if let Some(slot) = run.steps.get_mut(step) {
                    *slot = result;
                }
            }
            AutoEvent::ScriptEnded { peer, end } => {
                if let Some(run) = self.runs.iter_mut().rev().find(|run| run.peer == peer) {
                    run.end = Some(end);
                }
                if once {
                    self.armed = false;
                }
            }
        }
    }
}
