//! Test helper: a log writer whose bytes a test can read back, shared by the
//! tests of the log and access-line formatting and of the log output.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// A writer keeping every byte written to it (clones share them) and
/// counting the `write` calls.
#[derive(Clone, Default)]
pub struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

impl Sink {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().0.clone()).unwrap()
    }

    /// How many `write` calls there were.
    pub fn writes(&self) -> usize {
        self.0.lock().unwrap().1
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut inner = self.0.lock().unwrap();
        inner.0.extend_from_slice(buf);
        inner.1 += 1;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = Sink;

    fn make_writer(&'a self) -> Sink {
        self.clone()
    }
}
