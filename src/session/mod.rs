//! What the window and the command line share about a session: how it is described (`spec`), what its events
//! add up to (`state`), its throughput history (`stats`), and a session the command line hands to the window
//! (`launch`). No window and no printing here.
pub mod launch;
pub mod pairs;
pub mod spec;
pub mod state;
pub mod stats;

pub use state::{LinkState, SessionState};
