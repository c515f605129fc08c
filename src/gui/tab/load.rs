//! A load test tab's runtime: the run (started on a thread of its own, since the target may need resolving and
//! the file limit checking), its progress series for the plots (bounded), and the report once it ends.
use std::collections::VecDeque;
use std::time::Duration;

use crossbeam_channel::Receiver;

use crate::cli::load::form_args;
use crate::net::load::{LoadRun, Report, Snapshot};
use crate::settings::load::{LoadField, LoadForm};

use super::off_thread::start_off_thread;

/// Snapshots kept for the plots: ten minutes at one a second; older ones fall off.
pub const SERIES: usize = 600;

/// How often the window looks at a running load without input: Stop and the end show within this.
const POLL: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Idle,
    Starting,
    Running,
    Finished,
}

/// Why a run did not start: the message, and the form's field it is about (`None`: the run as a whole).
type StartError = (Option<LoadField>, String);

#[derive(Default)]
pub struct LoadState {
    starting: Option<Receiver<Result<LoadRun, StartError>>>,
    run: Option<LoadRun>,
    /// Stop was clicked while the run was still starting: it stops as soon as it exists.
    stop_asked: bool,
    series: VecDeque<Snapshot>,
    report: Option<Report>,
    /// The report's latency histogram as the run's thread bucketed it: (upper bound in ms, replies).
    buckets: Vec<(f64, u64)>,
    /// The fields' messages from the last Start.
    field_errors: Vec<(LoadField, String)>,
    /// Why the last run could not start or ended badly.
    error: Option<String>,
}

impl LoadState {
    pub fn phase(&self) -> Phase {
        match (&self.starting, &self.run, &self.report) {
            (Some(_), _, _) => Phase::Starting,
            (None, Some(_), _) => Phase::Running,
            (None, None, Some(_)) => Phase::Finished,
            (None, None, None) => Phase::Idle,
        }
    }

    pub fn series(&self) -> &VecDeque<Snapshot> {
        &self.series
    }

    pub fn report(&self) -> Option<&Report> {
        self.report.as_ref()
    }

    pub fn buckets(&self) -> &[(f64, u64)] {
        &self.buckets
    }

    pub fn field_error(&self, field: LoadField) -> Option<&str> {
        let found = self.field_errors.iter().find(|(f, _)| *f == field);
        found.map(|(_, message)| message.as_str())
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Checks the form on this thread (nothing starts when a field is bad), then resolves the target, reads the
    /// send-file and starts on another (whose errors are shown at their field too).
    pub fn start(&mut self, form: &LoadForm, repaint: egui::Context) {
        if self.phase() == Phase::Starting || self.phase() == Phase::Running {
            return;
        }
        self.error = None;
        let (protocol, args) = match form_args(form) {
            Ok(args) => args,
            Err(errors) => {
                self.field_errors = errors;
                return;
            }
        };
        self.field_errors.clear();
        let start = move || {
            let config = args
                .config_by_field(protocol)
                .map_err(|(field, error)| (field, error.to_string()));
            config.and_then(|config| LoadRun::start(config).map_err(|error| (None, error.to_string())))
        };
        match start_off_thread("wirepad-load-start", repaint, start, |run| run.stop()) {
            Ok(rx) => {
                self.series.clear();
                self.report = None;
                self.buckets.clear();
                self.stop_asked = false;
                self.starting = Some(rx);
            }
            Err(error) => self.error = Some(format!("cannot start the load thread: {error}")),
        }
    }

    pub fn stop(&mut self) {
        self.stop_asked = true;
        if let Some(run) = &self.run {
            run.stop();
        }
    }

    /// A frame's bookkeeping, shown or not: the started run taken, its snapshots, and its report once it ends.
    pub fn logic(&mut self, repaint: &egui::Context) {
        self.take_started();
        let Some(run) = &self.run else {
            if self.starting.is_some() {
                repaint.request_repaint_after(POLL);
            }
            return;
        };
        for snapshot in run.progress.try_iter() {
            if self.series.len() == SERIES {
                self.series.pop_front();
            }
            self.series.push_back(snapshot);
        }
        if !run.is_finished() {
            repaint.request_repaint_after(POLL);
            return;
        }
        // Its thread has ended, so this join does not wait.
        match self.run.take().map(LoadRun::finish) {
            Some(Ok(finished)) => {
                self.buckets = finished.latency_buckets;
                self.report = Some(finished.report);
            }
            Some(Err(error)) => self.error = Some(error.to_string()),
            None => {}
        }
    }

    fn take_started(&mut self) {
        let Some(result) = self.starting.as_ref().and_then(|rx| rx.try_recv().ok()) else {
            return;
        };
        self.starting = None;
        match result {
            Ok(run) => {
                if self.stop_asked {
                    run.stop();
                }
                self.run = Some(run);
            }
            Err((Some(field), error)) => self.field_errors = vec![(field, error)],
            Err((None, error)) => self.error = Some(error),
        }
    }
}

impl Drop for LoadState {
    /// A closed tab's run stops (within 100 ms) on its own thread; nobody waits for it.
    fn drop(&mut self) {
        self.take_started();
        self.stop();
    }
}
