//! Panic isolation for progenitor and typify, which panic (`todo!`,
//! `assert!`) on constructs they do not support.
//!
//! The process-wide panic hook is replaced once ([`Once`]) by one that
//! defers to the previous hook unless the panicking thread is inside
//! [`guarded`]; there it keeps the message in a thread-local instead of
//! printing it. So generations on several threads never swap the hook
//! under each other, and a later panic anywhere still prints its message.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use crate::error::{CodegenError, Result};

thread_local! {
    /// Whether this thread is inside [`guarded`].
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// The message of the last panic caught on this thread.
    static CAPTURED: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the capturing hook in front of the current one, once.
fn install() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!(" (at {}:{})", l.file(), l.line()))
                    .unwrap_or_default();
                CAPTURED
                    .with(|c| *c.borrow_mut() = Some(format!("{}{at}", payload(info.payload()))));
            } else {
                previous(info);
            }
        }));
    });
}

/// The text of a panic payload.
fn payload(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

/// Runs one progenitor (or typify) call, such as
/// `Generator::generate_tokens`, and turns its error into
/// [`CodegenError::Generate`] and its panic into
/// [`CodegenError::Unsupported`], both naming `stage`.
///
/// The panic is not printed: it is reported as the error. The process-wide
/// panic hook is replaced only once, so calls on several threads are safe
/// and panics outside a call still print as before.
pub fn guarded<T>(
    stage: &'static str,
    f: impl FnOnce() -> std::result::Result<T, progenitor_impl::Error>,
) -> Result<T> {
    install();
    let outer = CAPTURING.with(|c| c.replace(true));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(outer));
    match outcome {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(e)) => Err(CodegenError::Generate {
            stage,
            message: e.to_string(),
        }),
        Err(panic) => {
            let message = CAPTURED
                .with(|c| c.borrow_mut().take())
                .unwrap_or_else(|| payload(panic.as_ref()));
            Err(CodegenError::Unsupported { stage, message })
        }
    }
}
