//! The allocator: freed memory given back to the OS (the engine's backlogs, the history and the view all drop large
//! buffers), and what one of the window's frames frees kept for the next.

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

/// Lets the memory one frame frees stay for the next. Without a GPU, Mesa's llvmpipe draws the window and takes
/// ~5 MiB in 64 KiB blocks per frame; glibc gave back every free run over 128 KiB at the top of the heap, so each
/// frame faulted those pages in again: a quarter of the UI thread's CPU in a connection storm. Now up to 16 MiB
/// stays free at the top; Clear still gives everything back (`return_free_memory`). Setting a threshold turns off
/// glibc's adaptive one for large blocks, so that is fixed too, at 4 MiB: at 32 MiB (the most the adaptive one
/// reaches) a UDP flood's peak RSS was 20-30 MiB higher.
pub fn keep_memory_between_frames() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; both values are within glibc's limits.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 16 << 20);
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use nix::sys::resource::{UsageWho, getrusage};

    /// Page faults of this thread while it allocates and frees 4 MiB in 64 KiB blocks, as llvmpipe does per frame.
    fn faults_of_one_frame() -> i64 {
        let before = getrusage(UsageWho::RUSAGE_THREAD).map_or(0, |usage| usage.minor_page_faults());
        let blocks: Vec<Vec<u8>> = (0..64).map(|_| vec![1u8; 64 << 10]).collect();
        std::hint::black_box(&blocks);
        drop(blocks);
        getrusage(UsageWho::RUSAGE_THREAD).map_or(0, |usage| usage.minor_page_faults()) - before
    }

    #[test]
    fn a_frame_reuses_the_memory_the_frame_before_it_freed() {
        super::keep_memory_between_frames();
        // Counted for one new thread, so that other tests running beside it do not add to the count.
        let mut faults = std::thread::spawn(|| {
            faults_of_one_frame();
            (0..11).map(|_| faults_of_one_frame()).collect::<Vec<i64>>()
        })
        .join()
        .expect("the allocating thread");
        // The median frame: another test's `malloc_trim` may empty this arena between two frames.
        faults.sort_unstable();
        let median = faults[faults.len() / 2];
        // 4 MiB faulted in again would be ~1,000 faults a frame.
        assert!(
            median < 50,
            "{median} page faults in a frame that reuses freed memory ({faults:?})"
        );
    }
}
