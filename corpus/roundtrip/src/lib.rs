//! Round-trip tests of the feature corpus live in `tests/`.
