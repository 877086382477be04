//! `RunSpec`: the complete, serializable description of one run. Only `cli` reads flags; every
//! other part of mvm reads a `RunSpec`.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use crate::policy::Volume;

/// Default `--memory`: what the program may keep resident (it may reserve far more).
pub const DEFAULT_MEMORY: u64 = 512 << 20;

/// One run of one program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpec {
    /// The program as the user named it (a path, or a name looked up in `PATH`).
    pub program: OsString,
    /// Its arguments, `argv[1..]`; `argv[0]` is `program`.
    pub args: Vec<OsString>,
    /// Its environment, `KEY=VALUE` strings, in order.
    pub env: Vec<OsString>,
    /// Its working directory (absolute); `None` is mvm's own (`/` with a `rootfs`).
    pub workdir: Option<String>,
    /// A host directory to be the program's `/` (read-only); `None`: the host's system tree.
    #[serde(default)]
    pub rootfs: Option<PathBuf>,
    /// Host directories bound into the program's view.
    #[serde(default)]
    pub volumes: Vec<Volume>,
    /// Ports published with `-p`.
    #[serde(default)]
    pub publish: Vec<crate::policy::Publish>,
    /// The host's loopback services are the program's too (`--network host`); otherwise its
    /// loopback reaches only the run's own sockets.
    #[serde(default)]
    pub host_loopback: bool,
    /// Most memory the program may have resident, in bytes.
    pub memory: u64,
    /// End the program after this long.
    pub timeout: Option<Duration>,
    /// Print every syscall.
    pub trace: bool,
    /// Where the trace goes instead of mvm's stderr (`--trace-file`; implies `trace`).
    #[serde(default)]
    pub trace_file: Option<PathBuf>,
    /// Print how long each start-up phase took.
    pub timings: bool,
}

/// Parses a size such as `64m`, `1g`, `512k`, `1048576`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid size '{s}' (use e.g. 64m, 1g)"))?;
    let bytes = n * mult as f64;
    if !(bytes.is_finite() && bytes >= (4u64 << 20) as f64 && bytes <= (1u64 << 46) as f64) {
        return Err(format!("invalid size '{s}': must be between 4m and 64t"));
    }
    Ok(bytes as u64)
}

/// Parses a duration such as `500ms`, `2s`, `1.5`, `3m`, `1h` (plain numbers are seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let mult = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(format!("invalid duration '{s}' (use e.g. 500ms, 2s, 1m)")),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid duration '{s}' (use e.g. 500ms, 2s, 1m)"))?;
    let secs = n * mult;
    if !(secs.is_finite() && (0.0..1e9).contains(&secs)) {
        return Err(format!("invalid duration '{s}'"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("1.5g"), Ok(3 << 29));
        assert!(parse_size("12x").is_err());
        assert!(parse_size("1k").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }
}
