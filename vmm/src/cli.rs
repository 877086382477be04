//! The command line, with Docker's flag names where Docker has one. Produces a `RunSpec`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use clap::{Parser, Subcommand};

use crate::spec::{parse_duration, parse_size, RunSpec, DEFAULT_MEMORY};

/// mvm: run one Linux program in its own KVM micro-VM.
#[derive(Debug, Parser)]
#[command(name = "mvm", version, about, long_about = None, disable_help_subcommand = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// mvm's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run PROGRAM with ARGS in a new micro-VM; its status is mvm's.
    Run(RunArgs),
    /// List the syscalls mvm serves and how completely (Markdown).
    Syscalls,
    /// Start PROGRAM N times natively and under mvm; print start->exit and peak RSS of each.
    Bench(crate::bench::BenchArgs),
}

/// `mvm run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Most memory the program and the programs it starts may keep resident together (e.g.
    /// 64m, 1g); reservations are free.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "512m")]
    pub memory: u64,
    /// Set an environment variable (KEY=VALUE), or pass KEY from mvm's environment.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<OsString>,
    /// The program's working directory.
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,
    /// A host directory to be the program's / (read-only, with a private writable /tmp).
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<std::path::PathBuf>,
    /// Bind a host directory into the program's view, read-only unless :rw.
    #[arg(short = 'v', long = "volume", value_name = "HOST:GUEST[:ro|:rw]")]
    pub volume: Vec<String>,
    /// Publish the program's port GUEST as the host's port HOST: the ports it may listen on.
    #[arg(short = 'p', long = "publish", value_name = "HOST:GUEST")]
    pub publish: Vec<String>,
    /// `isolated`: the program's loopback (127.0.0.1, ::1) reaches only the run's own sockets
    /// (and DNS on port 53), as a container's does; `host`: also the host's loopback services.
    #[arg(long, value_name = "MODE", default_value = "isolated",
          value_parser = ["isolated", "host"])]
    pub network: String,
    /// End the program after DURATION (e.g. 500ms, 10s, 2m); mvm then exits with 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Print every syscall the program makes, with its result, to stderr (as strace -f does).
    #[arg(long)]
    pub trace: bool,
    /// Write the trace to FILE (created or truncated) instead of stderr; implies --trace.
    #[arg(short = 'o', long = "trace-file", value_name = "FILE")]
    pub trace_file: Option<std::path::PathBuf>,
    /// Print how long each start-up phase took, to stderr.
    #[arg(long)]
    pub timings: bool,
    /// The program (a path, or a name looked up in PATH) and its arguments; everything after
    /// PROGRAM is passed to it as it is, including what looks like mvm's flags.
    #[arg(value_name = "PROGRAM", required = true, trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

impl RunArgs {
    /// The run these flags describe. The environment is mvm's own, with `-e` applied.
    pub fn into_spec(self) -> Result<RunSpec, String> {
        let mut env: Vec<OsString> = std::env::vars_os()
            .map(|(k, v)| {
                let mut s = k;
                s.push("=");
                s.push(v);
                s
            })
            .collect();
        for e in &self.env {
            let bytes = e.as_bytes();
            let (key, value) = match bytes.iter().position(|&b| b == b'=') {
                Some(i) => (&bytes[..i], Some(e.clone())),
                None => (bytes, None),
            };
            if key.is_empty() {
                return Err(format!(
                    "invalid -e '{}': expected KEY=VALUE",
                    e.to_string_lossy()
                ));
            }
            let mut prefix = key.to_vec();
            prefix.push(b'=');
            env.retain(|x| !x.as_bytes().starts_with(&prefix));
            match value {
                Some(v) => env.push(v),
                None => {
                    let k = OsStr::from_bytes(key);
                    if let Some(v) = std::env::var_os(k) {
                        let mut s = k.to_os_string();
                        s.push("=");
                        s.push(v);
                        env.push(s);
                    }
                }
            }
        }
        let workdir = match self.workdir {
            Some(w) if !w.starts_with('/') => {
                return Err(format!("-w {w}: the directory must be absolute"))
            }
            w => w,
        };
        let rootfs = match self.rootfs {
            Some(r) => match std::fs::canonicalize(&r) {
                Ok(p) if p.is_dir() => Some(p),
                Ok(_) => return Err(format!("--rootfs {}: not a directory", r.display())),
                Err(e) => {
                    let e = e.to_string();
                    let e = e.split(" (os error").next().unwrap_or_default();
                    return Err(format!("--rootfs {}: {}", r.display(), e.to_lowercase()));
                }
            },
            None => None,
        };
        let volumes = self
            .volume
            .iter()
            .map(|v| crate::policy::Volume::parse(v))
            .collect::<Result<Vec<_>, _>>()?;
        let publish = self
            .publish
            .iter()
            .map(|p| crate::policy::Publish::parse(p))
            .collect::<Result<Vec<_>, _>>()?;
        let mut command = self.command.into_iter();
        Ok(RunSpec {
            program: command.next().expect("clap requires PROGRAM"),
            args: command.collect(),
            env,
            workdir,
            rootfs,
            volumes,
            publish,
            host_loopback: self.network == "host",
            memory: if self.memory == 0 {
                DEFAULT_MEMORY
            } else {
                self.memory
            },
            timeout: self.timeout,
            trace: self.trace || self.trace_file.is_some(),
            trace_file: self.trace_file,
            timings: self.timings,
        })
    }
}
