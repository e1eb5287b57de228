//! How many threads a piece of work is worth: the one rule of batch
//! protection, score matrices and gallery searches.

/// Most threads one call starts: a thread count from a caller (say
/// `usize::MAX`) must not make it spawn threads until spawning fails.
pub const MAX_THREADS: usize = 256;

/// The cores this process may use (1 when unknown).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// Threads for `work` units split into at most `parts` pieces: one thread
/// per `per_thread` units (a thread start must pay for itself), at most
/// every core and [`MAX_THREADS`], at least one.
pub(crate) fn for_work(work: usize, per_thread: usize, parts: usize) -> usize {
    cores()
        .min(work.div_ceil(per_thread.max(1)))
        .min(parts)
        .clamp(1, MAX_THREADS)
}

/// Threads of a gallery search over `bytes` bytes of codes split into at
/// most `parts` pieces: `setting` when non-zero, else one thread below
/// `parallel_from` bytes and every core above; at most [`MAX_THREADS`].
pub(crate) fn for_search(
    setting: usize,
    bytes: usize,
    parallel_from: usize,
    parts: usize,
) -> usize {
    let t = match setting {
        0 if bytes < parallel_from => 1,
        0 => cores(),
        t => t,
    };
    t.min(parts.max(1)).min(MAX_THREADS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_stay_within_the_work_the_parts_and_the_cap() {
        assert_eq!(for_work(0, 64, 0), 1);
        assert_eq!(for_work(64, 64, 1000), 1);
        assert!(for_work(usize::MAX, 1, usize::MAX) <= cores().min(MAX_THREADS));
        assert_eq!(for_work(1 << 20, 1, 1), 1);
        assert_eq!(for_search(0, 10, 100, 50), 1);
        assert_eq!(for_search(0, 100, 100, 50), cores().min(50));
        assert_eq!(for_search(usize::MAX, 0, 100, usize::MAX), MAX_THREADS);
        assert_eq!(for_search(8, 0, 100, 3), 3);
        assert_eq!(for_search(8, 0, 100, 0), 1);
    }
}
