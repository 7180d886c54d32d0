//! Formatting users for people (aligned text) and for programs (JSON).

use chrono::{DateTime, SecondsFormat, Utc};
use users_api_client::types::{GroupedTimestamp, UserProfile};

/// Shown for a missing value.
const NONE: &str = "-";

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned, human-readable text.
    Text,
    /// Pretty-printed JSON: the profile object, or an array of profiles.
    Json,
}

/// One profile: a `field  value` block, or the profile's JSON.
pub fn profile(user: &UserProfile, format: Format) -> String {
    match format {
        Format::Json => json(user),
        Format::Text => {
            let providers = user.providers.as_ref().map(|p| {
                p.iterable
                    .iter()
                    .map(|p| format!("{} ({})", p.type_, p.user_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let rows = [
                ("id", Some(user.id.clone())),
                ("username", user.username.clone()),
                ("email", user.email.clone()),
                ("name", user.name.clone()),
                ("vanityname", user.vanityname.clone()),
                ("picture", user.picture.clone()),
                ("providers", providers.filter(|p| !p.is_empty())),
                ("created", timestamp(user.created.as_ref())),
                ("updated", timestamp(user.updated.as_ref())),
            ];
            let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            rows.iter()
                .map(|(key, value)| {
                    format!("{key:<width$}  {}\n", value.as_deref().unwrap_or(NONE))
                })
                .collect()
        }
    }
}

/// A list of users: an aligned table (id, username, email, name, created), or
/// a JSON array of profiles.
pub fn users(users: &[UserProfile], format: Format) -> String {
    match format {
        Format::Json => json(users),
        Format::Text if users.is_empty() => "no users\n".to_string(),
        Format::Text => {
            let header = ["ID", "USERNAME", "EMAIL", "NAME", "CREATED"].map(str::to_string);
            let rows: Vec<[String; 5]> = users
                .iter()
                .map(|u| {
                    [
                        Some(u.id.clone()),
                        u.username.clone(),
                        u.email.clone(),
                        u.name.clone(),
                        timestamp(u.created.as_ref()),
                    ]
                    .map(|cell| cell.unwrap_or_else(|| NONE.to_string()))
                })
                .collect();
            table(&header, &rows)
        }
    }
}

/// Left-aligned columns separated by two spaces, no trailing blanks.
fn table<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in std::iter::once(header).chain(rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            let pad = width - cell.chars().count();
            line.extend(std::iter::repeat_n(' ', pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn timestamp(ts: Option<&GroupedTimestamp>) -> Option<String> {
    ts.map(|t| rfc3339(&t.value))
}

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serializing these generated types cannot fail: no maps with non-string keys.
    let mut text = serde_json::to_string_pretty(value).expect("profiles serialize to JSON");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings<const N: usize>(cells: [&str; N]) -> [String; N] {
        cells.map(str::to_string)
    }

    #[test]
    fn columns_line_up() {
        let out = table(
            &strings(["A", "BB"]),
            &[strings(["long cell", "x"]), strings(["é", ""])],
        );
        assert_eq!(out, "A          BB\nlong cell  x\né\n");
    }

    #[test]
    fn timestamps_are_rfc3339_seconds() {
        let t = DateTime::parse_from_rfc3339("2024-05-06T07:08:09.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339(&t), "2024-05-06T07:08:09Z");
    }
}
