//! What the window and the command line share about a session: how it is described (`spec`) and what its
//! events add up to (`state`). No window and no printing here: `session` uses `net` and `codec` only.
pub mod spec;
pub mod state;

pub use spec::{Endpoint, ModeKind};
pub use state::{LinkState, SessionState};
