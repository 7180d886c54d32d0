//! `cargo xtask bench --codegen-speed [--runs N]`: how long our whole
//! generation takes against progenitor's own `Generator` on the same spec.
//!
//! - ours: from the spec's text to every file (parse, normalize, validate,
//!   the types and client passes of progenitor, the server stubs, the mocks
//!   where the options ask for them, formatting), as `cargo xtask regen` and
//!   a build script run it;
//! - progenitor: parse the same text, one `Generator::generate_tokens` with
//!   the settings we give it, formatted with `prettyplease`: what a user of
//!   progenitor alone waits for. It is given the document as our rewrite
//!   hands it to progenitor (computed outside the timing), since progenitor
//!   stops on constructs of the raw document that our rewrite takes out.
//!
//! The two alternate (which one goes first alternates too); each figure is
//! the median of the runs with its range. Both run in this process, in the
//! profile `cargo xtask` is built in (the generator crates, progenitor,
//! typify, openapiv3, prettyplease and serde_yaml at opt-level 2, see the
//! workspace manifest): the configuration `cargo xtask regen` runs.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use progenitor_impl::Generator;
use users_api_codegen::{Options, Spec, generate, progenitor_input, progenitor_settings};

/// A spec of about 400 operations from the pinned directory package.
const LARGE_SPEC: &str = "jellyfin.local.json";

/// One spec to time.
struct Case {
    name: String,
    text: String,
    options: Options,
    goal: f64,
}

/// Runs the bench: `options` after `--codegen-speed` (`--runs N`, default 5).
pub fn run(root: &Path, options: &[String]) -> Result<()> {
    let runs = match options {
        [] => 5,
        [flag, n] if flag == "--runs" => n.parse().context("--runs takes a number")?,
        other => bail!("unknown options for --codegen-speed: {other:?} (only --runs N)"),
    };
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let directory = crate::corpus::install(root)?;
    let large = std::fs::read_to_string(directory.join(LARGE_SPEC))
        .with_context(|| format!("reading {LARGE_SPEC} of the directory package"))?;
    let cases = [
        Case {
            name: crate::codegen_tasks::SPEC.into(),
            text: std::fs::read_to_string(root.join(crate::codegen_tasks::SPEC))?,
            options: crate::codegen_tasks::users_options(),
            goal: 1.1,
        },
        Case {
            name: LARGE_SPEC.into(),
            text: large,
            options: crate::generate::options("jellyfin", Path::new("")),
            goal: 1.05,
        },
    ];
    println!(
        "| spec | operations | ours: whole generation (ms) | progenitor's Generator alone (ms) | ratio | goal | met |"
    );
    println!("|---|---|---|---|---|---|---|");
    for case in &cases {
        let row = measure(case, runs)?;
        println!("{row}");
    }
    println!(
        "(median of {runs} alternating runs, range in brackets; in-process, the profile of `cargo xtask`)"
    );
    Ok(())
}

/// Times both sides on one spec; returns its table row.
fn measure(case: &Case, runs: usize) -> Result<String> {
    let spec = Spec::parse(&case.name, &case.text)?;
    let operations = spec.api.operations().count();
    let input = progenitor_input(&spec, &case.options)?;
    let ours = || -> Result<f64> {
        let started = Instant::now();
        let spec = Spec::parse(&case.name, black_box(&case.text))?;
        black_box(generate(&spec, &case.options)?);
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    let alone = || -> Result<f64> {
        let started = Instant::now();
        let _parsed: openapiv3::OpenAPI = if case.text.trim_start().starts_with('{') {
            serde_json::from_str(black_box(&case.text))?
        } else {
            serde_yaml::from_str(black_box(&case.text))?
        };
        let tokens = Generator::new(&progenitor_settings())
            .generate_tokens(black_box(&input))
            .context("progenitor refused the document")?;
        let file: syn::File = syn::parse2(tokens)?;
        black_box(prettyplease::unparse(&file));
        Ok(started.elapsed().as_secs_f64() * 1e3)
    };
    // One unmeasured round of each: caches, allocator, lazy statics.
    ours()?;
    alone()?;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for i in 0..runs {
        if i % 2 == 0 {
            a.push(ours()?);
            b.push(alone()?);
        } else {
            b.push(alone()?);
            a.push(ours()?);
        }
    }
    let ratios: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x / y).collect();
    let (ours, baseline, ratio) = (Stat::of(&a), Stat::of(&b), Stat::of(&ratios));
    Ok(format!(
        "| {} | {operations} | {} | {} | {} | ≤ {:.2} | {} |",
        case.name,
        ours.show(1),
        baseline.show(1),
        ratio.show(2),
        case.goal,
        if ratio.median <= case.goal {
            "yes"
        } else {
            "no"
        }
    ))
}

/// Median and range of some figures.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

impl Stat {
    /// `values` must not be empty.
    fn of(values: &[f64]) -> Self {
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Self {
            median,
            min: v[0],
            max: v[n - 1],
        }
    }

    fn show(&self, decimals: usize) -> String {
        format!(
            "{:.d$} ({:.d$}–{:.d$})",
            self.median,
            self.min,
            self.max,
            d = decimals
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_range() {
        let odd = Stat::of(&[3.0, 1.0, 2.0]);
        assert_eq!((odd.median, odd.min, odd.max), (2.0, 1.0, 3.0));
        let even = Stat::of(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((even.median, even.min, even.max), (2.5, 1.0, 4.0));
        assert_eq!(even.show(1), "2.5 (1.0–4.0)");
    }
}
