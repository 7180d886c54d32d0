//! How array parameters travel in a query string (known to the generator too).

/// How an array parameter is serialized in the query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayStyle {
    /// `style: form`, `explode: true`: `a=1&a=2`.
    FormExploded,
    /// `style: form`, `explode: false`: `a=1,2`.
    FormCommas,
    /// `style: spaceDelimited`: `a=1%202`.
    SpaceDelimited,
    /// `style: pipeDelimited`: `a=1|2`.
    PipeDelimited,
}

impl ArrayStyle {
    /// The character between items; `None` when each item is its own pair.
    pub fn separator(self) -> Option<char> {
        match self {
            Self::FormExploded => None,
            Self::FormCommas => Some(','),
            Self::SpaceDelimited => Some(' '),
            Self::PipeDelimited => Some('|'),
        }
    }
}
