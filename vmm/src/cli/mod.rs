//! The command line, with Docker's flag names and meanings where Docker has one (`docker run`'s
//! flags, as podman takes them too). Produces a `RunSpec`. A Docker flag mvm cannot honour is
//! refused with a one-line reason (`refused`), never silently ignored.

mod docker;
mod refused;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

use crate::spec::{parse_duration, parse_size, Network, RunSpec, Tmpfs, DEFAULT_MEMORY};

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
    #[command(disable_help_flag = true)]
    Run(Box<RunArgs>),
    /// List the syscalls mvm serves and how completely (Markdown).
    Syscalls,
    /// Start PROGRAM N times natively and under mvm; print start->exit and peak RSS of each.
    Bench(crate::bench::BenchArgs),
}

/// The PATH a program gets unless it is given one (Docker's and runc's default).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `mvm run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Keep stdin open: with -t, mvm's stdin is relayed to the program's terminal (without -t,
    /// the program reads mvm's stdin as it is, always).
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Give the program a pseudo-terminal as its stdin, stdout and stderr.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Most memory the program and the programs it starts may keep resident together (e.g.
    /// 64m, 1g); reservations are free. Also bounds the private /tmp.
    #[arg(short = 'm', long, value_name = "SIZE", value_parser = parse_size, default_value = "512m")]
    pub memory: u64,
    /// Set an environment variable (KEY=VALUE), or pass KEY from mvm's environment.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<OsString>,
    /// Read environment variables from a file (KEY=VALUE lines, KEY alone for mvm's own).
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_file: Vec<PathBuf>,
    /// Pass mvm's whole environment to the program (by default it gets only PATH, HOSTNAME,
    /// HOME, TERM on a terminal, and what -e and --env-file give).
    #[arg(long = "env-host")]
    pub env_host: bool,
    /// The program's working directory.
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,
    /// A host directory to be the program's / (read-only, with a private writable /tmp).
    #[arg(long, value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// Show a host directory or file in the program's view, read-write unless :ro.
    #[arg(short = 'v', long = "volume", value_name = "HOST:GUEST[:ro|rw]")]
    pub volume: Vec<String>,
    /// Add a mount: type=bind,source=HOST,target=GUEST[,readonly] or
    /// type=tmpfs,target=GUEST[,tmpfs-size=SIZE][,tmpfs-mode=MODE].
    #[arg(long, value_name = "SPEC")]
    pub mount: Vec<String>,
    /// A private directory in memory at PATH, gone with the run (size: at most SIZE bytes,
    /// default --memory).
    #[arg(long, value_name = "PATH[:size=SIZE,mode=MODE]")]
    pub tmpfs: Vec<String>,
    /// Size of the program's /dev/shm (default 64m).
    #[arg(long = "shm-size", value_name = "SIZE")]
    pub shm_size: Option<String>,
    /// Publish the program's port GUESTPORT on the host's HOSTPORT (a free one if not given,
    /// printed), on address IP (default: all); TCP unless /udp.
    #[arg(
        short = 'p',
        long = "publish",
        value_name = "[IP:][HOSTPORT:]GUESTPORT[/udp]"
    )]
    pub publish: Vec<String>,
    /// default: out to anywhere, the program's loopback its own, only published ports reachable
    /// from the host; none: nothing beyond the run's own loopback; host: the host's network.
    #[arg(long, alias = "net", value_name = "MODE", default_value = "default")]
    pub network: String,
    /// Add IP as HOST's address in the program's /etc/hosts.
    #[arg(long = "add-host", value_name = "HOST:IP")]
    pub add_host: Vec<String>,
    /// The user (and group) the program runs as: names or numbers from its /etc/passwd.
    #[arg(short = 'u', long, value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Add a supplementary group (a name or number).
    #[arg(long = "group-add", value_name = "GROUP")]
    pub group_add: Vec<String>,
    /// What uname and hostname say inside the run (default: the host's name).
    #[arg(short = 'h', long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// A name for the run: in mvm's messages and in the host's ps.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Run this program; every argument after the flags is its argument.
    #[arg(long, value_name = "PROGRAM")]
    pub entrypoint: Option<OsString>,
    /// CPU time the run may use, in CPUs (e.g. 0.5, 2); the program sees ceil(N) CPUs.
    #[arg(long, value_name = "N")]
    pub cpus: Option<String>,
    /// Most programs and threads the run may hold at once (-1: no limit).
    #[arg(long = "pids-limit", value_name = "N", allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// The platform to run: linux/amd64 is the only one.
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Capabilities to drop: the program holds none.
    #[arg(long = "cap-drop", value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Accepted: every run is removed when it ends.
    #[arg(long)]
    pub rm: bool,
    /// Accepted: the program's root is read-only already (its writable places are /tmp,
    /// /dev/shm, tmpfs mounts and volumes).
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Accepted: mvm's init already reaps the program's children and passes signals.
    #[arg(long)]
    pub init: bool,
    /// End the program after DURATION (e.g. 500ms, 10s, 2m); mvm then exits with 124.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Print every syscall the program makes, with its result, to stderr (as strace -f does).
    #[arg(long)]
    pub trace: bool,
    /// Write the trace to FILE (created or truncated) instead of stderr; implies --trace.
    #[arg(short = 'o', long = "trace-file", value_name = "FILE")]
    pub trace_file: Option<PathBuf>,
    /// Print how long each start-up phase took, to stderr.
    #[arg(long)]
    pub timings: bool,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// Docker flags mvm refuses, each with its reason.
    #[command(flatten)]
    pub refused: refused::Refused,
    /// The program (a path, or a name looked up in PATH) and its arguments; everything after
    /// PROGRAM is passed to it as it is, including what looks like mvm's flags.
    #[arg(value_name = "PROGRAM", trailing_var_arg = true)]
    pub command: Vec<OsString>,
}

/// `KEY=VALUE` of one variable.
fn var(k: &OsStr, v: &OsStr) -> OsString {
    let mut s = k.to_os_string();
    s.push("=");
    s.push(v);
    s
}

/// Sets `e` (`KEY=VALUE`, or `KEY` for mvm's own value, if it has one) in `env`.
fn apply_env(env: &mut Vec<OsString>, e: &OsStr, flag: &str) -> Result<(), String> {
    let bytes = e.as_bytes();
    let (key, value) = match bytes.iter().position(|&b| b == b'=') {
        Some(i) => (&bytes[..i], Some(e.to_os_string())),
        None => (bytes, None),
    };
    if key.is_empty() {
        return Err(format!(
            "invalid {flag} '{}': expected KEY=VALUE",
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
                env.push(var(k, &v));
            }
        }
    }
    Ok(())
}

fn has_var(env: &[OsString], key: &str) -> bool {
    env.iter().any(|e| {
        e.as_bytes()
            .strip_prefix(key.as_bytes())
            .is_some_and(|r| r.starts_with(b"="))
    })
}

fn isatty(fd: i32) -> bool {
    // SAFETY: plain query.
    unsafe { libc::isatty(fd) == 1 }
}

impl RunArgs {
    /// The run these flags describe.
    pub fn into_spec(self) -> Result<RunSpec, String> {
        if let Some(why) = self.refused.reason() {
            return Err(why);
        }
        if let Some(p) = self.platform.as_deref().filter(|p| *p != "linux/amd64") {
            return Err(format!(
                "--platform {p}: mvm runs linux/amd64 programs only"
            ));
        }
        let rootfs = match &self.rootfs {
            Some(r) => match std::fs::canonicalize(r) {
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
        let root: PathBuf = rootfs.clone().unwrap_or_else(|| "/".into());
        let network = match self.network.as_str() {
            "default" | "bridge" | "isolated" => Network::Default,
            "none" => Network::None,
            "host" => Network::Host,
            n => {
                return Err(format!(
                    "--network {n}: mvm has no networks to join (default, none or host)"
                ))
            }
        };
        let mut publish = Vec::new();
        for p in &self.publish {
            publish.extend(docker::publish(p)?);
        }
        if !publish.is_empty() && network != Network::Default {
            return Err(format!(
                "-p has no meaning with --network {}: {}",
                self.network,
                if network == Network::Host {
                    "the program's ports are the host's"
                } else {
                    "the program has no network"
                }
            ));
        }
        for (i, a) in publish.iter().enumerate() {
            if publish[..i]
                .iter()
                .any(|b| b.guest == a.guest && b.proto == a.proto)
            {
                return Err(format!(
                    "-p: the program's port {}/{} is published twice (mvm binds one host address per port)",
                    a.guest,
                    if a.proto == crate::spec::Proto::Tcp { "tcp" } else { "udp" }
                ));
            }
        }
        let mut volumes = Vec::new();
        let mut tmpfs: Vec<Tmpfs> = Vec::new();
        for v in &self.volume {
            volumes.push(docker::volume(v)?);
        }
        for m in &self.mount {
            match docker::mount(m)? {
                docker::Mount::Bind(v) => volumes.push(v),
                docker::Mount::Tmpfs(t) => tmpfs.push(t),
            }
        }
        for t in &self.tmpfs {
            tmpfs.push(docker::tmpfs(t)?);
        }
        if let Some(s) = &self.shm_size {
            tmpfs.retain(|t| t.guest != "/dev/shm");
            tmpfs.push(Tmpfs {
                guest: "/dev/shm".into(),
                size: Some(parse_size(s).map_err(|e| format!("--shm-size: {e}"))?),
                mode: 0o1777,
                noexec: false,
            });
        }
        let (mut user, home) = match &self.user {
            Some(u) => {
                let (u, home) = docker::user(u, &root)?;
                (Some(u), home)
            }
            None => (None, None),
        };
        if !self.group_add.is_empty() {
            let u = user.get_or_insert_with(|| {
                // SAFETY: plain id queries.
                let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
                crate::spec::User {
                    uid,
                    gid,
                    groups: Vec::new(),
                }
            });
            for g in &self.group_add {
                let (grp, _) = docker::user(&format!("0:{g}"), &root)
                    .map_err(|e| e.replacen("-u 0:", "--group-add ", 1))?;
                if !u.groups.contains(&grp.gid) {
                    u.groups.push(grp.gid);
                }
            }
        }
        let hostname = self.hostname.as_deref().map(docker::hostname).transpose()?;
        let name = self.name.as_deref().map(docker::name).transpose()?;
        let cpus = self
            .cpus
            .as_deref()
            .map(|c| docker::cpus(c, crate::sys::process::host_cpus()))
            .transpose()?;
        let pids_limit = match self.pids_limit {
            Some(n) if n > 0 => Some(n as u64),
            _ => None,
        };
        let hosts = self
            .add_host
            .iter()
            .map(|h| docker::add_host(h))
            .collect::<Result<Vec<_>, _>>()?;

        // The environment: mvm's own, as it is, with --env-host (podman's); otherwise what
        // Docker sets: PATH, HOSTNAME, TERM on a terminal, HOME (each unless given); then
        // --env-file, then -e, in that order.
        let mut env: Vec<OsString> = if self.env_host {
            std::env::vars_os().map(|(k, v)| var(&k, &v)).collect()
        } else {
            Vec::new()
        };
        for f in &self.env_file {
            for e in docker::env_file(f)? {
                apply_env(&mut env, &e, "--env-file")?;
            }
        }
        for e in &self.env {
            apply_env(&mut env, e, "-e")?;
        }
        let mut defaults: Vec<OsString> = Vec::new();
        let clean = !self.env_host;
        if clean && !has_var(&env, "PATH") {
            defaults.push(format!("PATH={DEFAULT_PATH}").into());
        }
        if clean && !has_var(&env, "HOSTNAME") {
            let h = hostname
                .clone()
                .unwrap_or_else(crate::sys::process::host_name);
            defaults.push(format!("HOSTNAME={h}").into());
        }
        let terminal = self.tty || isatty(0) || isatty(1);
        if clean && terminal && !has_var(&env, "TERM") {
            match std::env::var_os("TERM").filter(|t| !t.is_empty()) {
                Some(t) => defaults.push(var(OsStr::new("TERM"), &t)),
                None if self.tty => defaults.push("TERM=xterm".into()),
                None => {}
            }
        }
        env.splice(0..0, defaults);
        if clean && !has_var(&env, "HOME") {
            // SAFETY: plain id query.
            let uid = user.as_ref().map_or(unsafe { libc::getuid() }, |u| u.uid);
            let home = home
                .or_else(|| docker::home_of(uid, &root))
                .unwrap_or_else(|| "/".into());
            env.push(format!("HOME={home}").into());
        }

        let workdir = match self.workdir {
            Some(w) if !w.starts_with('/') => {
                return Err(format!("-w {w}: the directory must be absolute"))
            }
            w => w,
        };
        let mut command = self.command.into_iter();
        let (program, args) = match self.entrypoint {
            Some(e) if e.is_empty() => {
                return Err("--entrypoint: the program must be named".into());
            }
            Some(e) => (e, command.collect()),
            None => match command.next() {
                Some(p) => (p, command.collect()),
                None => return Err("run: a PROGRAM to run is needed (see mvm run --help)".into()),
            },
        };
        Ok(RunSpec {
            program,
            args,
            env,
            workdir,
            rootfs,
            volumes,
            tmpfs,
            publish,
            network,
            memory: if self.memory == 0 {
                DEFAULT_MEMORY
            } else {
                self.memory
            },
            timeout: self.timeout,
            trace: self.trace || self.trace_file.is_some(),
            trace_file: self.trace_file,
            timings: self.timings,
            tty: self.tty,
            interactive: self.interactive,
            hostname,
            user,
            cpus,
            pids_limit,
            name,
            hosts,
        })
    }
}
