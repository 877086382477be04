//! The synthesized `/proc` and `/dev`: what programs expect to find there, generated from the
//! run's own state (its programs, their address spaces and descriptors, the VM's sizes, the
//! filesystem view), never the host's.
//! `/proc/self` (also `/proc/PID` for the program's own pid, `/proc/thread-self`): `exe`, `cwd`,
//! `fd/`, `maps`, `status`, `stat`, `cmdline`, `comm`, `mounts`, `mountinfo`;
//! `/proc/PID` of the run's other programs: `stat`, `status`, `cmdline`, `comm` (so that `ps`
//! lists the run, as it lists a container);
//! `/proc/cpuinfo` (the host's first CPU, once per CPU the VM shows), `/proc/meminfo`
//! (`--memory`), `/proc/stat` (its `cpu` lines), `/proc/uptime` (since the run began),
//! `/proc/mounts`, `/proc/sys/kernel/pid_max`;
//! `/dev/null`, `zero`, `full`, `random`, `urandom` (the host's devices), `tty` (the caller's
//! controlling terminal: the run's, see `tty`), `pts/N` (the run's terminal, at its host name,
//! so `ttyname(3)` finds it), `stdin`/`stdout`/`stderr`/`fd`, and `shm/` (the run's own
//! directory, a mount of its own). Files are served from sealed memfds;
//! directories list their entries from memory. Everything else under them is ENOENT.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use super::fs::{HostFd, OpenFile};
use super::{err, SysError};
use crate::mm::{VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE};
use crate::policy::{fstat, Resolved};
use crate::task::{ProcHandle, Task};

const DT_DIR: u8 = 4;
const DT_REG: u8 = 8;
const DT_LNK: u8 = 10;
const DT_CHR: u8 = 2;

/// One synthesized node.
enum Node {
    Dir(Vec<(Vec<u8>, u8)>),
    File(Vec<u8>),
    Link(Vec<u8>),
    /// A host device node, by its host path.
    Dev(&'static str),
    /// `/proc/self/fd/N`: guest descriptor N.
    Fd(u64),
    /// `/dev/tty`: the caller's controlling terminal.
    Tty,
    /// `/dev/pts/N`: the run's terminal, at its host name.
    Pts,
}

fn errno(e: i32) -> SysError {
    SysError::Errno(e)
}

/// The run's terminal's name under `/dev/pts`, if it is a pseudo-terminal.
fn pts(task: &Task) -> Option<&str> {
    task.machine.tty.as_ref()?.path().strip_prefix("/dev/pts/")
}

/// Whether `name` is `cpuN` (written as sysfs writes it) for one of `cpus` CPUs.
fn is_cpu_dir(name: &str, cpus: usize) -> bool {
    name.strip_prefix("cpu")
        .and_then(|i| i.parse::<usize>().ok())
        .is_some_and(|i| i < cpus && name == format!("cpu{i}"))
}

fn dir(names: &[(&str, u8)]) -> Node {
    Node::Dir(
        names
            .iter()
            .map(|(n, t)| (n.as_bytes().to_vec(), *t))
            .collect(),
    )
}

fn node(task: &mut Task, guest: &[u8]) -> Result<Node, SysError> {
    // Every name the synthesizer serves is ASCII: a path that is not UTF-8 names nothing here.
    let guest = std::str::from_utf8(guest).map_err(|_| errno(libc::ENOENT))?;
    let parts: Vec<&str> = guest.split('/').filter(|c| !c.is_empty()).collect();
    let me = task.pid().to_string();
    let pid = |p: &str| p == "self" || p == "thread-self" || p == me;
    // Another program of the run, for `/proc/PID/...`.
    let other = match parts.get(1).and_then(|p| p.parse::<i32>().ok()) {
        Some(n) if n != task.pid() => task.machine.find(n),
        _ => None,
    };
    Ok(match parts.as_slice() {
        ["proc"] => {
            let mut pids: Vec<i32> = task.machine.all().iter().map(|p| p.pid).collect();
            pids.sort_unstable();
            let mut v: Vec<(Vec<u8>, u8)> = pids
                .iter()
                .map(|p| (p.to_string().into_bytes(), DT_DIR))
                .collect();
            for (n, t) in [
                (".", DT_DIR),
                ("..", DT_DIR),
                ("self", DT_DIR),
                ("thread-self", DT_DIR),
                ("cpuinfo", DT_REG),
                ("stat", DT_REG),
                ("meminfo", DT_REG),
                ("uptime", DT_REG),
                ("mounts", DT_LNK),
                ("sys", DT_DIR),
            ] {
                v.push((n.as_bytes().to_vec(), t));
            }
            Node::Dir(v)
        }
        ["proc", "cpuinfo"] => Node::File(cpuinfo(super::process::vm_cpus(task))),
        // sysfs: the CPUs the program may use, as glibc's get_nprocs and stress-ng count them.
        ["sys"] => dir(&[(".", DT_DIR), ("..", DT_DIR), ("devices", DT_DIR)]),
        ["sys", "devices"] => dir(&[(".", DT_DIR), ("..", DT_DIR), ("system", DT_DIR)]),
        ["sys", "devices", "system"] => dir(&[(".", DT_DIR), ("..", DT_DIR), ("cpu", DT_DIR)]),
        ["sys", "devices", "system", "cpu"] => {
            let mut v: Vec<(Vec<u8>, u8)> = [".", "..", "online", "possible", "present"]
                .iter()
                .map(|n| {
                    (
                        n.as_bytes().to_vec(),
                        if n.starts_with('.') { DT_DIR } else { DT_REG },
                    )
                })
                .collect();
            for i in 0..super::process::vm_cpus(task) {
                v.push((format!("cpu{i}").into_bytes(), DT_DIR));
            }
            Node::Dir(v)
        }
        ["sys", "devices", "system", "cpu", "online" | "possible" | "present"] => {
            let n = super::process::vm_cpus(task);
            Node::File(match n {
                0 | 1 => b"0\n".to_vec(),
                n => format!("0-{}\n", n - 1).into_bytes(),
            })
        }
        ["sys", "devices", "system", "cpu", c] if is_cpu_dir(c, super::process::vm_cpus(task)) => {
            dir(&[(".", DT_DIR), ("..", DT_DIR)])
        }
        ["proc", "stat"] => Node::File(proc_stat(task)),
        ["proc", "meminfo"] => Node::File(meminfo(task)),
        ["proc", "uptime"] => {
            let up = task.machine.started.elapsed().as_secs_f64();
            Node::File(format!("{up:.2} 0.00\n").into_bytes())
        }
        ["proc", "mounts"] => Node::Link("/proc/self/mounts".into()),
        ["proc", "sys"] => dir(&[
            (".", DT_DIR),
            ("..", DT_DIR),
            ("fs", DT_DIR),
            ("kernel", DT_DIR),
        ]),
        ["proc", "sys", "kernel"] => dir(&[
            (".", DT_DIR),
            ("..", DT_DIR),
            ("msgmax", DT_REG),
            ("msgmnb", DT_REG),
            ("msgmni", DT_REG),
            ("pid_max", DT_REG),
            ("sem", DT_REG),
            ("shmall", DT_REG),
            ("shmmax", DT_REG),
            ("shmmni", DT_REG),
        ]),
        ["proc", "sys", "kernel", "pid_max"] => Node::File(b"4194304\n".to_vec()),
        // The run's own IPC limits (`sys::ipc`, `sys::mqueue`): Linux's defaults.
        ["proc", "sys", "kernel", "sem"] => {
            use super::ipc::{SEMMNI, SEMMNS, SEMMSL, SEMOPM};
            Node::File(format!("{SEMMSL}\t{SEMMNS}\t{SEMOPM}\t{SEMMNI}\n").into_bytes())
        }
        ["proc", "sys", "kernel", "shmmax" | "shmall"] => {
            Node::File(format!("{}\n", super::ipc::SHMMAX).into_bytes())
        }
        ["proc", "sys", "kernel", "shmmni"] => {
            Node::File(format!("{}\n", super::ipc::SHMMNI).into_bytes())
        }
        ["proc", "sys", "kernel", "msgmax"] => {
            Node::File(format!("{}\n", super::ipc::MSGMAX).into_bytes())
        }
        ["proc", "sys", "kernel", "msgmnb"] => {
            Node::File(format!("{}\n", super::ipc::MSGMNB).into_bytes())
        }
        ["proc", "sys", "kernel", "msgmni"] => {
            Node::File(format!("{}\n", super::ipc::MSGMNI).into_bytes())
        }
        ["proc", "sys", "fs"] => dir(&[(".", DT_DIR), ("..", DT_DIR), ("mqueue", DT_DIR)]),
        ["proc", "sys", "fs", "mqueue"] => dir(&[
            (".", DT_DIR),
            ("..", DT_DIR),
            ("msg_default", DT_REG),
            ("msg_max", DT_REG),
            ("msgsize_default", DT_REG),
            ("msgsize_max", DT_REG),
            ("queues_max", DT_REG),
        ]),
        ["proc", "sys", "fs", "mqueue", f] => {
            use super::mqueue::{MSGSIZE_MAX, MSG_MAX, QUEUES_MAX};
            let v = match *f {
                "msg_default" | "msg_max" => MSG_MAX as usize,
                "msgsize_default" | "msgsize_max" => MSGSIZE_MAX as usize,
                "queues_max" => QUEUES_MAX,
                _ => return err(libc::ENOENT),
            };
            Node::File(format!("{v}\n").into_bytes())
        }
        ["proc", p] if pid(p) => dir(&[
            (".", DT_DIR),
            ("..", DT_DIR),
            ("cmdline", DT_REG),
            ("comm", DT_REG),
            ("cwd", DT_LNK),
            ("exe", DT_LNK),
            ("fd", DT_DIR),
            ("maps", DT_REG),
            ("mountinfo", DT_REG),
            ("mounts", DT_REG),
            ("stat", DT_REG),
            ("status", DT_REG),
        ]),
        ["proc", p, "exe"] if pid(p) => Node::Link(task.exe.clone()),
        ["proc", p, "cwd"] if pid(p) => Node::Link(task.cwd.clone()),
        ["proc", p, "maps"] if pid(p) => Node::File(maps(task)),
        ["proc", p, "status"] if pid(p) => Node::File(status(task)),
        ["proc", p, "stat"] if pid(p) => Node::File(own_stat(task)),
        ["proc", p, "cmdline"] if pid(p) => {
            Node::File(task.me.shown.lock().unwrap().cmdline.clone())
        }
        ["proc", p, "comm"] if pid(p) => Node::File(comm(&task.me)),
        ["proc", p, "mounts"] if pid(p) => Node::File(mounts(task, false)),
        ["proc", p, "mountinfo"] if pid(p) => Node::File(mounts(task, true)),
        ["proc", _] if other.is_some() => dir(&[
            (".", DT_DIR),
            ("..", DT_DIR),
            ("cmdline", DT_REG),
            ("comm", DT_REG),
            ("stat", DT_REG),
            ("status", DT_REG),
        ]),
        ["proc", _, f] if other.is_some() => {
            let o = other.as_deref().expect("checked");
            match *f {
                "cmdline" => Node::File(o.shown.lock().unwrap().cmdline.clone()),
                "comm" => Node::File(comm(o)),
                "stat" => Node::File(other_stat(task, o)),
                "status" => Node::File(other_status(task, o)),
                _ => return err(libc::ENOENT),
            }
        }
        ["proc", p, "fd"] if pid(p) => {
            let mut v = vec![(b".".to_vec(), DT_DIR), (b"..".to_vec(), DT_DIR)];
            for (fd, _) in task.fds.open_fds() {
                v.push((fd.to_string().into_bytes(), DT_LNK));
            }
            Node::Dir(v)
        }
        ["proc", p, "fd", n] if pid(p) => fd_node(task, n)?,
        ["dev", "fd", n] => fd_node(task, n)?,
        ["dev"] => {
            let mut v = vec![
                (".", DT_DIR),
                ("..", DT_DIR),
                ("fd", DT_LNK),
                ("full", DT_CHR),
                ("null", DT_CHR),
                ("random", DT_CHR),
                ("shm", DT_DIR),
                ("stderr", DT_LNK),
                ("stdin", DT_LNK),
                ("stdout", DT_LNK),
                ("tty", DT_CHR),
                ("urandom", DT_CHR),
                ("zero", DT_CHR),
            ];
            // The run's own devpts instance is mounted at /dev/pts, and /dev/ptmx leads to its
            // ptmx, as in a container; without one, /dev/pts shows -t's terminal alone.
            let devpts = task.fs.has_mount("/dev/pts");
            if devpts {
                v.push(("ptmx", DT_LNK));
            }
            if devpts || pts(task).is_some() {
                v.push(("pts", DT_DIR));
            }
            dir(&v)
        }
        ["dev", "pts"] if pts(task).is_some() => {
            let n = pts(task).unwrap_or_default().as_bytes().to_vec();
            Node::Dir(vec![
                (b".".to_vec(), DT_DIR),
                (b"..".to_vec(), DT_DIR),
                (n, DT_CHR),
            ])
        }
        ["dev", "pts", n] if pts(task) == Some(n) => Node::Pts,
        ["dev", "ptmx"] if task.fs.has_mount("/dev/pts") => Node::Link("/dev/pts/ptmx".into()),
        ["dev", "null"] => Node::Dev("/dev/null"),
        ["dev", "zero"] => Node::Dev("/dev/zero"),
        ["dev", "full"] => Node::Dev("/dev/full"),
        ["dev", "random"] => Node::Dev("/dev/random"),
        ["dev", "urandom"] => Node::Dev("/dev/urandom"),
        ["dev", "tty"] => Node::Tty,
        ["dev", "fd"] => Node::Link("/proc/self/fd".into()),
        ["dev", "stdin"] => Node::Link("/proc/self/fd/0".into()),
        ["dev", "stdout"] => Node::Link("/proc/self/fd/1".into()),
        ["dev", "stderr"] => Node::Link("/proc/self/fd/2".into()),
        _ => return err(libc::ENOENT),
    })
}

fn fd_node(task: &Task, n: &str) -> Result<Node, SysError> {
    let fd: u64 = n.parse().map_err(|_| errno(libc::ENOENT))?;
    if n != fd.to_string() {
        return err(libc::ENOENT);
    }
    task.fds.file(fd).map_err(|_| errno(libc::ENOENT))?;
    Ok(Node::Fd(fd))
}

fn cpuinfo(n: usize) -> Vec<u8> {
    let host = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let first = host.split("\n\n").next().unwrap_or_default();
    let mut out = String::new();
    for cpu in 0..n {
        for line in first.lines() {
            let key = line.split(':').next().unwrap_or_default().trim();
            let line = match key {
                "processor" | "core id" | "apicid" | "initial apicid" => format!("{key}\t: {cpu}"),
                "physical id" => format!("{key}\t: 0"),
                "siblings" | "cpu cores" => format!("{key}\t: {n}"),
                _ => line.to_string(),
            };
            out.push_str(&line);
            out.push('\n');
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// `/proc/stat`: its CPU lines (glibc counts the online CPUs from them when /sys is absent),
/// with times unknown: zeros; `btime`, when the run began (ps adds start times to it); the
/// run's programs.
fn proc_stat(task: &Task) -> Vec<u8> {
    let n = super::process::vm_cpus(task);
    let mut out = String::from("cpu  0 0 0 0 0 0 0 0 0 0\n");
    for cpu in 0..n {
        out.push_str(&format!("cpu{cpu} 0 0 0 0 0 0 0 0 0 0\n"));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let btime = now.saturating_sub(task.machine.started.elapsed()).as_secs();
    let programs = task.machine.count();
    out.push_str(&format!(
        "ctxt 0\nbtime {btime}\nprocesses {programs}\nprocs_running 1\nprocs_blocked 0\n"
    ));
    out.into_bytes()
}

fn meminfo(task: &Task) -> Vec<u8> {
    let total = task.mm.ram.user_limit() * 4;
    let free = total.saturating_sub(task.mm.ram.run_frames() * 4);
    let rows = [
        ("MemTotal", total),
        ("MemFree", free),
        ("MemAvailable", free),
        ("Buffers", 0),
        ("Cached", 0),
        ("SwapCached", 0),
        ("Active", total - free),
        ("Inactive", 0),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Shmem", 0),
    ];
    rows.iter()
        .map(|(k, v)| format!("{:<16}{v:>8} kB\n", format!("{k}:")))
        .collect::<String>()
        .into_bytes()
}

fn maps(task: &Task) -> Vec<u8> {
    let mut out = Vec::new();
    for (start, v) in task.mm.vmas() {
        let p = |bit, c| if v.prot & bit != 0 { c } else { '-' };
        let (name, offset) = match &v.kind {
            VmaKind::Heap => (&b"[heap]"[..], 0),
            VmaKind::Stack => (&b"[stack]"[..], 0),
            VmaKind::File(f) => (&f.name[..], f.offset),
            VmaKind::Anon => (&b""[..], 0),
        };
        let line = format!(
            "{start:08x}-{:08x} {}{}{}p {offset:08x} 00:00 0",
            v.end,
            p(PROT_READ, 'r'),
            p(PROT_WRITE, 'w'),
            p(PROT_EXEC, 'x')
        );
        if name.is_empty() {
            out.extend_from_slice(line.as_bytes());
        } else {
            out.extend_from_slice(format!("{line:<73}").as_bytes());
            out.extend_from_slice(name);
        }
        out.push(b'\n');
    }
    out
}

/// Clock ticks (USER_HZ, 100 a second) in `d`.
fn ticks(d: std::time::Duration) -> u64 {
    d.as_millis() as u64 / 10
}

/// A program's name: its executable's file name, 15 bytes at most, as `comm` holds it.
fn comm_name(p: &ProcHandle) -> Vec<u8> {
    let exe = p.shown.lock().unwrap().exe.clone();
    base_name(&exe)
}

/// The file name of `path`, 15 bytes at most, as the kernel keeps a program's name.
fn base_name(path: &[u8]) -> Vec<u8> {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    name[..name.len().min(15)].to_vec()
}

fn comm(p: &ProcHandle) -> Vec<u8> {
    [comm_name(p), b"\n".to_vec()].concat()
}

/// Its state letter: a zombie until reaped, else sleeping (the caller itself is running).
fn state(p: &ProcHandle) -> char {
    if p.status.lock().unwrap().is_some() {
        'Z'
    } else if p.is_suspended() {
        'T'
    } else {
        'S'
    }
}

/// What a `/proc/PID/stat` line counts (zeros where mvm does not know).
#[derive(Default)]
struct StatCounts {
    minflt: u64,
    utime: u64,
    stime: u64,
    threads: usize,
    vsize: u64,
    rss: u64,
}

/// A `/proc/PID/stat` line: what mvm knows, zeros for what it does not keep.
fn stat_line(task: &Task, p: &ProcHandle, state: char, c: StatCounts) -> Vec<u8> {
    let started = task.machine.started;
    let ppid = p.ppid.load(std::sync::atomic::Ordering::Acquire);
    let (pgrp, sid) = (p.job.pgid(), p.job.sid());
    // The controlling terminal's device number and foreground group (ps's TTY and `+`).
    let (tty_nr, tpgid) = match &task.machine.tty {
        Some(t) if p.job.ctty.load(std::sync::atomic::Ordering::Acquire) && t.session() == sid => {
            (t.dev() as i64, t.foreground())
        }
        _ => (0, -1),
    };
    let start = ticks(p.born.saturating_duration_since(started));
    let StatCounts {
        minflt,
        utime,
        stime,
        threads,
        vsize,
        rss,
    } = c;
    let mut f = format!("{} (", p.pid).into_bytes();
    f.extend(comm_name(p));
    f.extend(format!(
        ") {state} {ppid} {pgrp} {sid} {tty_nr} {tpgid} 4194304 {minflt} 0 0 0 {utime} {stime} 0 0 20 0 {threads} 0 \
         {start} {vsize} {rss} 18446744073709551615"
    ).as_bytes());
    // startcode .. exit_code: zeros, but exit_signal (SIGCHLD).
    for i in 0..27 {
        f.extend_from_slice(if i == 12 { b" 17" } else { b" 0" });
    }
    f.push(b'\n');
    f
}

fn own_stat(task: &Task) -> Vec<u8> {
    let (user, system) = super::process::process_cpu(task);
    let counts = StatCounts {
        minflt: task.stats.faults,
        utime: ticks(user),
        stime: ticks(system),
        threads: task.live,
        vsize: task.mm.vmas().map(|(start, v)| v.end - start).sum(),
        rss: task.mm.ram.user_frames(),
    };
    stat_line(task, &task.me, 'R', counts)
}

fn other_stat(task: &Task, o: &ProcHandle) -> Vec<u8> {
    let counts = StatCounts {
        threads: o.kicker.count().max(1),
        ..Default::default()
    };
    stat_line(task, o, state(o), counts)
}

fn other_status(task: &Task, o: &ProcHandle) -> Vec<u8> {
    let (u, g) = (task.aux.uid, task.aux.gid);
    let ppid = o.ppid.load(std::sync::atomic::Ordering::Acquire);
    let st = match state(o) {
        'Z' => "Z (zombie)",
        'T' => "T (stopped)",
        _ => "S (sleeping)",
    };
    let rest = format!(
        "\nState:\t{st}\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\n\
         Uid:\t{u}\t{u}\t{u}\t{u}\nGid:\t{g}\t{g}\t{g}\t{g}\nThreads:\t{}\n",
        o.kicker.count().max(1),
        pid = o.pid,
    );
    [&b"Name:\t"[..], &comm_name(o), rest.as_bytes()].concat()
}

/// A path as `/proc/*/mounts` escapes it (its other bytes as they are).
fn escape_path(p: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.len());
    for &c in p {
        match c {
            b' ' => out.extend_from_slice(b"\\040"),
            b'\t' => out.extend_from_slice(b"\\011"),
            b'\n' => out.extend_from_slice(b"\\012"),
            b'\\' => out.extend_from_slice(b"\\134"),
            c => out.push(c),
        }
    }
    out
}

/// `/proc/self/mounts` or (`info`) `/proc/self/mountinfo`: the program's view, parents first.
fn mounts(task: &Task, info: bool) -> Vec<u8> {
    let list = task.fs.mounts();
    let mut out = Vec::new();
    for (i, (m, ty)) in list.iter().enumerate() {
        let id = 21 + i;
        let opt = if m.rw { "rw" } else { "ro" };
        let path = escape_path(&m.guest);
        let source = if matches!(*ty, "proc" | "devtmpfs") {
            ty
        } else {
            "mvm"
        };
        if info {
            // The parent: the longest earlier mount whose path contains this one.
            let parent = list[..i]
                .iter()
                .enumerate()
                .rev()
                .find(|(_, (p, _))| {
                    p.guest == b"/" || m.guest.starts_with(&[&p.guest[..], b"/"].concat())
                })
                .map_or(id, |(j, _)| 21 + j);
            out.extend(format!("{id} {parent} 0:{id} / ").as_bytes());
            out.extend(path);
            out.extend(format!(" {opt},relatime - {ty} {source} {opt}\n").as_bytes());
        } else {
            out.extend(format!("{source} ").as_bytes());
            out.extend(path);
            out.extend(format!(" {ty} {opt},relatime 0 0\n").as_bytes());
        }
    }
    out
}

fn status(task: &Task) -> Vec<u8> {
    let name = base_name(&task.exe);
    let rss = task.mm.ram.user_frames() * 4;
    let (u, g) = (task.aux.uid, task.aux.gid);
    let (pid, tid, threads) = (task.pid(), task.tid, task.live);
    let ppid = task.me.ppid.load(std::sync::atomic::Ordering::Acquire);
    let cpus = super::process::vm_cpus(task);
    let mask = if cpus >= 64 {
        u64::MAX
    } else {
        (1u64 << cpus) - 1
    };
    let rest = format!(
        "\nUmask:\t{:04o}\nState:\tR (running)\nTgid:\t{pid}\nNgid:\t0\n\
         Pid:\t{tid}\nPPid:\t{ppid}\nTracerPid:\t0\nUid:\t{u}\t{u}\t{u}\t{u}\n\
         Gid:\t{g}\t{g}\t{g}\t{g}\nFDSize:\t{}\nVmRSS:\t{rss:>8} kB\nThreads:\t{threads}\n\
         SigQ:\t0/63000\nCpus_allowed:\t{mask:x}\nCpus_allowed_list:\t0-{}\n",
        task.fs.umask,
        super::fs::max_fds(),
        cpus - 1
    );
    [&b"Name:\t"[..], &name, rest.as_bytes()].concat()
}

/// A synthesized file's content as a read-only memfd, read from its start.
fn memfd(content: &[u8]) -> Result<OwnedFd, SysError> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::PermissionsExt;
    let mut f = crate::boot::embedded_file(content).map_err(SysError::Errno)?;
    let io = |e: std::io::Error| SysError::Errno(e.raw_os_error().unwrap_or(libc::EIO));
    f.seek(SeekFrom::Start(0)).map_err(io)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o444))
        .map_err(io)?;
    Ok(OwnedFd::from(f))
}

fn lnk_stat(task: &mut Task) -> Result<libc::stat, SysError> {
    let mut st = super::path::stat_empty_dir(task)?;
    st.st_mode = libc::S_IFLNK | 0o777;
    st.st_size = 0;
    st.st_nlink = 1;
    Ok(st)
}

fn follow(task: &mut Task, target: &[u8], depth: u32) -> Result<Resolved, SysError> {
    if depth > 8 {
        return err(libc::ELOOP);
    }
    task.fs.resolve(b"/", target, true).map_err(errno)
}

/// stat of a host device node.
fn host_stat(p: &str) -> Result<libc::stat, SysError> {
    let c = CString::new(p).expect("no NUL");
    // SAFETY: plain struct filled by the host.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: valid path and output.
    super::host(unsafe { libc::stat(c.as_ptr(), &mut st) } as isize)?;
    Ok(st)
}

/// stat of a synthesized path (following its last symlink when `r.follow`).
pub fn stat(task: &mut Task, r: &Resolved) -> Result<libc::stat, SysError> {
    stat_depth(task, r, 0)
}

fn stat_depth(task: &mut Task, r: &Resolved, depth: u32) -> Result<libc::stat, SysError> {
    match node(task, &r.guest)? {
        Node::Dir(_) => super::path::stat_empty_dir(task),
        Node::File(c) => fstat(memfd(&c)?.as_raw_fd()).map_err(errno),
        Node::Dev(p) => host_stat(p),
        Node::Tty => host_stat("/dev/tty"),
        Node::Pts => {
            // Through mvm's own descriptor of it: its host path is not in mvm's mount namespace.
            let t = task.machine.tty.as_ref().ok_or(errno(libc::ENOENT))?;
            fstat(t.node()).map_err(errno)
        }
        _ if !r.follow => lnk_stat(task),
        Node::Fd(fd) => fstat(task.fds.get(fd)?).map_err(errno),
        Node::Link(t) => {
            let t = follow(task, &t, depth)?;
            if task.fs.synthesized(&t).is_some() {
                stat_depth(task, &t, depth + 1)
            } else {
                let fd = task.fs.path_fd(&t).map_err(errno)?;
                fstat(fd.as_raw_fd()).map_err(errno)
            }
        }
    }
}

/// readlink of a synthesized path.
pub fn readlink(task: &mut Task, r: &Resolved) -> Result<Vec<u8>, SysError> {
    match node(task, &r.guest)? {
        Node::Link(t) => Ok(t),
        Node::Fd(fd) => {
            let f = task.fds.file(fd)?;
            if let Some(p) = &f.path {
                return Ok(p.clone());
            }
            let link = format!("/proc/self/fd/{}", f.raw());
            let t = std::fs::read_link(link).map_err(|_| errno(libc::ENOENT))?;
            Ok(t.into_os_string().into_vec())
        }
        _ => err(libc::EINVAL),
    }
}

/// Opens a synthesized path.
pub fn open(task: &mut Task, r: &Resolved, flags: i32) -> Result<Arc<OpenFile>, SysError> {
    open_depth(task, r, flags, 0)
}

fn open_depth(
    task: &mut Task,
    r: &Resolved,
    flags: i32,
    depth: u32,
) -> Result<Arc<OpenFile>, SysError> {
    let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
    let n = node(task, &r.guest)?;
    if flags & libc::O_DIRECTORY != 0 && !matches!(n, Node::Dir(_) | Node::Link(_) | Node::Fd(_)) {
        return err(libc::ENOTDIR);
    }
    match n {
        Node::Dir(entries) => {
            if writes {
                return err(libc::EISDIR);
            }
            Ok(Arc::new(OpenFile {
                host: HostFd::Owned(task.fs.empty_dir().map_err(errno)?),
                path: Some(r.guest.clone()),
                writable: false,
                listing: Some((entries, AtomicUsize::new(0))),
                mapped: Default::default(),
                signalfd: None,
                mq: None,
            }))
        }
        Node::File(c) => {
            if writes {
                return err(libc::EACCES);
            }
            Ok(OpenFile::owned(memfd(&c)?, Some(r.guest.clone()), false))
        }
        Node::Dev(p) => {
            let keep = libc::O_ACCMODE | libc::O_NONBLOCK | libc::O_APPEND | libc::O_NOCTTY;
            let c = CString::new(p).expect("no NUL");
            // SAFETY: valid path; the result is a new fd we own.
            let fd = unsafe { libc::open(c.as_ptr(), (flags & keep) | libc::O_CLOEXEC) };
            super::host(fd as isize)?;
            // SAFETY: a fresh descriptor.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            Ok(OpenFile::owned(fd, Some(r.guest.clone()), true))
        }
        Node::Tty | Node::Pts => {
            let tty = task.machine.tty.as_ref();
            let t = match n {
                // /dev/tty is the caller's controlling terminal: ENXIO without one.
                Node::Tty => tty.filter(|t| {
                    task.me.job.ctty.load(std::sync::atomic::Ordering::Acquire)
                        && t.session() == task.me.job.sid()
                }),
                _ => tty,
            }
            .ok_or(errno(libc::ENXIO))?;
            let fd = t.reopen(flags).map_err(errno)?;
            Ok(OpenFile::owned(fd, Some(r.guest.clone()), true))
        }
        _ if flags & libc::O_NOFOLLOW != 0 && flags & libc::O_PATH == 0 => err(libc::ELOOP),
        Node::Fd(fd) => {
            let f = task.fds.file(fd)?;
            if writes && !f.writable {
                return err(libc::EROFS);
            }
            let keep = libc::O_ACCMODE
                | libc::O_NONBLOCK
                | libc::O_APPEND
                | libc::O_DIRECTORY
                | libc::O_TRUNC
                | libc::O_PATH;
            // mvm's own magic link to a descriptor it holds: no guest path reaches the host.
            let link = CString::new(format!("/proc/self/fd/{}", f.raw())).expect("no NUL");
            // SAFETY: valid path; the result is a new fd we own.
            let h = unsafe { libc::open(link.as_ptr(), (flags & keep) | libc::O_CLOEXEC) };
            super::host(h as isize)?;
            // SAFETY: a fresh descriptor.
            let h = unsafe { OwnedFd::from_raw_fd(h) };
            Ok(Arc::new(OpenFile {
                host: HostFd::Owned(h),
                path: f.path.clone(),
                writable: f.writable,
                listing: None,
                mapped: Default::default(),
                signalfd: None,
                mq: None,
            }))
        }
        Node::Link(t) => {
            let t = follow(task, &t, depth)?;
            if task.fs.synthesized(&t).is_some() {
                return open_depth(task, &t, flags, depth + 1);
            }
            let fd = task.fs.open(&t, flags, 0).map_err(errno)?;
            let writable = task.fs.mount(&t).rw;
            Ok(OpenFile::owned(fd, Some(t.guest), writable))
        }
    }
}
