//! The find bar: searches of the view's history, run on a thread of their own as the pattern or the view changes.
use std::time::{Duration, Instant};

use crate::export::find::Batch;

use super::{FindAction, Picked, Tab};

impl Tab {
    pub(super) fn find(&mut self, action: FindAction) {
        let find = &mut self.state.find;
        match action {
            FindAction::Open => {
                find.open();
                self.update_find();
            }
            FindAction::Close => find.close(),
            FindAction::Next => find.step(true),
            FindAction::Previous => find.step(false),
        }
    }

    /// Starts a search over the view's history when the find bar's pattern or the view changed. A view still
    /// laying out the history (a flood, a new width) is searched as far as it got, the rest as it gets there:
    /// waiting for it to catch up kept the first match back for seconds under load.
    pub(super) fn update_find(&mut self) {
        if !self.state.find.open {
            return;
        }
        let state = &mut self.state;
        let started = match state.find.restart(&self.config.find, &state.view) {
            Some(started) => started,
            None => match state.find.more(&state.view) {
                Some(started) => started,
                None => {
                    if let Some(due) = state.find.more_due(&state.view) {
                        state
                            .repaint
                            .request_repaint_after(due.saturating_duration_since(Instant::now()));
                    }
                    return;
                }
            },
        };
        let snapshot = state.view.snapshot_since(started.since);
        let id = self.id;
        let _ = self.background_streaming("wirepad-find", move |deliver| {
            let generation = started.generation;
            crate::export::find::run(
                started.query,
                snapshot.numbered(),
                Duration::from_millis(50),
                || started.cancelled.load(std::sync::atomic::Ordering::Relaxed) != generation,
                |batch| deliver(Picked::Found(id, generation, batch)),
            );
        });
    }

    /// Matches of this tab's search came back.
    pub fn found(&mut self, generation: u64, batch: Batch) {
        self.state.find.found(generation, batch);
    }
}
