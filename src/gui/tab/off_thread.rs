//! What may wait (resolving a name, reading a certificate or a file) starts off the UI thread.
use crossbeam_channel::{Receiver, SendError, bounded};

/// Runs `start` on a thread named `name`; its result comes on the receiver, and the window is repainted to take
/// it. If nobody waits for it any more by then (Close, or the tab went away), what it started is handed to
/// `unwanted` (which stops it) rather than left running unseen.
pub(super) fn start_off_thread<T, E>(
    name: &str,
    repaint: egui::Context,
    start: impl FnOnce() -> Result<T, E> + Send + 'static,
    unwanted: fn(T),
) -> std::io::Result<Receiver<Result<T, E>>>
where
    T: Send + 'static,
    E: Send + 'static,
{
    let (sender, receiver) = bounded(1);
    std::thread::Builder::new().name(name.into()).spawn(move || {
        if let Err(SendError(Ok(started))) = sender.send(start()) {
            unwanted(started);
        }
        repaint.request_repaint();
    })?;
    Ok(receiver)
}
