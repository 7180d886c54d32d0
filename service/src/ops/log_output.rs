//! Where log lines go: stderr, through one in-memory buffer.
//!
//! A write syscall per line cost more than formatting the line (issue 25):
//! at the default `info` level every request writes its `response` line.
//! Lines at `info` and below are appended to a buffer; a background thread
//! ([`Buffered::start_flushing`]) writes what is held every
//! [`FLUSH_EVERY`], and at once when the buffer holds [`CAPACITY`] bytes
//! (the appending thread wakes it). A line at `warn` or above is written
//! at once with all before it, by the thread logging it; so is everything
//! held when the buffer reaches [`LIMIT`] (an output slower than the lines
//! coming in, or no background thread), and when the [`Flusher`] guard is
//! dropped at exit. Lines reach stderr in the order they were logged. When
//! stderr is a terminal every line is written at once.
//!
//! The threads serving requests never wait for the output below
//! [`LIMIT`]: the buffer is swapped for an empty one and written outside
//! its lock. Written by the appending thread with the buffer locked, a
//! `write` to a log file on a busy disk stalled every worker now and then
//! for 3 to 9 ms (`strace -T`: 6 of 506 writes over 1 ms in 6 s of
//! `GET /users`), one source of that route's p99 tail (issue 25).
//!
//! What a crash can lose: the `info` lines of the last [`FLUSH_EVERY`]
//! (at most [`LIMIT`] bytes) on SIGKILL or an abort. Warnings and
//! errors are never held back.
//!
//! A writer thread fed through a channel was tried first and measured
//! slower than writing each line at once on 2 cores (0.88x, issue 25):
//! waking it cost a syscall per batch and it competed with the workers.
//! Here a thread appending a line takes only the buffer's lock, and the
//! background thread is woken once per [`CAPACITY`] bytes at most.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Bytes held before the background thread is woken to write them.
pub const CAPACITY: usize = 32 * 1024;

/// Bytes held before the thread appending a line writes them itself.
pub const LIMIT: usize = 1024 * 1024;

/// Longest an `info` line waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Where held lines go, and a spare buffer the held lines are swapped
/// into to be written.
struct Output<W> {
    out: W,
    batch: Vec<u8>,
}

/// Lines held, where they go, and the background thread's wake-up.
struct Shared<W> {
    /// Lines waiting to be written. Lock order: `output`, then `held`.
    held: Mutex<Vec<u8>>,
    output: Mutex<Output<W>>,
    /// Wakes the background thread (paired with `held`).
    full: Condvar,
}

/// Log output buffered in memory (see the module documentation); give it
/// to `tracing_subscriber::fmt().with_writer(..)`.
pub struct Buffered<W> {
    shared: Arc<Shared<W>>,
    /// Write every line at once (a terminal is watching).
    immediate: bool,
}

impl<W> Clone for Buffered<W> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            immediate: self.immediate,
        }
    }
}

/// A panic while appending leaves whole lines or a cut one: still worth
/// writing.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<W: Write> Buffered<W> {
    /// Buffers lines on their way to `out`; `immediate` writes each at once.
    pub fn new(out: W, immediate: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                held: Mutex::new(Vec::with_capacity(2 * CAPACITY)),
                output: Mutex::new(Output {
                    out,
                    batch: Vec::with_capacity(2 * CAPACITY),
                }),
                full: Condvar::new(),
            }),
            immediate,
        }
    }

    /// Writes every line held so far. The held lines are swapped out under
    /// the buffer's lock and written outside it, so appending threads do
    /// not wait for the output. A failed write drops the bytes: a log line
    /// is never worth stopping the service or growing without bound.
    pub fn flush(&self) {
        let mut output = lock(&self.shared.output);
        let output = &mut *output;
        std::mem::swap(&mut output.batch, &mut *lock(&self.shared.held));
        if !output.batch.is_empty() {
            let _ = output.out.write_all(&output.batch);
            let _ = output.out.flush();
            output.batch.clear();
        }
    }

    /// Appends what `line` writes (one whole line, with its newline) as an
    /// `info` line: held, unless writing every line at once.
    pub fn append(&self, line: impl FnOnce(&mut Vec<u8>)) {
        self.add(line, self.immediate);
    }

    /// Appends a line; writes everything held if `urgent` or at [`LIMIT`],
    /// and wakes the background thread when [`CAPACITY`] is reached.
    fn add(&self, line: impl FnOnce(&mut Vec<u8>), urgent: bool) {
        let (before, after) = {
            let mut held = lock(&self.shared.held);
            let before = held.len();
            line(&mut held);
            (before, held.len())
        };
        if urgent || after >= LIMIT {
            self.flush();
        } else if before < CAPACITY && after >= CAPACITY {
            self.shared.full.notify_one();
        }
    }

    /// The background thread's work: writes what is held every
    /// [`FLUSH_EVERY`], or once [`CAPACITY`] bytes are held.
    fn flush_forever(&self) -> ! {
        loop {
            {
                let held = lock(&self.shared.held);
                if held.len() < CAPACITY {
                    let _ = self.shared.full.wait_timeout(held, FLUSH_EVERY);
                }
            }
            self.flush();
        }
    }
}

impl Buffered<std::io::Stderr> {
    /// Stderr, each line at once when it is a terminal.
    pub fn stderr() -> Self {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        Self::new(std::io::stderr(), terminal)
    }
}

impl<W: Write + Send + 'static> Buffered<W> {
    /// Starts the thread writing held lines every [`FLUSH_EVERY`] and
    /// whenever [`CAPACITY`] bytes are held; the guard it returns writes the
    /// rest when dropped (at exit).
    pub fn start_flushing(&self) -> Flusher {
        let this = self.clone();
        let thread = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || this.flush_forever());
        if let Err(e) = thread {
            // Without it lines still go out when the buffer fills and at exit.
            eprintln!("users-service: cannot start the log flushing thread: {e}");
        }
        self.flusher()
    }

    /// A guard that writes the held lines when dropped.
    pub fn flusher(&self) -> Flusher {
        let this = self.clone();
        Flusher(Box::new(move || this.flush()))
    }
}

/// Writes the held log lines when dropped.
pub struct Flusher(Box<dyn Fn() + Send>);

impl Drop for Flusher {
    fn drop(&mut self) {
        (self.0)();
    }
}

impl std::fmt::Debug for Flusher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Flusher")
    }
}

/// One line's writer, given by [`Buffered`] for each line.
pub struct LineWriter<'a, W> {
    buffered: &'a Buffered<W>,
    /// Write it (and everything before it) at once.
    urgent: bool,
}

impl<W: Write> Write for LineWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffered
            .add(|held| held.extend_from_slice(buf), self.urgent);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a, W: Write + 'a> MakeWriter<'a> for Buffered<W> {
    type Writer = LineWriter<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            buffered: self,
            urgent: true,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        LineWriter {
            buffered: self,
            urgent: self.immediate || *meta.level() <= Level::WARN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::test_sink::Sink;

    fn line<W: Write>(buffered: &Buffered<W>, level: Level, text: &str) {
        let mut writer = LineWriter {
            buffered,
            urgent: buffered.immediate || level <= Level::WARN,
        };
        writer.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn info_lines_wait_and_a_warning_writes_them_first_in_order() {
        let sink = Sink::default();
        let buffered = Buffered::new(sink.clone(), false);
        line(&buffered, Level::INFO, "one\n");
        line(&buffered, Level::DEBUG, "two\n");
        assert_eq!(sink.text(), "", "held back");
        line(&buffered, Level::WARN, "three\n");
        assert_eq!(sink.text(), "one\ntwo\nthree\n");
        assert_eq!(sink.writes(), 1, "one write for the three lines");
        line(&buffered, Level::INFO, "four\n");
        buffered.flush();
        assert_eq!(sink.text(), "one\ntwo\nthree\nfour\n");
    }

    #[test]
    fn a_buffer_at_its_limit_is_written_and_a_terminal_gets_every_line_at_once() {
        let sink = Sink::default();
        let buffered = Buffered::new(sink.clone(), false);
        let text = "x".repeat(99) + "\n";
        let lines = LIMIT / text.len() + 1;
        for _ in 0..lines {
            line(&buffered, Level::INFO, &text);
        }
        assert_eq!(sink.writes(), 1);
        assert_eq!(sink.text().len(), lines * text.len());

        let sink = Sink::default();
        let terminal = Buffered::new(sink.clone(), true);
        line(&terminal, Level::INFO, "now\n");
        assert_eq!(sink.text(), "now\n");
    }

    /// An output whose writes wait until the test opens its gate.
    #[derive(Clone)]
    struct Gated {
        sink: Sink,
        gate: Arc<(Mutex<bool>, Condvar)>,
        entered: std::sync::mpsc::SyncSender<()>,
    }

    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _ = self.entered.try_send(());
            let (open, changed) = &*self.gate;
            let mut open = open.lock().unwrap();
            while !*open {
                open = changed.wait(open).unwrap();
            }
            self.sink.write(buf)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_slow_output_never_holds_up_threads_logging_info_lines() {
        let sink = Sink::default();
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let (entered, in_write) = std::sync::mpsc::sync_channel(8);
        let out = Gated {
            sink: sink.clone(),
            gate: gate.clone(),
            entered,
        };
        let buffered = Buffered::new(out, false);
        line(&buffered, Level::INFO, "one\n");
        // A flush stuck in the output's `write` (a busy disk).
        let flushing = std::thread::spawn({
            let buffered = buffered.clone();
            move || buffered.flush()
        });
        in_write
            .recv_timeout(Duration::from_secs(5))
            .expect("the flush reached the output");
        // Lines logged meanwhile are held, not stuck behind that write.
        let (done, appended) = std::sync::mpsc::channel();
        let logging = std::thread::spawn({
            let buffered = buffered.clone();
            move || {
                for text in ["two\n", "three\n"] {
                    line(&buffered, Level::INFO, text);
                }
                let _ = done.send(());
            }
        });
        let waited = appended.recv_timeout(Duration::from_secs(2));
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        flushing.join().unwrap();
        logging.join().unwrap();
        assert!(
            waited.is_ok(),
            "appending a line waited for the output's write"
        );
        assert_eq!(sink.text(), "one\n", "only what was held then");
        buffered.flush();
        assert_eq!(sink.text(), "one\ntwo\nthree\n", "in order");
    }

    #[test]
    fn held_lines_are_written_in_time_and_when_the_guard_drops() {
        let sink = Sink::default();
        let buffered = Buffered::new(sink.clone(), false);
        let _flusher = buffered.start_flushing();
        line(&buffered, Level::INFO, "soon\n");
        let started = std::time::Instant::now();
        while sink.text().is_empty() && started.elapsed() < FLUSH_EVERY * 20 {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(sink.text(), "soon\n", "written by the background thread");

        let sink = Sink::default();
        let buffered = Buffered::new(sink.clone(), false);
        let flusher = buffered.flusher();
        line(&buffered, Level::INFO, "last\n");
        assert_eq!(sink.text(), "");
        drop(flusher);
        assert_eq!(sink.text(), "last\n");
    }
}
