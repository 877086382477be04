//! Docker `run` flags that mvm cannot honour, each with the one-line reason it gives. They are
//! parsed (hidden from `--help`) so that a Docker script fails with the reason rather than
//! with "unexpected argument", and never runs with the flag silently ignored.

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};

/// (long name, short name, whether it takes a value, why mvm refuses it).
const REFUSED: &[(&str, Option<char>, bool, &str)] = &[
    ("detach", Some('d'), false, "mvm runs the program in the foreground: start mvm in the background with your shell (&) or a service manager"),
    ("detach-keys", None, true, "mvm does not detach from a run"),
    ("attach", Some('a'), true, "the program's stdin, stdout and stderr are always mvm's"),
    ("sig-proxy", None, false, "mvm always passes the signals it receives to the program"),
    ("privileged", None, false, "the program gets no host privileges: its system calls are served under mvm's policy"),
    ("cap-add", None, true, "the program holds no capabilities and cannot be given any"),
    ("device", None, true, "the program sees no host devices beyond its own /dev"),
    ("device-cgroup-rule", None, true, "the program sees no host devices beyond its own /dev"),
    ("gpus", None, true, "mvm gives the program no GPU"),
    ("security-opt", None, true, "mvm's confinement (the view, seccomp, Landlock) takes no options"),
    ("userns", None, true, "the program's ids are its own already; no user namespace is joined"),
    ("pid", None, true, "every run has its own pids (the first program is 1); joining another is not served"),
    ("ipc", None, true, "every run has its own IPC (its /dev/shm); joining another is not served"),
    ("uts", None, true, "every run has its own host name (-h); joining another is not served"),
    ("cgroupns", None, true, "mvm shows the program no cgroups"),
    ("cgroup-parent", None, true, "mvm does not place runs in cgroups: use --memory, --cpus, --pids-limit"),
    ("restart", None, true, "mvm does not restart programs: use a service manager"),
    ("link", None, true, "links between containers are not served: publish ports with -p"),
    ("volumes-from", None, true, "there are no other containers to take volumes from"),
    ("dns", None, true, "the program uses the host's resolver (its /etc/resolv.conf)"),
    ("dns-search", None, true, "the program uses the host's resolver (its /etc/resolv.conf)"),
    ("dns-option", None, true, "the program uses the host's resolver (its /etc/resolv.conf)"),
    ("domainname", None, true, "not served: the program's domain name is the host's"),
    ("mac-address", None, true, "the program has no network interface of its own"),
    ("ip", None, true, "the program has no network interface of its own"),
    ("ip6", None, true, "the program has no network interface of its own"),
    ("network-alias", None, true, "the program has no network of its own to be named in"),
    ("expose", None, true, "ports are reachable from the host only when published with -p"),
    ("publish-all", Some('P'), false, "mvm publishes exactly the ports -p names"),
    ("log-driver", None, true, "the program's output is mvm's own stdout and stderr"),
    ("log-opt", None, true, "the program's output is mvm's own stdout and stderr"),
    ("runtime", None, true, "mvm is the runtime"),
    ("isolation", None, true, "every run is a KVM micro-VM"),
    ("pull", None, true, "mvm runs host programs and root directories: there are no images to pull"),
    ("quiet", Some('q'), false, "mvm pulls nothing, so there is nothing to be quiet about"),
    ("disable-content-trust", None, false, "mvm pulls nothing"),
    ("sysctl", None, true, "the program's kernel settings are mvm's own"),
    ("ulimit", None, true, "not served yet: the program's limits are mvm's defaults (setrlimit works inside)"),
    ("oom-kill-disable", None, false, "a run past --memory is killed, as by the OOM killer"),
    ("oom-score-adj", None, true, "mvm does not set the host's OOM score"),
    ("memory-swap", None, true, "mvm does not swap: --memory bounds what is resident"),
    ("memory-reservation", None, true, "use --memory: it bounds what is resident"),
    ("memory-swappiness", None, true, "mvm does not swap"),
    ("kernel-memory", None, true, "use --memory"),
    ("cpu-shares", Some('c'), true, "use --cpus"),
    ("cpu-period", None, true, "use --cpus"),
    ("cpu-quota", None, true, "use --cpus"),
    ("cpu-rt-period", None, true, "use --cpus"),
    ("cpu-rt-runtime", None, true, "use --cpus"),
    ("cpuset-cpus", None, true, "use --cpus: mvm does not pin a run to CPUs"),
    ("cpuset-mems", None, true, "mvm does not pin a run to memory nodes"),
    ("blkio-weight", None, true, "mvm does not throttle I/O"),
    ("blkio-weight-device", None, true, "mvm does not throttle I/O"),
    ("device-read-bps", None, true, "mvm does not throttle I/O"),
    ("device-write-bps", None, true, "mvm does not throttle I/O"),
    ("device-read-iops", None, true, "mvm does not throttle I/O"),
    ("device-write-iops", None, true, "mvm does not throttle I/O"),
    ("storage-opt", None, true, "there is no container storage"),
    ("health-cmd", None, true, "mvm has no health checks"),
    ("health-interval", None, true, "mvm has no health checks"),
    ("health-retries", None, true, "mvm has no health checks"),
    ("health-timeout", None, true, "mvm has no health checks"),
    ("health-start-period", None, true, "mvm has no health checks"),
    ("no-healthcheck", None, false, "mvm has no health checks"),
    ("label", Some('l'), true, "mvm keeps no labels for a run"),
    ("label-file", None, true, "mvm keeps no labels for a run"),
    ("annotation", None, true, "mvm keeps no annotations for a run"),
    ("stop-signal", None, true, "no daemon stops a run: send mvm the signal yourself"),
    ("stop-timeout", None, true, "no daemon stops a run: use --timeout"),
    ("cidfile", None, true, "a run has no container id (mvm's pid is the run's)"),
];

/// The first refused flag on the command line, with its reason.
#[derive(Debug, Default, Clone)]
pub struct Refused(Option<String>);

impl Refused {
    /// The one-line reason, if a refused flag was given.
    pub fn reason(&self) -> Option<String> {
        self.0.clone()
    }
}

impl clap::FromArgMatches for Refused {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let given = REFUSED
            .iter()
            .find(|(long, ..)| m.value_source(long) == Some(ValueSource::CommandLine));
        Ok(Refused(
            given.map(|(long, _, _, why)| format!("--{long}: {why}")),
        ))
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for Refused {
    fn augment_args(cmd: Command) -> Command {
        REFUSED.iter().fold(cmd, |cmd, &(long, short, value, _)| {
            let arg = Arg::new(long).long(long).hide(true);
            let arg = match short {
                Some(c) => arg.short(c),
                None => arg,
            };
            cmd.arg(if value {
                arg.num_args(1).action(ArgAction::Append)
            } else {
                arg.action(ArgAction::SetTrue)
            })
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut longs: Vec<_> = REFUSED.iter().map(|r| r.0).collect();
        longs.sort_unstable();
        let n = longs.len();
        longs.dedup();
        assert_eq!(n, longs.len());
    }
}
