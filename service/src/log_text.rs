//! Client text (method, path) made safe for a log line.

use std::fmt::Write;

use crate::auth::identity::is_forbidden;

/// Longest method logged, in characters.
pub const MAX_LOGGED_METHOD: usize = 16;
/// Longest path logged, in characters.
pub const MAX_LOGGED_PATH: usize = 256;

/// Client text in a log line: control (C0, DEL, C1), line-separator and
/// bidirectional formatting characters written as `\u{..}`, cut to a
/// number of characters (marked with `…`). Only formatted when the line is,
/// straight into the line (no allocation).
pub struct Escaped<'a>(pub &'a str, pub usize);

impl Escaped<'_> {
    /// Appends the text, escaped and cut, to `out`; printable ASCII that
    /// needs no cut (every path and method of a normal request) is copied
    /// as it is.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let text = self.0.as_bytes();
        // A fold without an early exit: the compiler checks 16 or 32 bytes
        // at a time (`all` stopped at each byte: about 400 instructions
        // for a method and a path, callgrind, issue 25).
        if text.len() <= self.1
            && text
                .iter()
                .fold(true, |ok, b| ok & (b' '..=b'~').contains(b))
        {
            out.extend_from_slice(text);
        } else {
            let _ = std::io::Write::write_fmt(out, format_args!("{self}"));
        }
    }
}

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.0;
        // Start of the run of characters written as they are.
        let mut plain = 0;
        for (count, (at, c)) in text.char_indices().enumerate() {
            if count == self.1 {
                f.write_str(&text[plain..at])?;
                return f.write_char('…');
            }
            if is_forbidden(c) {
                f.write_str(&text[plain..at])?;
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
                plain = at + c.len_utf8();
            }
        }
        f.write_str(&text[plain..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::identity::escape_for_log;

    #[test]
    fn escapes_and_cuts_as_escape_for_log_does() {
        for (text, max) in [
            ("/users", 256),
            ("/users/\u{202e}evil\u{85}line", 256),
            ("\u{7}", 1),
            ("abc", 3),
            ("abcd", 3),
            ("ab\u{200b}cd", 3),
            ("é\u{0}é\u{0}", 2),
            ("", 4),
        ] {
            let cut = text.chars().count() > max;
            let expected = escape_for_log(text, max) + if cut { "…" } else { "" };
            assert_eq!(Escaped(text, max).to_string(), expected, "{text:?} {max}");
        }
        assert_eq!(Escaped("a\u{202e}b", 9).to_string(), "a\\u{202e}b");
    }

    #[test]
    fn written_bytes_are_the_displayed_text() {
        for (text, max) in [
            ("/users/3f0c3a6e-1b1e-4c39", 256),
            ("/users", 6),
            ("/users", 5),
            ("GET", 16),
            ("/a b~", 9),
            ("/\u{7f}", 9),
            ("/users/\u{202e}evil", 256),
            ("/é", 9),
            ("", 3),
        ] {
            let mut out = b"x".to_vec();
            Escaped(text, max).write_to(&mut out);
            let shown = format!("x{}", Escaped(text, max));
            assert_eq!(String::from_utf8(out).unwrap(), shown, "{text:?} {max}");
        }
    }
}
