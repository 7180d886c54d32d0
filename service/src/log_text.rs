//! Client text (method, path) made safe for a log line.

/// Longest method logged, in characters.
pub const MAX_LOGGED_METHOD: usize = 16;
/// Longest path logged, in characters.
pub const MAX_LOGGED_PATH: usize = 256;

/// Client text in a log line: control (C0, DEL, C1), line-separator and
/// bidirectional formatting characters written as `\u{..}`, cut to a
/// number of characters (marked with `…`). Only formatted when the line is.
pub struct Escaped<'a>(pub &'a str, pub usize);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::auth::identity::escape_for_log(self.0, self.1))?;
        if self.0.chars().nth(self.1).is_some() {
            f.write_str("…")?;
        }
        Ok(())
    }
}
