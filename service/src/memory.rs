//! The process's heap: glibc's malloc settings, and handing freed memory back
//! after a large response was built.

/// Most glibc malloc arenas the process uses (see [`tune_allocator`]).
pub const MALLOC_ARENAS: i32 = 2;

/// Limits glibc's malloc to [`MALLOC_ARENAS`] arenas (the binary calls this
/// at start-up, before its threads exist). By default a thread that
/// allocates under contention may get an arena of its own, up to eight per
/// core, and pages freed there stay resident while a few live allocations
/// (verified-token cache entries made during a burst of sign-ins) are
/// scattered over them. Measured by bench section 3 after seeding 10,000
/// users and serving `GET /users`: 68 MiB resident with the default and
/// with one arena per core plus one, 36 MiB with two; about 24 MiB is in
/// use either way. Read throughput showed no difference beyond the
/// machine's noise. Elsewhere this does nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters; called once,
    // before the runtime starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, MALLOC_ARENAS);
    }
}

/// Returns freed heap memory to the system (glibc keeps it in per-thread
/// arenas otherwise), off the calling thread. Needs a tokio runtime.
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::task::spawn_blocking(|| {
        // SAFETY: malloc_trim only releases free memory of the allocator.
        unsafe { libc::malloc_trim(0) };
    });
}
