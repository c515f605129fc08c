//! Pure conversions between what a user types or sees and bytes on the wire.
pub mod checksum;
pub mod escape;
pub mod framing;
pub mod hex;
pub mod text;
