//! `RunSpec`: the complete, serializable description of one run. Only `cli` reads flags; every
//! other part of mvm reads a `RunSpec`.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Default `--memory`: what the program may keep resident (it may reserve far more).
pub const DEFAULT_MEMORY: u64 = 512 << 20;

/// One run of one program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Private, size-bounded directories (`--tmpfs`, `--mount type=tmpfs`, and `/tmp`'s size).
    #[serde(default)]
    pub tmpfs: Vec<Tmpfs>,
    /// Ports published with `-p`.
    #[serde(default)]
    pub publish: Vec<Publish>,
    /// What the program's sockets reach (`--network`).
    #[serde(default)]
    pub network: Network,
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
    /// The program's stdio is a pseudo-terminal mvm makes (`-t`).
    #[serde(default)]
    pub tty: bool,
    /// mvm's stdin is relayed to that terminal (`-i` with `-t`).
    #[serde(default)]
    pub interactive: bool,
    /// What `uname` and `hostname` say (`-h`); `None`: the host's name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// The ids the program runs with (`-u`); `None`: mvm's own.
    #[serde(default)]
    pub user: Option<User>,
    /// The CPU time the run may use, in CPUs (`--cpus`); the VM shows `ceil` of it.
    #[serde(default)]
    pub cpus: Option<f64>,
    /// Most programs and threads the run may hold at once (`--pids-limit`).
    #[serde(default)]
    pub pids_limit: Option<u64>,
    /// The run's name (`--name`): in mvm's messages and the host's `ps`.
    #[serde(default)]
    pub name: Option<String>,
    /// Extra lines of the program's `/etc/hosts` (`--add-host`).
    #[serde(default)]
    pub hosts: Vec<(String, IpAddr)>,
}

/// A host directory (or file) shown in the program's view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    /// Host path (absolute, canonical).
    pub host: PathBuf,
    /// Guest path (absolute, normalized).
    pub guest: String,
    /// Writable.
    pub rw: bool,
}

/// A private directory that lives in memory, bounded in size, gone with the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tmpfs {
    /// Guest path (absolute, normalized).
    pub guest: String,
    /// Most bytes it may hold; `None`: the run's `--memory`.
    pub size: Option<u64>,
    /// Its root directory's mode.
    pub mode: u32,
    /// Programs on it cannot be executed (`noexec`).
    pub noexec: bool,
}

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Proto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// A `-p [IP:][HOST:]GUEST[/PROTO]` publication: the program's GUEST port is reachable as the
/// host's port HOST on address IP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publish {
    /// The host address it is bound on; `None`: every address.
    pub ip: Option<IpAddr>,
    /// The host's port (picked before the run starts when the user gave none).
    pub host: u16,
    /// The program's port.
    pub guest: u16,
    /// TCP or UDP.
    pub proto: Proto,
}

/// What the program's sockets reach (`--network`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Network {
    /// As on Docker's default network: out to anywhere, its loopback its own, its ports
    /// reachable from the host only when published.
    #[default]
    Default,
    /// Nothing outside the run's own loopback.
    None,
    /// The host's network: its ports are the host's, its loopback the host's.
    Host,
}

/// The ids a program runs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
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
