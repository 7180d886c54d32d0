//! Where log lines go: stderr, through one in-memory buffer.
//!
//! A write syscall per line cost more than formatting the line (issue 25):
//! at the default `info` level every request writes its `response` line.
//! Lines at `info` and below are appended to a buffer and written together
//! when it holds [`CAPACITY`] bytes, when a line at `warn` or above comes
//! (that line and all before it, in order, at once), every
//! [`FLUSH_EVERY`] by a background thread, and when the [`Flusher`] guard
//! is dropped at exit. Lines reach stderr in the order they were logged.
//! When stderr is a terminal every line is written at once.
//!
//! What a crash can lose: the `info` lines of the last [`FLUSH_EVERY`]
//! (at most [`CAPACITY`] bytes) on SIGKILL or an abort. Warnings and
//! errors are never held back.
//!
//! A writer thread fed through a channel was tried first and measured
//! slower than writing each line at once on 2 cores (0.88x, issue 25):
//! waking it costs a syscall per batch and it competes with the workers.
//! Here the thread that fills the buffer writes it, and the background
//! thread only wakes [`FLUSH_EVERY`].

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Bytes held before they are written.
pub const CAPACITY: usize = 32 * 1024;

/// Longest an `info` line waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// Lines waiting to be written, and where they go.
struct Pending<W> {
    bytes: Vec<u8>,
    out: W,
}

impl<W: Write> Pending<W> {
    /// Writes what is held. A failed write drops the bytes: a log line is
    /// never worth stopping the service or growing without bound.
    fn flush(&mut self) {
        if !self.bytes.is_empty() {
            let _ = self.out.write_all(&self.bytes);
            let _ = self.out.flush();
            self.bytes.clear();
        }
    }
}

/// Log output buffered in memory (see the module documentation); give it
/// to `tracing_subscriber::fmt().with_writer(..)`.
pub struct Buffered<W> {
    pending: Arc<Mutex<Pending<W>>>,
    /// Write every line at once (a terminal is watching).
    immediate: bool,
}

impl<W> Clone for Buffered<W> {
    fn clone(&self) -> Self {
        Self {
            pending: Arc::clone(&self.pending),
            immediate: self.immediate,
        }
    }
}

impl<W: Write> Buffered<W> {
    /// Buffers lines on their way to `out`; `immediate` writes each at once.
    pub fn new(out: W, immediate: bool) -> Self {
        Self {
            pending: Arc::new(Mutex::new(Pending {
                bytes: Vec::with_capacity(CAPACITY),
                out,
            })),
            immediate,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending<W>> {
        // A panic while appending leaves whole lines or a cut one: still
        // worth writing.
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes every line held so far.
    pub fn flush(&self) {
        self.lock().flush();
    }

    /// Appends what `line` writes (one whole line, with its newline) as an
    /// `info` line: held, unless writing every line at once.
    pub fn append(&self, line: impl FnOnce(&mut Vec<u8>)) {
        let mut pending = self.lock();
        line(&mut pending.bytes);
        if self.immediate || pending.bytes.len() >= CAPACITY {
            pending.flush();
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
    /// Starts the thread writing held lines every [`FLUSH_EVERY`]; the
    /// guard it returns writes the rest when dropped (at exit).
    pub fn start_flushing(&self) -> Flusher {
        let this = self.clone();
        let thread = std::thread::Builder::new()
            .name("log-flush".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    this.flush();
                }
            });
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
        let mut pending = self.buffered.lock();
        pending.bytes.extend_from_slice(buf);
        if self.urgent || pending.bytes.len() >= CAPACITY {
            pending.flush();
        }
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

    fn line(buffered: &Buffered<Sink>, level: Level, text: &str) {
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
    fn a_full_buffer_is_written_and_a_terminal_gets_every_line_at_once() {
        let sink = Sink::default();
        let buffered = Buffered::new(sink.clone(), false);
        let text = "x".repeat(99) + "\n";
        let lines = CAPACITY / text.len() + 1;
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
