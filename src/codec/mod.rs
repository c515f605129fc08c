//! Pure conversions between what a user types or sees and bytes on the wire.
pub mod checksum;
pub mod escape;
pub mod framing;
pub mod hex;
pub mod pcapng;
pub mod text;

/// Where `needle` first occurs in `haystack` (an empty needle at once): a contains-rule, an expect, a delimiter.
pub fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}
