//! Giving freed memory back to the OS: the engine's backlogs, the history and the view all drop large buffers.

/// Hands memory the program freed back to the OS. glibc keeps it in its arenas: after a backlog of queued echoes
/// (hundreds of MiB for many slow peers) the process would stay that big long after the peers left. Elsewhere the
/// allocator returns it by itself, or there is no call for it: nothing to do.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: no arguments; trims every arena under their locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
