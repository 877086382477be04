//! POSIX message queues, private to the run as its SysV objects are (`sys::ipc`): names in
//! `Machine::ipc.mq`, each queue kept while it has a name or an open descriptor. A descriptor
//! (mqd) is an ordinary entry of the program's descriptor table, so close, dup, fork and exec
//! treat it as any other; its host descriptor is one eventfd per queue whose counter mvm keeps
//! so that the host's poll and epoll see the queue: 0 when empty (writable only), 1 when it
//! holds messages (readable and writable), the eventfd maximum when full (readable only).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vmm_sys_util::eventfd::EventFd;

use super::fs::OpenFile;
use super::ipc::{block, Creds, Try, Waiters};
use super::sigframe::SigInfo;
use super::{err, Args, SysError, SysResult};
use crate::task::Task;

/// Default and most messages a queue holds (/proc/sys/fs/mqueue/msg_default, msg_max).
pub const MSG_MAX: i64 = 10;
/// Default and largest message (msgsize_default, msgsize_max).
pub const MSGSIZE_MAX: i64 = 8192;
/// Most queues in the run (queues_max).
pub const QUEUES_MAX: usize = 256;
/// What root may ask for beyond the defaults (Linux's HARD_MSGMAX, HARD_MSGSIZEMAX).
const HARD_MSGMAX: i64 = 65536;
const HARD_MSGSIZEMAX: i64 = 16 << 20;
/// RLIMIT_MSGQUEUE's default: most bytes one user's queues may reserve (which also bounds
/// what they hold of mvm's own memory).
const MSGQUEUE_BYTES: i64 = 819_200;
const MQ_PRIO_MAX: u64 = 32768;
/// `si_code` of a message queue's notification.
pub const SI_MESGQ: i32 = -3;
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;
/// What a full queue's eventfd counter holds: the largest value, at which it is not writable.
const FULL: u64 = 0xffff_ffff_ffff_fffe;

/// The run's queues by name.
pub type Names = HashMap<Vec<u8>, Arc<Queue>>;

/// A registered notification: the program, its signal (none for SIGEV_NONE) and value.
#[derive(Debug, Clone, Copy)]
struct Notify {
    pid: i32,
    signo: i32,
    value: u64,
}

/// A queue's state.
#[derive(Debug)]
struct Inner {
    uid: u32,
    gid: u32,
    mode: u32,
    maxmsg: usize,
    msgsize: usize,
    /// What it reserves against its owner's RLIMIT_MSGQUEUE.
    charge: i64,
    /// The messages, highest priority first, oldest first within a priority.
    msgs: Vec<(u32, Vec<u8>)>,
    bytes: usize,
    /// Blocked senders (tag 0) and receivers (tag 1).
    waiters: Waiters,
    notify: Option<Notify>,
    /// What the eventfd shows now (0, 1 or `FULL`).
    shown: u64,
}

/// One queue.
#[derive(Debug)]
pub struct Queue {
    inner: Mutex<Inner>,
    ready: EventFd,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the eventfd's counter to what the queue's fill says (see the module's doc).
    fn show(&self, q: &mut Inner) {
        let want = match q.msgs.len() {
            0 => 0,
            n if n >= q.maxmsg => FULL,
            _ => 1,
        };
        if want != q.shown {
            // The counter goes to 0 (a nonblocking read takes it), then up to the value.
            let _ = self.ready.read();
            if want != 0 {
                let _ = self.ready.write(want);
            }
            q.shown = want;
        }
    }
}

/// An open queue (the open file description's own part): the queue, how it was opened, and
/// where a read(2) of its status line is.
#[derive(Debug)]
pub struct MqOpen {
    queue: Arc<Queue>,
    read: bool,
    write: bool,
    nonblock: AtomicBool,
    pos: AtomicU64,
}

impl MqOpen {
    /// read(2) of an mqd: Linux's status line (`QSIZE:...`), from where the last read ended.
    pub fn status_line(&self, max: usize) -> Vec<u8> {
        let q = self.queue.lock();
        let (notify, signo, npid) = match q.notify {
            Some(n) if n.signo == 0 => (SIGEV_NONE, 0, n.pid),
            Some(n) => (SIGEV_SIGNAL, n.signo, n.pid),
            None => (0, 0, 0),
        };
        let line = format!(
            "QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n",
            q.bytes, notify, signo, npid
        );
        let at = (self.pos.load(Ordering::Acquire) as usize).min(line.len());
        let end = (at + max).min(line.len());
        self.pos.store(end as u64, Ordering::Release);
        line.as_bytes()[at..end].to_vec()
    }
}

/// The queue's name as mq_open and mq_unlink get it (glibc takes the leading `/` off).
fn name_at(task: &mut Task, at: u64) -> Result<Vec<u8>, SysError> {
    let name = task.mm.read_cstr(at)?;
    if name.len() > 255 {
        return err(libc::ENAMETOOLONG);
    }
    if name.is_empty() || name == b"." || name == b".." {
        return err(libc::ENOENT);
    }
    if name.contains(&b'/') {
        return err(libc::EACCES);
    }
    Ok(name)
}

/// The open queue behind descriptor `fd` (EBADF for another kind of file).
fn mqd(task: &Task, fd: u64) -> Result<Arc<MqOpen>, SysError> {
    match &task.fds.file(fd)?.mq {
        Some(m) => Ok(m.clone()),
        None => err(libc::EBADF),
    }
}

/// An absolute CLOCK_REALTIME `struct timespec` at `at` as a deadline.
fn deadline_at(task: &mut Task, at: u64) -> Result<Option<Instant>, SysError> {
    if at == 0 {
        return Ok(None);
    }
    let ts: [i64; 2] = task.mm.read_obj(at)?;
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return err(libc::EINVAL);
    }
    let now = super::time::now(libc::CLOCK_REALTIME as u64)?;
    let now = Duration::new(now.tv_sec.max(0) as u64, now.tv_nsec as u32);
    let when = Duration::new(ts[0].min(1 << 40) as u64, ts[1] as u32);
    Ok(Some(Instant::now() + when.saturating_sub(now)))
}

/// mq_open(2).
pub fn mq_open(task: &mut Task, a: Args) -> SysResult {
    let (flags, mode, attr) = (a[1] as i32, a[2] as u32, a[3]);
    let name = name_at(task, a[0])?;
    let (read, write) = match flags & libc::O_ACCMODE {
        libc::O_RDONLY => (true, false),
        libc::O_WRONLY => (false, true),
        libc::O_RDWR => (true, true),
        _ => return err(libc::EINVAL),
    };
    let want = (read as u32) << 2 | (write as u32) << 1;
    let c = Creds::of(task);
    let machine = task.machine.clone();
    let mut all = machine.ipc.mq.lock().unwrap_or_else(|e| e.into_inner());
    let queue = match all.get(&name) {
        Some(q) => {
            if flags & libc::O_CREAT != 0 && flags & libc::O_EXCL != 0 {
                return err(libc::EEXIST);
            }
            let i = q.lock();
            if !c.may(i.mode, [i.uid, i.gid, i.uid, i.gid], want) {
                return err(libc::EACCES);
            }
            drop(i);
            q.clone()
        }
        None if flags & libc::O_CREAT == 0 => return err(libc::ENOENT),
        None => {
            let (maxmsg, msgsize) = if attr == 0 {
                (MSG_MAX, MSGSIZE_MAX)
            } else {
                let at: [i64; 4] = task.mm.read_obj(attr)?;
                (at[1], at[2])
            };
            let (mmax, smax) = if c.privileged() {
                (HARD_MSGMAX, HARD_MSGSIZEMAX)
            } else {
                (MSG_MAX, MSGSIZE_MAX)
            };
            if maxmsg <= 0 || msgsize <= 0 || maxmsg > mmax || msgsize > smax {
                return err(libc::EINVAL);
            }
            // What Linux charges against RLIMIT_MSGQUEUE: the messages and their headers,
            // summed over the user's queues (here the named ones).
            let bytes = maxmsg * (msgsize + 48) + maxmsg.min(MQ_PRIO_MAX as i64) * 40;
            let used: i64 = all
                .values()
                .map(|q| {
                    let i = q.lock();
                    if i.uid == c.uid {
                        i.charge
                    } else {
                        0
                    }
                })
                .sum();
            if used + bytes > MSGQUEUE_BYTES {
                return err(libc::EMFILE);
            }
            if all.len() >= QUEUES_MAX && !c.privileged() {
                return err(libc::ENOSPC);
            }
            let ready = EventFd::new(libc::EFD_NONBLOCK | libc::EFD_CLOEXEC)
                .map_err(|_| SysError::Errno(libc::ENFILE))?;
            let umask = task.fs.umask;
            let q = Arc::new(Queue {
                inner: Mutex::new(Inner {
                    uid: c.uid,
                    gid: c.gid,
                    mode: mode & 0o777 & !umask,
                    maxmsg: maxmsg as usize,
                    msgsize: msgsize as usize,
                    charge: bytes,
                    msgs: Vec::new(),
                    bytes: 0,
                    waiters: Waiters::default(),
                    notify: None,
                    shown: 0,
                }),
                ready,
            });
            all.insert(name.clone(), q.clone());
            q
        }
    };
    drop(all);
    // SAFETY: a plain host call on the queue's own eventfd, which `queue` keeps open.
    let dup = unsafe { libc::fcntl(queue.ready.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return err(libc::ENFILE);
    }
    // SAFETY: `dup` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(dup) };
    let mut file = OpenFile::owned(fd, Some([b"/".as_slice(), &name].concat()), true);
    Arc::get_mut(&mut file).expect("just made").mq = Some(Arc::new(MqOpen {
        queue,
        read,
        write,
        nonblock: AtomicBool::new(flags & libc::O_NONBLOCK != 0),
        pos: AtomicU64::new(0),
    }));
    // Linux gives every mqd FD_CLOEXEC.
    task.fds.install(file, true)
}

/// mq_unlink(2).
pub fn mq_unlink(task: &mut Task, a: Args) -> SysResult {
    let name = name_at(task, a[0])?;
    let c = Creds::of(task);
    let machine = task.machine.clone();
    let mut all = machine.ipc.mq.lock().unwrap_or_else(|e| e.into_inner());
    let Some(q) = all.get(&name) else {
        return err(libc::ENOENT);
    };
    // The queues' directory is world-writable and sticky: only the owner (or root) unlinks.
    if !c.privileged() && q.lock().uid != c.uid {
        return err(libc::EPERM);
    }
    all.remove(&name);
    Ok(0)
}

/// mq_timedsend(2).
pub fn mq_timedsend(task: &mut Task, a: Args) -> SysResult {
    let (at, len, prio) = (a[1], a[2], a[3]);
    let m = mqd(task, a[0])?;
    if !m.write {
        return err(libc::EBADF);
    }
    if prio >= MQ_PRIO_MAX {
        return err(libc::EINVAL);
    }
    let deadline = deadline_at(task, a[4])?;
    if len > m.queue.lock().msgsize as u64 {
        return err(libc::EMSGSIZE);
    }
    let mut msg = vec![0u8; len as usize];
    task.mm.read(at, &mut msg)?;
    let mut msg = Some(msg);
    let (pid, tid, uid) = (task.pid(), task.tid, task.aux.uid);
    let machine = task.machine.clone();
    let queue = m.queue.clone();
    let notify = block(
        task,
        deadline,
        libc::ETIMEDOUT,
        || queue.lock(),
        |task, q| {
            if q.msgs.len() >= q.maxmsg {
                if m.nonblock.load(Ordering::Acquire) {
                    return Try::Done(err(libc::EAGAIN));
                }
                q.waiters.add(tid, &task.wake, 0);
                return Try::Wait;
            }
            let body = msg.take().unwrap_or_default();
            let was_empty = q.msgs.is_empty();
            q.bytes += body.len();
            let at = q.msgs.partition_point(|(p, _)| *p >= prio as u32);
            q.msgs.insert(at, (prio as u32, body));
            queue.show(q);
            // Linux notifies when a message reaches an empty queue that no receiver waits on.
            let notify = if was_empty && q.waiters.count(1) == 0 {
                q.notify.take()
            } else {
                None
            };
            q.waiters.wake_all();
            Try::Done(Ok(notify))
        },
        |q, tid| q.waiters.remove(tid),
    )?;
    if let Some(n) = notify.filter(|n| n.signo != 0) {
        if let Some(p) = machine.find(n.pid) {
            p.send(SigInfo {
                signo: n.signo,
                code: SI_MESGQ,
                pid,
                uid,
                addr: n.value,
                ..Default::default()
            });
        }
    }
    Ok(0)
}

/// mq_timedreceive(2).
pub fn mq_timedreceive(task: &mut Task, a: Args) -> SysResult {
    let (at, len, prio_at) = (a[1], a[2], a[3]);
    let m = mqd(task, a[0])?;
    if !m.read {
        return err(libc::EBADF);
    }
    if len < m.queue.lock().msgsize as u64 {
        return err(libc::EMSGSIZE);
    }
    let deadline = deadline_at(task, a[4])?;
    let tid = task.tid;
    let queue = m.queue.clone();
    block(
        task,
        deadline,
        libc::ETIMEDOUT,
        || queue.lock(),
        |task, q| {
            let Some((prio, body)) = q.msgs.first() else {
                if m.nonblock.load(Ordering::Acquire) {
                    return Try::Done(err(libc::EAGAIN));
                }
                q.waiters.add(tid, &task.wake, 1);
                return Try::Wait;
            };
            let written = task.mm.write(at, body).and_then(|_| {
                if prio_at != 0 {
                    task.mm.write_obj(prio_at, prio)
                } else {
                    Ok(())
                }
            });
            if let Err(f) = written {
                return Try::Done(Err(f.into()));
            }
            let (_, body) = q.msgs.remove(0);
            q.bytes -= body.len();
            queue.show(q);
            q.waiters.wake_all();
            Try::Done(Ok(body.len() as u64))
        },
        |q, tid| q.waiters.remove(tid),
    )
}

/// mq_notify(2): SIGEV_SIGNAL and SIGEV_NONE; SIGEV_THREAD (glibc's, over a netlink socket) is
/// ENOSYS.
pub fn mq_notify(task: &mut Task, a: Args) -> SysResult {
    let m = mqd(task, a[0])?;
    let pid = task.pid();
    let want = if a[1] == 0 {
        None
    } else {
        let ev: [u8; 16] = task.mm.read_obj(a[1])?;
        let value = u64::from_le_bytes(ev[0..8].try_into().unwrap());
        let signo = i32::from_le_bytes(ev[8..12].try_into().unwrap());
        match i32::from_le_bytes(ev[12..16].try_into().unwrap()) {
            SIGEV_NONE => Some(Notify {
                pid,
                signo: 0,
                value,
            }),
            SIGEV_SIGNAL if (1..=64).contains(&signo) => Some(Notify { pid, signo, value }),
            SIGEV_THREAD => return err(libc::ENOSYS),
            _ => return err(libc::EINVAL),
        }
    };
    let mut q = m.queue.lock();
    match want {
        None => {
            if q.notify.is_some_and(|n| n.pid == pid) {
                q.notify = None;
            }
        }
        Some(n) => {
            if q.notify.is_some() {
                return err(libc::EBUSY);
            }
            q.notify = Some(n);
        }
    }
    Ok(0)
}

/// mq_getsetattr(2): O_NONBLOCK is the one attribute that changes.
pub fn mq_getsetattr(task: &mut Task, a: Args) -> SysResult {
    let m = mqd(task, a[0])?;
    let new = if a[1] != 0 {
        let at: [i64; 4] = task.mm.read_obj(a[1])?;
        if at[0] & !(libc::O_NONBLOCK as i64) != 0 {
            return err(libc::EINVAL);
        }
        Some(at[0] != 0)
    } else {
        None
    };
    if a[2] != 0 {
        let q = m.queue.lock();
        let flags = if m.nonblock.load(Ordering::Acquire) {
            libc::O_NONBLOCK as i64
        } else {
            0
        };
        let old: [i64; 8] = [
            flags,
            q.maxmsg as i64,
            q.msgsize as i64,
            q.msgs.len() as i64,
            0,
            0,
            0,
            0,
        ];
        drop(q);
        task.mm.write_obj(a[2], &old)?;
    }
    if let Some(nb) = new {
        m.nonblock.store(nb, Ordering::Release);
    }
    Ok(0)
}

/// Program `pid` ended: its notification registrations go (Linux drops them at close).
pub fn on_exit(names: &Names, pid: i32) {
    for q in names.values() {
        let mut i = q.lock();
        if i.notify.is_some_and(|n| n.pid == pid) {
            i.notify = None;
        }
    }
}
