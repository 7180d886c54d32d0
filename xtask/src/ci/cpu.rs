//! CPU time spent by this process and the child processes it has reaped,
//! read from `/proc/self/stat` (Linux): the summary's `cpu` column, which
//! says where a step's time goes when two cores are shared.
//!
//! Elsewhere, or when the file cannot be read, the figure is unknown and
//! the column stays empty.

use std::time::Duration;

/// Clock ticks per second of the `stat` fields (`USER_HZ`): 100 on every
/// architecture Linux exposes it for.
const TICKS_PER_SECOND: u64 = 100;

/// User and system time of this process plus its reaped children, or
/// `None` where `/proc/self/stat` is not readable.
pub fn used() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    from_stat(&stat)
}

/// The sum of `utime`, `stime`, `cutime` and `cstime` (fields 14 to 17) of a
/// `/proc/PID/stat` line, as a duration.
///
/// The command name (field 2) is in parentheses and may hold spaces or
/// parentheses itself, so the fields are counted from its last `)`.
fn from_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // After the name: field 3 (state) is the first, so field 14 is the 12th.
    let ticks = after_name
        .split_ascii_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse::<u64>().ok())
        .collect::<Option<Vec<_>>>()?;
    if ticks.len() != 4 {
        return None;
    }
    let total: u64 = ticks.iter().sum();
    Some(Duration::from_millis(total * 1000 / TICKS_PER_SECOND))
}

/// `a - b`, or `None` when either is unknown (or `b` is the larger).
pub fn between(before: Option<Duration>, after: Option<Duration>) -> Option<Duration> {
    after?.checked_sub(before?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_four_time_fields_after_the_command_name() {
        // A name with a space and a parenthesis; utime 250, stime 50,
        // cutime 1000, cstime 200 ticks; the fields around them differ.
        let line = "4242 (x (ci) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 1000 200 20 0 3 0 77 1000000 500";
        assert_eq!(from_stat(line), Some(Duration::from_millis(15_000)));
    }

    #[test]
    fn a_truncated_or_garbled_line_is_unknown() {
        assert_eq!(from_stat("4242 (x) S 1 2 3"), None);
        assert_eq!(from_stat("4242 (x) S 1 2 3 4 5 6 7 8 9 x 1 1 1"), None);
        assert_eq!(from_stat("no name here"), None);
    }

    #[test]
    fn this_process_has_a_figure_that_grows() {
        let before = used().expect("/proc/self/stat is readable on Linux");
        // Busy until the figure moves (a tick is 10 ms), bounded in wall time
        // however loaded the machine is.
        let spin = std::time::Instant::now();
        let mut after = before;
        let mut x = 0u64;
        while after <= before && spin.elapsed() < Duration::from_secs(20) {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_add(1));
            }
            after = used().expect("readable");
        }
        assert!(
            after > before,
            "no CPU time counted in 20 s of work: {before:?}"
        );
        assert_eq!(between(Some(after), Some(before)), None);
        assert_eq!(between(Some(before), Some(after)), Some(after - before));
    }
}
