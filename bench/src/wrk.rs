//! Load generation with `wrk` (Debian package `wrk`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// How to install wrk, for error messages.
pub const INSTALL_HINT: &str =
    "wrk is not installed: install it with `apt-get install -y wrk` (Debian/Ubuntu package `wrk`)";

/// Reports one machine-readable line at the end of a run.
const REPORT_LUA: &str = r#"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_us=%d bytes=%d socket_errors=%d connect=%d read=%d write=%d timeout=%d non2xx=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)))
end
"#;

/// POSTs JSON bodies read from a file (one per line, given after `--`), in turn.
const ROTATE_LUA: &str = r#"
local bodies = {}
local next_body = 0
init = function(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
end
request = function()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, bodies[next_body])
end
"#;

/// Whether wrk runs here.
pub fn available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout).contains("wrk")
                || String::from_utf8_lossy(&o.stderr).contains("wrk")
        })
}

/// wrk's version line.
pub fn version() -> String {
    Command::new("wrk")
        .arg("--version")
        .output()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            text.lines()
                .next()
                .unwrap_or_default()
                .split(" Copyright")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

/// The Lua scripts, written once into a work directory.
pub struct Scripts {
    report: PathBuf,
    rotate: PathBuf,
}

impl Scripts {
    /// Writes the scripts into `dir`.
    pub fn write(dir: &Path) -> Result<Self> {
        let report = dir.join("report.lua");
        let rotate = dir.join("rotate.lua");
        std::fs::write(&report, REPORT_LUA)?;
        std::fs::write(&rotate, format!("{ROTATE_LUA}\n{REPORT_LUA}"))?;
        Ok(Self { report, rotate })
    }
}

/// One load run.
#[derive(Debug, Clone)]
pub struct Load<'a> {
    /// Full URL.
    pub url: String,
    /// Extra request headers (`Name: value`).
    pub headers: Vec<String>,
    /// Open connections.
    pub connections: u32,
    /// Seconds.
    pub seconds: f64,
    /// POST the bodies in this file in turn, instead of GET.
    pub post_bodies: Option<&'a Path>,
}

/// The outcome of one run.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    /// Completed requests.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Median latency in microseconds.
    pub p50_us: f64,
    /// 99th percentile latency in microseconds.
    pub p99_us: f64,
    /// Response bytes per second.
    pub bytes_per_s: f64,
}

/// Runs wrk (one thread, so it leaves the other core to the server). Fails
/// if any response was not 2xx/3xx or any socket error occurred; a run with
/// socket errors is tried once more, since this machine is shared.
pub fn run(scripts: &Scripts, load: &Load<'_>) -> Result<Outcome> {
    run_once(scripts, load).or_else(|e| {
        if format!("{e}").starts_with("socket errors") {
            crate::progress(&format!("  retrying once after: {e}"));
            run_once(scripts, load)
        } else {
            Err(e)
        }
    })
}

fn run_once(scripts: &Scripts, load: &Load<'_>) -> Result<Outcome> {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t1", "-c"])
        .arg(load.connections.to_string())
        .arg("-d")
        // wrk takes whole seconds.
        .arg(format!("{}s", (load.seconds.round() as u64).max(1)))
        .args(["--timeout", "30s"]);
    for h in &load.headers {
        cmd.arg("-H").arg(h);
    }
    let script = if load.post_bodies.is_some() {
        &scripts.rotate
    } else {
        &scripts.report
    };
    cmd.arg("-s").arg(script).arg(&load.url);
    if let Some(bodies) = load.post_bodies {
        cmd.arg("--").arg(bodies);
    }
    let output = cmd.output().context(INSTALL_HINT)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("BENCH_RESULT "))
        .with_context(|| format!("wrk printed no result: {stdout}"))?;
    let field = |name: &str| -> Result<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {name} in {line:?}"))
    };
    let requests = field("requests")? as u64;
    let duration_s = field("duration_us")? / 1e6;
    let non2xx = field("non2xx")?;
    let socket = field("socket_errors")?;
    if non2xx > 0.0 || socket > 0.0 {
        bail!(
            "{} wrk against {}: {non2xx} non-2xx responses and {socket} socket errors \
             (connect {}, read {}, write {}, timeout {}) of {requests} requests",
            if socket > 0.0 {
                "socket errors:"
            } else {
                "bad responses:"
            },
            load.url,
            field("connect")?,
            field("read")?,
            field("write")?,
            field("timeout")?,
        );
    }
    if requests == 0 {
        bail!("wrk against {} completed no request", load.url);
    }
    Ok(Outcome {
        requests,
        rps: requests as f64 / duration_s,
        p50_us: field("p50_us")?,
        p99_us: field("p99_us")?,
        bytes_per_s: field("bytes")? / duration_s,
    })
}
