//! The form of log lines, chosen with `--log-format`: shared by the
//! subscriber ([`super::logging`]) and the `response` line
//! ([`super::access_line`]).

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIME LEVEL span{fields}: message fields`, coloured on a terminal.
    Text,
    /// `{"timestamp":…,"level":…,"message":…,FIELDS…,"span":{…}}`, one a line.
    Json,
}
