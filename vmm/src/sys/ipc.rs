//! System V semaphores and message queues, kept inside mvm for the run alone: every run is its
//! own IPC namespace (as a container's), so the host's SysV objects, which every run would share
//! and which would outlive it, are never used. The objects live in the run's `Machine`
//! (`Machine::ipc`), shared by all its programs, and go with it. A blocked call sleeps on the
//! thread's own wake-up (as a futex wait does) and is woken when its object changes, from any
//! program of the run; semaphore undo adjustments are applied when a program ends. A shared
//! memory segment is a host memfd, attached as a `MAP_SHARED` mapping of it is (the same host
//! pages in every program of the run that attaches it), its pages charged to `--memory`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{err, Args, SysError, SysResult};
use crate::layout::{PAGE_SIZE, USER_TOP};
use crate::mm::page_up;
use crate::task::{Task, Wake};

const IPC_PRIVATE: i32 = 0;
const IPC_CREAT: i32 = 0o1000;
const IPC_EXCL: i32 = 0o2000;
const IPC_NOWAIT: i32 = 0o4000;
const IPC_RMID: i32 = 0;
const IPC_SET: i32 = 1;
const IPC_STAT: i32 = 2;
const IPC_INFO: i32 = 3;
/// The "new layout" flag old callers put in `cmd`; x86-64 has one layout only.
const IPC_64: i32 = 0x100;
const GETPID: i32 = 11;
const GETVAL: i32 = 12;
const GETALL: i32 = 13;
const GETNCNT: i32 = 14;
const GETZCNT: i32 = 15;
const SETVAL: i32 = 16;
const SETALL: i32 = 17;
const SEM_STAT: i32 = 18;
const SEM_INFO: i32 = 19;
const SEM_STAT_ANY: i32 = 20;
const MSG_STAT: i32 = 11;
const MSG_INFO: i32 = 12;
const MSG_STAT_ANY: i32 = 13;
const SEM_UNDO: i16 = 0x1000;
const MSG_NOERROR: i32 = 0o10000;
const MSG_EXCEPT: i32 = 0o20000;
const MSG_COPY: i32 = 0o40000;

/// The limits (what /proc/sys/kernel/{sem,msgmax,msgmnb,msgmni} show): Linux's defaults but
/// for the semaphores in the run, fewer than Linux's 1,024,000,000, as mvm keeps them in its own
/// memory (outside the run's `--memory`): a million take 8 MiB.
pub const SEMMSL: usize = 32000;
/// Most semaphores in the run.
pub const SEMMNS: usize = 1 << 20;
/// Most operations in one semop.
pub const SEMOPM: usize = 500;
/// Most semaphore sets.
pub const SEMMNI: usize = 32000;
const SEMVMX: i32 = 32767;
/// Largest message.
pub const MSGMAX: usize = 8192;
/// Default bytes a queue holds.
pub const MSGMNB: usize = 16384;
/// Most message queues.
pub const MSGMNI: usize = 32000;
/// Most bytes all the run's message queues hold together, each message counted with a header
/// as Linux counts it: Linux's limits would let a run hold 512 MiB (and far more in the
/// headers of empty messages) of mvm's own memory; past this a queue is full.
const MSG_BUDGET: usize = 64 << 20;
/// What one message costs against `MSG_BUDGET` besides its text.
const MSG_HEADER: usize = 48;
/// Most shared memory segments (Linux's default).
pub const SHMMNI: usize = 4096;
/// Largest segment, and most pages of all segments (Linux's defaults, ULONG_MAX - 2^24): the
/// run's `--memory` is the real limit.
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
const SHM_STAT: i32 = 13;
const SHM_INFO: i32 = 14;
const SHM_STAT_ANY: i32 = 15;
const SHM_LOCK: i32 = 11;
const SHM_UNLOCK: i32 = 12;
/// Mode bits of a segment: removed while attached, locked.
const SHM_DEST: u32 = 0o1000;
const SHM_LOCKED: u32 = 0o2000;
const SHM_RDONLY: u64 = 0o10000;
const SHM_RND: u64 = 0o20000;
const SHM_REMAP: u64 = 0o40000;
const SHM_EXEC: u64 = 0o100000;
/// Ids are an index plus a sequence number times this (Linux's IPCMNI).
const SEQ_MULTIPLIER: i32 = 32768;

/// A set of threads waiting for an object to change, each with a tag saying for what.
#[derive(Debug, Default)]
pub struct Waiters(Vec<(i32, Arc<Wake>, u32)>);

impl Waiters {
    /// Adds thread `tid` (once).
    pub fn add(&mut self, tid: i32, wake: &Arc<Wake>, tag: u32) {
        if !self.0.iter().any(|w| w.0 == tid) {
            self.0.push((tid, wake.clone(), tag));
        }
    }

    /// Takes thread `tid` off.
    pub fn remove(&mut self, tid: i32) {
        self.0.retain(|w| w.0 != tid);
    }

    /// Wakes (and takes off) every waiter: each looks again at the object.
    pub fn wake_all(&mut self) {
        for (_, w, _) in self.0.drain(..) {
            w.wake();
        }
    }

    /// How many wait with tag `tag`.
    pub fn count(&self, tag: u32) -> usize {
        self.0.iter().filter(|w| w.2 == tag).count()
    }
}

/// Who the caller is, for permission checks.
#[derive(Debug, Clone)]
pub struct Creds {
    /// Its user (real = effective in mvm).
    pub uid: u32,
    /// Its group.
    pub gid: u32,
    /// Its supplementary groups.
    pub groups: Vec<u32>,
}

impl Creds {
    /// The calling program's.
    pub fn of(task: &Task) -> Creds {
        Creds {
            uid: task.aux.uid,
            gid: task.aux.gid,
            groups: task.groups.clone(),
        }
    }

    /// Whether it may bypass permission checks (root).
    pub fn privileged(&self) -> bool {
        self.uid == 0
    }

    /// Whether mode bits `mode` of an object owned by (`uid`, `gid`) and created by (`cuid`,
    /// `cgid`) grant `want` (an rwx triple in the low bits).
    pub fn may(&self, mode: u32, owner: [u32; 4], want: u32) -> bool {
        let [uid, gid, cuid, cgid] = owner;
        let granted = if self.uid == uid || self.uid == cuid {
            mode >> 6
        } else if self.gid == gid
            || self.gid == cgid
            || self.groups.iter().any(|g| *g == gid || *g == cgid)
        {
            mode >> 3
        } else {
            mode
        };
        self.privileged() || want & !granted & 7 == 0
    }
}

/// An object's key, owners and mode (`struct ipc64_perm`).
#[derive(Debug, Clone)]
struct Perm {
    key: i32,
    uid: u32,
    gid: u32,
    cuid: u32,
    cgid: u32,
    mode: u32,
}

impl Perm {
    fn new(key: i32, flags: i32, c: &Creds) -> Perm {
        Perm {
            key,
            uid: c.uid,
            gid: c.gid,
            cuid: c.uid,
            cgid: c.gid,
            mode: flags as u32 & 0o777,
        }
    }

    fn owners(&self) -> [u32; 4] {
        [self.uid, self.gid, self.cuid, self.cgid]
    }

    fn may(&self, c: &Creds, want: u32) -> bool {
        c.may(self.mode, self.owners(), want)
    }

    /// Whether `c` may change or remove the object (its owner, its creator, root).
    fn owned_by(&self, c: &Creds) -> bool {
        c.privileged() || c.uid == self.uid || c.uid == self.cuid
    }

    /// The 48 bytes of `struct ipc64_perm`.
    fn bytes(&self, seq: u16) -> [u8; 48] {
        let mut b = [0u8; 48];
        let words = [
            self.key as u32,
            self.uid,
            self.gid,
            self.cuid,
            self.cgid,
            self.mode,
        ];
        for (i, w) in words.iter().enumerate() {
            b[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
        }
        b[24..26].copy_from_slice(&seq.to_le_bytes());
        b
    }

    /// IPC_SET: owners and mode from a guest `ipc64_perm`.
    fn set(&mut self, b: &[u8]) {
        let w = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        self.uid = w(4);
        self.gid = w(8);
        self.mode = (self.mode & !0o777) | (w(20) & 0o777);
    }
}

/// Objects of one kind by id: a slot index and the slot's sequence number.
#[derive(Debug)]
struct Table<T> {
    slots: Vec<Option<(u16, Perm, T)>>,
    seqs: Vec<u16>,
    max: usize,
}

impl<T> Table<T> {
    fn new(max: usize) -> Self {
        Table {
            slots: Vec::new(),
            seqs: Vec::new(),
            max,
        }
    }

    fn id_of(idx: usize, seq: u16) -> i32 {
        seq as i32 * SEQ_MULTIPLIER + idx as i32
    }

    fn idx_of(&self, id: i32) -> Option<usize> {
        if id < 0 {
            return None;
        }
        let idx = (id % SEQ_MULTIPLIER) as usize;
        match self.slots.get(idx)? {
            Some((seq, _, _)) if *seq as i32 == id / SEQ_MULTIPLIER => Some(idx),
            _ => None,
        }
    }

    fn get(&mut self, id: i32) -> Option<(&mut Perm, &mut T)> {
        let idx = self.idx_of(id)?;
        self.slots[idx].as_mut().map(|(_, p, t)| (p, t))
    }

    fn by_key(&self, key: i32) -> Option<i32> {
        self.slots.iter().enumerate().find_map(|(i, s)| match s {
            Some((seq, p, _)) if p.key == key => Some(Self::id_of(i, *seq)),
            _ => None,
        })
    }

    fn insert(&mut self, perm: Perm, t: T) -> Result<i32, SysError> {
        let idx = match self.slots.iter().position(|s| s.is_none()) {
            Some(i) => i,
            None if self.slots.len() < self.max => {
                self.slots.push(None);
                self.seqs.push(0);
                self.slots.len() - 1
            }
            None => return err(libc::ENOSPC),
        };
        let seq = self.seqs[idx];
        self.slots[idx] = Some((seq, perm, t));
        Ok(Self::id_of(idx, seq))
    }

    fn remove(&mut self, id: i32) -> Option<T> {
        let idx = self.idx_of(id)?;
        let (_, _, t) = self.slots[idx].take()?;
        self.seqs[idx] = (self.seqs[idx] + 1) % (i32::MAX / SEQ_MULTIPLIER) as u16;
        Some(t)
    }

    fn used(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// The highest slot in use (IPC_INFO's answer), or 0.
    fn highest(&self) -> usize {
        self.slots.iter().rposition(|s| s.is_some()).unwrap_or(0)
    }

    /// SEM_STAT, MSG_STAT, SHM_STAT (and their `_ANY` forms, which need no read permission):
    /// the object at slot `idx`, with its id and sequence number; EINVAL for an empty slot.
    fn stat_at(
        &mut self,
        idx: u64,
        any: bool,
        c: &Creds,
    ) -> Result<(i32, u16, &mut Perm, &mut T), SysError> {
        let Some(Some((seq, perm, t))) = self.slots.get_mut(idx as usize) else {
            return err(libc::EINVAL);
        };
        if !any && !perm.may(c, 4) {
            return err(libc::EACCES);
        }
        Ok((Self::id_of(idx as usize, *seq), *seq, perm, t))
    }

    fn values_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.slots.iter_mut().flatten().map(|(_, _, t)| t)
    }

    /// Removes every object `keep` says no to.
    fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        for idx in 0..self.slots.len() {
            if self.slots[idx].as_ref().is_some_and(|(_, _, t)| !keep(t)) {
                self.slots[idx] = None;
                self.seqs[idx] = (self.seqs[idx] + 1) % (i32::MAX / SEQ_MULTIPLIER) as u16;
            }
        }
    }
}

/// One semaphore.
#[derive(Debug, Default, Clone)]
struct Sem {
    val: i32,
    pid: i32,
}

/// A semaphore set.
#[derive(Debug)]
struct SemSet {
    sems: Vec<Sem>,
    otime: i64,
    ctime: i64,
    /// Blocked semops, tagged with the semaphore they wait on, times two, plus one when they
    /// wait for zero (GETNCNT, GETZCNT).
    waiters: Waiters,
}

/// One SEM_UNDO adjustment a program holds.
#[derive(Debug)]
struct Undo {
    pid: i32,
    id: i32,
    num: usize,
    adj: i32,
}

/// A message queue.
#[derive(Debug)]
struct MsgQueue {
    msgs: VecDeque<(i64, Vec<u8>)>,
    cbytes: usize,
    qbytes: usize,
    stime: i64,
    rtime: i64,
    ctime: i64,
    lspid: i32,
    lrpid: i32,
    /// Blocked msgsnd (tag 0) and msgrcv (tag 1) calls.
    waiters: Waiters,
}

/// The memory of a shared memory segment: a memfd of its size, whose pages are charged to the
/// run's `--memory` (all of them, when the segment is made, as Linux's strict overcommit
/// charges them) until the segment is gone: removed and detached everywhere.
#[derive(Debug)]
pub struct ShmMem {
    /// The memfd, at least `frames` pages long (longer when reused: `ShmPool`).
    file: Arc<std::fs::File>,
    /// Its length.
    len: u64,
    frames: u64,
    budget: Arc<crate::vstate::memory::Budget>,
    pool: Arc<ShmPool>,
    /// What attaching and detaching change: atime, dtime, lpid.
    stats: Mutex<(i64, i64, i32)>,
}

impl ShmMem {
    fn touch(&self, pid: i32, attach: bool) {
        let mut st = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        if attach {
            st.0 = now();
        } else {
            st.1 = now();
        }
        st.2 = pid;
    }
}

impl Drop for ShmMem {
    fn drop(&mut self) {
        // A program's memory may still show the memfd (a window is kept until the program's
        // memory goes): its pages are given back to the host now, as the budget is, and the
        // memfd, all holes (zeros), may serve a new segment.
        // (This may run on the control loop's thread, when the run's last program goes.)
        // SAFETY: plain host call on a file mvm holds.
        let emptied = unsafe {
            libc::fallocate(
                std::os::fd::AsRawFd::as_raw_fd(&*self.file),
                libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
                0,
                self.len as i64,
            )
        } == 0;
        self.budget.give(self.frames);
        if emptied {
            self.pool.give(self.file.clone());
        }
    }
}

/// What every attachment (mapping) of a segment holds: the count of its clones is the
/// segment's `shm_nattch`.
#[derive(Debug)]
pub struct Attach {
    mem: Arc<ShmMem>,
}

/// A shared memory segment.
#[derive(Debug)]
struct Shm {
    size: u64,
    cpid: i32,
    ctime: i64,
    /// The memory, held here until IPC_RMID; then only the attachments hold it, and the
    /// segment, its key gone, lasts (unseen by shmget) until they go.
    mem: Option<Arc<ShmMem>>,
    /// The attachments' token (none while nothing attaches it).
    att: std::sync::Weak<Attach>,
    /// Its memory once removed (for IPC_STAT and shmat by id, as Linux allows).
    removed: std::sync::Weak<ShmMem>,
}

impl Shm {
    fn nattch(&self) -> usize {
        self.att.strong_count()
    }

    fn mem(&self) -> Option<Arc<ShmMem>> {
        self.mem.clone().or_else(|| self.removed.upgrade())
    }
}

/// The run's SysV objects.
#[derive(Debug)]
pub struct State {
    shms: Table<Shm>,
    sems: Table<SemSet>,
    undo: Vec<Undo>,
    msgs: Table<MsgQueue>,
    /// What the run's queues hold, against `MSG_BUDGET`.
    msg_bytes: usize,
}

/// The run's IPC namespace (`Machine::ipc`): SysV semaphores and message queues here, POSIX
/// message queue names in `mq`.
#[derive(Debug)]
pub struct Ipc {
    state: Mutex<State>,
    /// The POSIX message queues by name (`sys::mqueue`).
    pub mq: Mutex<super::mqueue::Names>,
    /// Memfds of segments gone, emptied, for new segments (see `ShmPool`).
    shm_pool: Arc<ShmPool>,
}

/// Memfds of segments gone, emptied, for new segments: a memfd reused is a window reused in
/// the memory of every program that attached it (a new one would be a new window, a host
/// mapping and a KVM memory slot, kept as long as the program's memory), so a program that
/// makes and removes segments over and over does not run out of memory slots.
#[derive(Debug, Default)]
struct ShmPool(Mutex<Vec<Arc<std::fs::File>>>);

/// How many emptied memfds the pool keeps.
const SHM_POOL: usize = 64;

impl ShmPool {
    /// A memfd of at least `len` bytes: the smallest pooled one that big, or the largest
    /// pooled one grown (never shrunk: a window showing it would lose pages), or a new one.
    fn take(&self, len: u64) -> Option<Arc<std::fs::File>> {
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let size = |f: &Arc<std::fs::File>| f.metadata().map_or(0, |m| m.len());
        let pick = pool
            .iter()
            .enumerate()
            .filter(|(_, f)| size(f) >= len)
            .min_by_key(|(_, f)| size(f))
            .or_else(|| pool.iter().enumerate().max_by_key(|(_, f)| size(f)))
            .map(|(i, _)| i);
        let file = match pick {
            Some(i) => pool.swap_remove(i),
            None => {
                drop(pool);
                // SAFETY: memfd_create with a static NUL-terminated name; checked.
                let fd = unsafe { libc::memfd_create(c"mvm-sysv-shm".as_ptr(), libc::MFD_CLOEXEC) };
                if fd < 0 {
                    return None;
                }
                // SAFETY: `fd` is fresh and owned by nobody else.
                Arc::new(unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) })
            }
        };
        if size(&file) < len && file.set_len(len).is_err() {
            return None;
        }
        Some(file)
    }

    /// Takes back an emptied memfd.
    fn give(&self, file: Arc<std::fs::File>) {
        let mut pool = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < SHM_POOL {
            pool.push(file);
        }
    }
}

impl Default for Ipc {
    fn default() -> Self {
        Ipc {
            state: Mutex::new(State {
                shms: Table::new(SHMMNI),
                sems: Table::new(SEMMNI),
                undo: Vec::new(),
                msgs: Table::new(MSGMNI),
                msg_bytes: 0,
            }),
            mq: Mutex::default(),
            shm_pool: Arc::default(),
        }
    }
}

impl Ipc {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Program `pid` ended: its semaphore undo adjustments are applied (each value kept within
    /// 0..=SEMVMX, as Linux's exit_sem does) and the sets' waiters woken.
    pub fn on_exit(&self, pid: i32) {
        let mut st = self.lock();
        let State { sems, undo, .. } = &mut *st;
        for u in undo.iter().filter(|u| u.pid == pid) {
            if let Some((_, set)) = sems.get(u.id) {
                if let Some(s) = set.sems.get_mut(u.num) {
                    s.val = (s.val + u.adj).clamp(0, SEMVMX);
                    s.pid = pid;
                }
                set.waiters.wake_all();
            }
        }
        undo.retain(|u| u.pid != pid);
        drop(st);
        super::mqueue::on_exit(&self.mq.lock().unwrap_or_else(|e| e.into_inner()), pid);
    }
}

/// Seconds since the epoch, for the objects' times.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What one try of a blocking call came to.
pub enum Try<T> {
    /// Done, with this result.
    Done(Result<T, SysError>),
    /// It must wait: `register` put the caller on the object's waiters.
    Wait,
}

/// A blocking call: `attempt` runs under `lock`; when it must wait, the caller sleeps (without
/// any lock) until its object changes (`Waiters::wake_all`), a signal or the program's end
/// (EINTR) or the deadline (`timeout` errno). `unregister` takes the caller off its waiters
/// when it leaves without having been woken.
pub fn block<'a, S: 'a, T>(
    task: &mut Task,
    deadline: Option<Instant>,
    timeout: i32,
    lock: impl Fn() -> MutexGuard<'a, S>,
    mut attempt: impl FnMut(&mut Task, &mut S) -> Try<T>,
    unregister: impl Fn(&mut S, i32),
) -> Result<T, SysError> {
    task.wake.take();
    let tid = task.tid;
    let end = |task: &mut Task, r: Result<T, SysError>| {
        unregister(&mut lock(), tid);
        // A wake-up given after the last look is of no use now (a signal stays pending).
        task.wake.take();
        r
    };
    loop {
        {
            let mut st = lock();
            if let Try::Done(r) = attempt(task, &mut st) {
                unregister(&mut st, tid);
                drop(st);
                task.wake.take();
                return r;
            }
        }
        if super::signal::interrupted(task) {
            return end(task, err(libc::EINTR));
        }
        if !task.wait_wake(deadline) {
            // The deadline passed: one last look, as Linux does after its timed sleep.
            let mut st = lock();
            if let Try::Done(r) = attempt(task, &mut st) {
                unregister(&mut st, tid);
                drop(st);
                task.wake.take();
                return r;
            }
            drop(st);
            return end(task, err(timeout));
        }
    }
}

/// A relative `struct timespec` at `at` as a deadline (semtimedop).
fn relative_deadline(task: &mut Task, at: u64) -> Result<Option<Instant>, SysError> {
    if at == 0 {
        return Ok(None);
    }
    let ts: [i64; 2] = task.mm.read_obj(at)?;
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return err(libc::EINVAL);
    }
    let d = Duration::new(ts[0].min(1 << 40) as u64, ts[1] as u32);
    Ok(Some(Instant::now() + d))
}

/// semget/msgget's common part: the object with `key`, or a new one made by `make`.
fn get<T>(
    table: &mut Table<T>,
    key: i32,
    flags: i32,
    c: &Creds,
    check: impl FnOnce(&mut T) -> Result<(), SysError>,
    make: impl FnOnce() -> Result<T, SysError>,
) -> SysResult {
    if key != IPC_PRIVATE {
        if let Some(id) = table.by_key(key) {
            if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                return err(libc::EEXIST);
            }
            let (perm, t) = table.get(id).expect("found by key");
            let f = flags as u32;
            let want = (f >> 6) | (f >> 3) | f;
            if !perm.may(c, want & 7) {
                return err(libc::EACCES);
            }
            check(t)?;
            return Ok(id as u64);
        }
        if flags & IPC_CREAT == 0 {
            return err(libc::ENOENT);
        }
    }
    let t = make()?;
    Ok(table.insert(Perm::new(key, flags, c), t)? as u64)
}

/// semget(2).
pub fn semget(task: &mut Task, a: Args) -> SysResult {
    let (key, nsems, flags) = (a[0] as i32, a[1] as i32, a[2] as i32);
    let c = Creds::of(task);
    let mut st = task.machine.ipc.lock();
    if nsems < 0 || nsems as usize > SEMMSL {
        return err(libc::EINVAL);
    }
    let total: usize = st.sems.values_mut().map(|s| s.sems.len()).sum();
    get(
        &mut st.sems,
        key,
        flags,
        &c,
        |set| {
            if (nsems as usize) > set.sems.len() {
                return err(libc::EINVAL);
            }
            Ok(())
        },
        || {
            if nsems == 0 {
                return err(libc::EINVAL);
            }
            if total + nsems as usize > SEMMNS {
                return err(libc::ENOSPC);
            }
            Ok(SemSet {
                sems: vec![Sem::default(); nsems as usize],
                otime: 0,
                ctime: now(),
                waiters: Waiters::default(),
            })
        },
    )
}

/// One `struct sembuf`.
#[derive(Debug, Clone, Copy)]
struct SemBuf {
    num: u16,
    op: i16,
    flg: i16,
}

/// semop(2).
pub fn semop(task: &mut Task, a: Args) -> SysResult {
    do_semop(task, a[0] as i32, a[1], a[2], None)
}

/// semtimedop(2).
pub fn semtimedop(task: &mut Task, a: Args) -> SysResult {
    let deadline = relative_deadline(task, a[3])?;
    do_semop(task, a[0] as i32, a[1], a[2], deadline)
}

fn do_semop(task: &mut Task, id: i32, at: u64, n: u64, deadline: Option<Instant>) -> SysResult {
    if id < 0 {
        return err(libc::EINVAL);
    }
    if n == 0 {
        return err(libc::EINVAL);
    }
    if n as usize > SEMOPM {
        return err(libc::E2BIG);
    }
    let mut ops = Vec::with_capacity(n as usize);
    for i in 0..n {
        let b: [u8; 6] = task.mm.read_obj(at + 6 * i)?;
        ops.push(SemBuf {
            num: u16::from_le_bytes([b[0], b[1]]),
            op: i16::from_le_bytes([b[2], b[3]]),
            flg: i16::from_le_bytes([b[4], b[5]]),
        });
    }
    let c = Creds::of(task);
    let (pid, tid) = (task.pid(), task.tid);
    let alter = ops.iter().any(|o| o.op != 0);
    let mut first = true;
    let machine = task.machine.clone();
    block(
        task,
        deadline,
        libc::EAGAIN,
        || machine.ipc.lock(),
        |task, st| {
            let State { sems, undo, .. } = st;
            let Some((perm, set)) = sems.get(id) else {
                // Gone while the caller waited: EIDRM; never there: EINVAL.
                return Try::Done(err(if first { libc::EINVAL } else { libc::EIDRM }));
            };
            let was_first = std::mem::replace(&mut first, false);
            if was_first {
                if ops.iter().any(|o| o.num as usize >= set.sems.len()) {
                    return Try::Done(err(libc::EFBIG));
                }
                if !perm.may(&c, if alter { 2 } else { 4 }) {
                    return Try::Done(err(libc::EACCES));
                }
            }
            let mut vals: Vec<i32> = set.sems.iter().map(|s| s.val).collect();
            for o in &ops {
                let v = &mut vals[o.num as usize];
                let blocked = (o.op < 0 && *v < -(o.op as i32)) || (o.op == 0 && *v != 0);
                if blocked {
                    if o.flg as i32 & IPC_NOWAIT != 0 {
                        return Try::Done(err(libc::EAGAIN));
                    }
                    let tag = o.num as u32 * 2 + (o.op == 0) as u32;
                    set.waiters.add(tid, &task.wake, tag);
                    return Try::Wait;
                }
                *v += o.op as i32;
                if *v > SEMVMX {
                    return Try::Done(err(libc::ERANGE));
                }
            }
            for o in ops.iter().filter(|o| o.flg & SEM_UNDO != 0 && o.op != 0) {
                match undo
                    .iter_mut()
                    .find(|u| u.pid == pid && u.id == id && u.num == o.num as usize)
                {
                    Some(u) => u.adj -= o.op as i32,
                    None => undo.push(Undo {
                        pid,
                        id,
                        num: o.num as usize,
                        adj: -(o.op as i32),
                    }),
                }
            }
            undo.retain(|u| u.adj != 0);
            for (s, v) in set.sems.iter_mut().zip(vals) {
                s.val = v;
            }
            for o in &ops {
                set.sems[o.num as usize].pid = pid;
            }
            set.otime = now();
            if alter {
                set.waiters.wake_all();
            }
            Try::Done(Ok(0))
        },
        move |st, tid| {
            if let Some((_, set)) = st.sems.get(id) {
                set.waiters.remove(tid);
            }
        },
    )
}

/// The bytes of `struct semid64_ds`.
fn semid_ds(perm: &Perm, seq: u16, set: &SemSet) -> [u8; 104] {
    let mut b = [0u8; 104];
    b[..48].copy_from_slice(&perm.bytes(seq));
    b[48..56].copy_from_slice(&set.otime.to_le_bytes());
    b[64..72].copy_from_slice(&set.ctime.to_le_bytes());
    b[80..88].copy_from_slice(&(set.sems.len() as u64).to_le_bytes());
    b
}

/// `struct seminfo`.
fn seminfo(used: usize, total: usize, info: bool) -> [i32; 10] {
    let (usz, aem) = if info {
        (used as i32, total as i32)
    } else {
        (20, SEMVMX)
    };
    [
        SEMMNS as i32,
        SEMMNI as i32,
        SEMMNS as i32,
        SEMMNS as i32,
        SEMMSL as i32,
        SEMOPM as i32,
        SEMOPM as i32,
        usz,
        SEMVMX,
        aem,
    ]
}

/// semctl(2).
pub fn semctl(task: &mut Task, a: Args) -> SysResult {
    let (id, num, cmd, arg) = (a[0] as i32, a[1] as i32, a[2] as i32 & !IPC_64, a[3]);
    let c = Creds::of(task);
    let machine = task.machine.clone();
    let mut st = machine.ipc.lock();
    let State { sems, undo, .. } = &mut *st;
    match cmd {
        IPC_INFO | SEM_INFO => {
            let total = sems.values_mut().map(|s| s.sems.len()).sum();
            let info = seminfo(sems.used(), total, cmd == SEM_INFO);
            task.mm.write_obj(arg, &info)?;
            return Ok(sems.highest() as u64);
        }
        SEM_STAT | SEM_STAT_ANY => {
            let (id, seq, perm, set) = sems.stat_at(id as u32 as u64, cmd == SEM_STAT_ANY, &c)?;
            task.mm.write(arg, &semid_ds(perm, seq, set))?;
            return Ok(id as u64);
        }
        _ => {}
    }
    let seq = (id.max(0) / SEQ_MULTIPLIER) as u16;
    let Some((perm, set)) = sems.get(id) else {
        return err(libc::EINVAL);
    };
    let n = set.sems.len();
    let sem = |num: i32| {
        if num < 0 || num as usize >= n {
            err(libc::EINVAL)
        } else {
            Ok(num as usize)
        }
    };
    let read = |perm: &Perm| {
        if perm.may(&c, 4) {
            Ok(())
        } else {
            err(libc::EACCES)
        }
    };
    let write = |perm: &Perm| {
        if perm.may(&c, 2) {
            Ok(())
        } else {
            err(libc::EACCES)
        }
    };
    match cmd {
        IPC_RMID => {
            if !perm.owned_by(&c) {
                return err(libc::EPERM);
            }
            set.waiters.wake_all();
            sems.remove(id);
            undo.retain(|u| u.id != id);
            Ok(0)
        }
        IPC_SET => {
            if !perm.owned_by(&c) {
                return err(libc::EPERM);
            }
            let mut b = [0u8; 48];
            task.mm.read(arg, &mut b)?;
            perm.set(&b);
            set.ctime = now();
            Ok(0)
        }
        IPC_STAT => {
            read(perm)?;
            task.mm.write(arg, &semid_ds(perm, seq, set))?;
            Ok(0)
        }
        GETVAL => {
            read(perm)?;
            Ok(set.sems[sem(num)?].val as u64)
        }
        GETPID => {
            read(perm)?;
            Ok(set.sems[sem(num)?].pid as u64)
        }
        GETNCNT | GETZCNT => {
            read(perm)?;
            let tag = sem(num)? as u32 * 2 + (cmd == GETZCNT) as u32;
            Ok(set.waiters.count(tag) as u64)
        }
        GETALL => {
            read(perm)?;
            let vals: Vec<u8> = set
                .sems
                .iter()
                .flat_map(|s| (s.val as u16).to_le_bytes())
                .collect();
            task.mm.write(arg, &vals)?;
            Ok(0)
        }
        SETVAL => {
            write(perm)?;
            let num = sem(num)?;
            let v = arg as i32;
            if !(0..=SEMVMX).contains(&v) {
                return err(libc::ERANGE);
            }
            set.sems[num] = Sem {
                val: v,
                pid: task.pid(),
            };
            set.ctime = now();
            undo.retain(|u| !(u.id == id && u.num == num));
            set.waiters.wake_all();
            Ok(0)
        }
        SETALL => {
            write(perm)?;
            let mut b = vec![0u8; 2 * n];
            task.mm.read(arg, &mut b)?;
            let vals: Vec<i32> = b
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]) as i32)
                .collect();
            if vals.iter().any(|v| *v > SEMVMX) {
                return err(libc::ERANGE);
            }
            let pid = task.pid();
            for (s, v) in set.sems.iter_mut().zip(vals) {
                *s = Sem { val: v, pid };
            }
            set.ctime = now();
            undo.retain(|u| u.id != id);
            set.waiters.wake_all();
            Ok(0)
        }
        _ => err(libc::EINVAL),
    }
}

/// msgget(2).
pub fn msgget(task: &mut Task, a: Args) -> SysResult {
    let (key, flags) = (a[0] as i32, a[1] as i32);
    let c = Creds::of(task);
    let mut st = task.machine.ipc.lock();
    get(
        &mut st.msgs,
        key,
        flags,
        &c,
        |_| Ok(()),
        || {
            Ok(MsgQueue {
                msgs: VecDeque::new(),
                cbytes: 0,
                qbytes: MSGMNB,
                stime: 0,
                rtime: 0,
                ctime: now(),
                lspid: 0,
                lrpid: 0,
                waiters: Waiters::default(),
            })
        },
    )
}

/// msgsnd(2).
pub fn msgsnd(task: &mut Task, a: Args) -> SysResult {
    let (id, at, size, flags) = (a[0] as i32, a[1], a[2] as i64, a[3] as i32);
    if id < 0 || !(0..=MSGMAX as i64).contains(&size) {
        return err(libc::EINVAL);
    }
    let mtype: i64 = task.mm.read_obj(at)?;
    if mtype < 1 {
        return err(libc::EINVAL);
    }
    let mut text = vec![0u8; size as usize];
    task.mm.read(at + 8, &mut text)?;
    let c = Creds::of(task);
    let (pid, tid) = (task.pid(), task.tid);
    let mut first = true;
    let mut text = Some(text);
    let machine = task.machine.clone();
    block(
        task,
        None,
        libc::EAGAIN,
        || machine.ipc.lock(),
        |task, st| {
            let State {
                msgs, msg_bytes, ..
            } = st;
            let Some((perm, q)) = msgs.get(id) else {
                return Try::Done(err(if first { libc::EINVAL } else { libc::EIDRM }));
            };
            if std::mem::replace(&mut first, false) && !perm.may(&c, 2) {
                return Try::Done(err(libc::EACCES));
            }
            let len = text.as_ref().map_or(0, Vec::len);
            if q.cbytes + len > q.qbytes
                || q.msgs.len() + 1 > q.qbytes
                || *msg_bytes + len + MSG_HEADER > MSG_BUDGET
            {
                if flags & IPC_NOWAIT != 0 {
                    return Try::Done(err(libc::EAGAIN));
                }
                q.waiters.add(tid, &task.wake, 0);
                return Try::Wait;
            }
            q.msgs.push_back((mtype, text.take().unwrap_or_default()));
            q.cbytes += len;
            *msg_bytes += len + MSG_HEADER;
            q.lspid = pid;
            q.stime = now();
            q.waiters.wake_all();
            Try::Done(Ok(0))
        },
        move |st, tid| {
            if let Some((_, q)) = st.msgs.get(id) {
                q.waiters.remove(tid);
            }
        },
    )
}

/// Which message msgrcv takes: its index in the queue.
fn pick(q: &MsgQueue, typ: i64, flags: i32) -> Option<usize> {
    if flags & MSG_COPY != 0 {
        return (typ >= 0 && (typ as usize) < q.msgs.len()).then_some(typ as usize);
    }
    if typ == 0 {
        return (!q.msgs.is_empty()).then_some(0);
    }
    if typ > 0 {
        let except = flags & MSG_EXCEPT != 0;
        return q.msgs.iter().position(|(t, _)| (*t == typ) != except);
    }
    let limit = typ.checked_neg().unwrap_or(i64::MAX);
    let mut best: Option<(usize, i64)> = None;
    for (i, (t, _)) in q.msgs.iter().enumerate() {
        if *t <= limit && best.is_none_or(|(_, b)| *t < b) {
            best = Some((i, *t));
        }
    }
    best.map(|(i, _)| i)
}

/// msgrcv(2).
pub fn msgrcv(task: &mut Task, a: Args) -> SysResult {
    let (id, at, size, typ, flags) = (a[0] as i32, a[1], a[2] as i64, a[3] as i64, a[4] as i32);
    if id < 0 || size < 0 {
        return err(libc::EINVAL);
    }
    if flags & MSG_COPY != 0 && (flags & IPC_NOWAIT == 0 || flags & MSG_EXCEPT != 0) {
        return err(libc::EINVAL);
    }
    let c = Creds::of(task);
    let (pid, tid) = (task.pid(), task.tid);
    let mut first = true;
    let machine = task.machine.clone();
    block(
        task,
        None,
        libc::EAGAIN,
        || machine.ipc.lock(),
        |task, st| {
            let State {
                msgs, msg_bytes, ..
            } = st;
            let Some((perm, q)) = msgs.get(id) else {
                return Try::Done(err(if first { libc::EINVAL } else { libc::EIDRM }));
            };
            if std::mem::replace(&mut first, false) && !perm.may(&c, 4) {
                return Try::Done(err(libc::EACCES));
            }
            let Some(i) = pick(q, typ, flags) else {
                if flags & IPC_NOWAIT != 0 {
                    return Try::Done(err(libc::ENOMSG));
                }
                q.waiters.add(tid, &task.wake, 1);
                return Try::Wait;
            };
            let (mtype, text) = &q.msgs[i];
            if text.len() as i64 > size && flags & MSG_NOERROR == 0 {
                return Try::Done(err(libc::E2BIG));
            }
            let n = text.len().min(size as usize);
            let written = task
                .mm
                .write_obj(at, mtype)
                .and_then(|_| task.mm.write(at + 8, &text[..n]));
            if let Err(f) = written {
                return Try::Done(Err(f.into()));
            }
            if flags & MSG_COPY == 0 {
                let (_, text) = q.msgs.remove(i).expect("picked");
                q.cbytes -= text.len();
                // Room made in a nearly spent run budget may be what a sender on another
                // queue waits for (on its own queue): then every queue's waiters look again.
                let budget_was_short = *msg_bytes + MSG_BUDGET / 64 >= MSG_BUDGET;
                *msg_bytes -= text.len() + MSG_HEADER;
                q.lrpid = pid;
                q.rtime = now();
                q.waiters.wake_all();
                if budget_was_short {
                    for q in msgs.values_mut() {
                        q.waiters.wake_all();
                    }
                }
            }
            Try::Done(Ok(n as u64))
        },
        move |st, tid| {
            if let Some((_, q)) = st.msgs.get(id) {
                q.waiters.remove(tid);
            }
        },
    )
}

/// The bytes of `struct msqid64_ds`.
fn msqid_ds(perm: &Perm, seq: u16, q: &MsgQueue) -> [u8; 120] {
    let mut b = [0u8; 120];
    b[..48].copy_from_slice(&perm.bytes(seq));
    let longs = [
        q.stime,
        q.rtime,
        q.ctime,
        q.cbytes as i64,
        q.msgs.len() as i64,
        q.qbytes as i64,
    ];
    for (i, v) in longs.iter().enumerate() {
        b[48 + 8 * i..56 + 8 * i].copy_from_slice(&v.to_le_bytes());
    }
    b[96..100].copy_from_slice(&q.lspid.to_le_bytes());
    b[100..104].copy_from_slice(&q.lrpid.to_le_bytes());
    b
}

/// msgctl(2).
pub fn msgctl(task: &mut Task, a: Args) -> SysResult {
    let (id, cmd, at) = (a[0] as i32, a[1] as i32 & !IPC_64, a[2]);
    let c = Creds::of(task);
    let machine = task.machine.clone();
    let mut st = machine.ipc.lock();
    let msgs = &mut st.msgs;
    match cmd {
        IPC_INFO | MSG_INFO => {
            let (pool, map, tql) = if cmd == MSG_INFO {
                let qs: Vec<&mut MsgQueue> = msgs.values_mut().collect();
                (
                    qs.len() as i32,
                    qs.iter().map(|q| q.msgs.len()).sum::<usize>() as i32,
                    qs.iter().map(|q| q.cbytes).sum::<usize>() as i32,
                )
            } else {
                (MSGMNI as i32 * 16 / 1024, MSGMNB as i32, MSGMAX as i32)
            };
            // struct msginfo: msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql, msgseg.
            let info: [i32; 8] = [
                pool,
                map,
                MSGMAX as i32,
                MSGMNB as i32,
                MSGMNI as i32,
                16,
                tql,
                0xffff,
            ];
            task.mm.write_obj(at, &info)?;
            return Ok(msgs.highest() as u64);
        }
        MSG_STAT | MSG_STAT_ANY => {
            let (id, seq, perm, q) = msgs.stat_at(id as u32 as u64, cmd == MSG_STAT_ANY, &c)?;
            task.mm.write(at, &msqid_ds(perm, seq, q))?;
            return Ok(id as u64);
        }
        _ => {}
    }
    let seq = (id.max(0) / SEQ_MULTIPLIER) as u16;
    let Some((perm, q)) = msgs.get(id) else {
        return err(libc::EINVAL);
    };
    match cmd {
        IPC_STAT => {
            if !perm.may(&c, 4) {
                return err(libc::EACCES);
            }
            task.mm.write(at, &msqid_ds(perm, seq, q))?;
            Ok(0)
        }
        IPC_SET => {
            if !perm.owned_by(&c) {
                return err(libc::EPERM);
            }
            let mut b = [0u8; 120];
            task.mm.read(at, &mut b)?;
            let qbytes = u64::from_le_bytes(b[88..96].try_into().unwrap()) as usize;
            if qbytes > MSGMNB && !c.privileged() {
                return err(libc::EPERM);
            }
            perm.set(&b[..48]);
            q.qbytes = qbytes;
            q.ctime = now();
            // A larger queue may take a blocked sender's message.
            q.waiters.wake_all();
            Ok(0)
        }
        IPC_RMID => {
            if !perm.owned_by(&c) {
                return err(libc::EPERM);
            }
            q.waiters.wake_all();
            let held = q.cbytes + q.msgs.len() * MSG_HEADER;
            msgs.remove(id);
            st.msg_bytes -= held;
            for q in st.msgs.values_mut() {
                q.waiters.wake_all();
            }
            Ok(0)
        }
        _ => err(libc::EINVAL),
    }
}

/// Forgets segments removed and detached everywhere (their memory went with the last
/// attachment: see `ShmMem`'s drop).
fn sweep(st: &mut State) {
    st.shms.retain(|s| s.mem.is_some() || s.nattch() > 0);
}

/// shmget(2).
pub fn shmget(task: &mut Task, a: Args) -> SysResult {
    let (key, size, flags) = (a[0] as i32, a[1], a[2] as i32);
    let c = Creds::of(task);
    let (pid, budget) = (task.pid(), task.mm.ram.budget());
    let pool = task.machine.ipc.shm_pool.clone();
    let mut st = task.machine.ipc.lock();
    sweep(&mut st);
    get(
        &mut st.shms,
        key,
        flags,
        &c,
        |shm| {
            if size > shm.size {
                return err(libc::EINVAL);
            }
            Ok(())
        },
        || {
            if size == 0 || size > SHMMAX {
                return err(libc::EINVAL);
            }
            let frames = size.div_ceil(PAGE_SIZE);
            if !budget.take(frames) {
                return err(libc::ENOMEM);
            }
            let Some(file) = pool.take(frames * PAGE_SIZE) else {
                budget.give(frames);
                return err(libc::ENOMEM);
            };
            let len = file.metadata().map_or(0, |m| m.len());
            let mem = Arc::new(ShmMem {
                file,
                len,
                frames,
                budget,
                pool,
                stats: Mutex::new((0, 0, 0)),
            });
            Ok(Shm {
                size,
                cpid: pid,
                ctime: now(),
                mem: Some(mem),
                att: std::sync::Weak::new(),
                removed: std::sync::Weak::new(),
            })
        },
    )
}

/// shmat(2): the segment mapped as `mmap(MAP_SHARED)` of its memfd would be.
pub fn shmat(task: &mut Task, a: Args) -> SysResult {
    use crate::mm::{FileMap, VmaKind, PROT_EXEC, PROT_READ, PROT_WRITE};
    let (id, mut addr, flags) = (a[0] as i32, a[1], a[2]);
    if id < 0 {
        return err(libc::EINVAL);
    }
    if !addr.is_multiple_of(PAGE_SIZE) {
        if flags & SHM_RND == 0 {
            return err(libc::EINVAL);
        }
        addr -= addr % PAGE_SIZE;
    }
    if addr == 0 && flags & SHM_REMAP != 0 {
        return err(libc::EINVAL);
    }
    let c = Creds::of(task);
    let pid = task.pid();
    let (att, size, key) = {
        let machine = task.machine.clone();
        let mut st = machine.ipc.lock();
        sweep(&mut st);
        let Some((perm, shm)) = st.shms.get(id) else {
            return err(libc::EINVAL);
        };
        let mut want = 4;
        if flags & SHM_RDONLY == 0 {
            want |= 2;
        }
        if flags & SHM_EXEC != 0 {
            want |= 1;
        }
        if !perm.may(&c, want) {
            return err(libc::EACCES);
        }
        let Some(mem) = shm.mem() else {
            return err(libc::EIDRM);
        };
        let att = match shm.att.upgrade() {
            Some(att) => att,
            None => {
                let att = Arc::new(Attach { mem });
                shm.att = Arc::downgrade(&att);
                att
            }
        };
        (att, shm.size, perm.key)
        // The lock goes before any mapping is replaced: a replaced attachment's drop may free
        // a segment's memory.
    };
    let len = page_up(size);
    let mut prot = PROT_READ;
    if flags & SHM_RDONLY == 0 {
        prot |= PROT_WRITE;
    }
    if flags & SHM_EXEC != 0 {
        prot |= PROT_EXEC;
    }
    let mm = &mut task.mm;
    let start = if addr != 0 {
        if addr.checked_add(len).is_none_or(|e| e > USER_TOP) {
            return err(libc::EINVAL);
        }
        if flags & SHM_REMAP == 0 && mm.vmas_overlapping(addr, addr + len).next().is_some() {
            return err(libc::EINVAL);
        }
        addr
    } else {
        mm.find_free(0, len).ok_or(SysError::Errno(libc::ENOMEM))?
    };
    let mem = att.mem.clone();
    let kind = VmaKind::File(FileMap {
        file: mem.file.clone(),
        name: Arc::from(format!("/SYSV{:08x} (deleted)", key as u32).into_bytes()),
        offset: 0,
        limit: u64::MAX,
        window: Default::default(),
        shared: true,
        shm: Some(att),
    });
    mm.map(start, start + len, prot, kind);
    if mm.prefault_file(start, start + len, 64 << 10).is_err() {
        mm.unmap(start, start + len);
        return err(libc::ENOMEM);
    }
    mem.touch(pid, true);
    Ok(start)
}

/// The segment attachment that mapping `v` is, if it is one.
fn attachment(v: &crate::mm::Vma) -> Option<(&Arc<ShmMem>, u64)> {
    match &v.kind {
        crate::mm::VmaKind::File(f) => f.shm.as_ref().map(|a| (&a.mem, f.offset)),
        _ => None,
    }
}

/// shmdt(2): as Linux, unmaps the attachment whose first page is at `addr` (the first mapping
/// at or above `addr` of a segment's page at its distance from `addr`) and the rest of that
/// attachment, the mappings of the same segment at their distances, within the segment's size.
pub fn shmdt(task: &mut Task, a: Args) -> SysResult {
    let addr = a[0];
    if !addr.is_multiple_of(PAGE_SIZE) {
        return err(libc::EINVAL);
    }
    let mut doomed = Vec::new();
    let mut found: Option<Arc<ShmMem>> = None;
    for (s, v) in task
        .mm
        .vmas_overlapping(addr, USER_TOP)
        .filter(|(s, _)| *s >= addr)
    {
        let Some((mem, off)) = attachment(v) else {
            continue;
        };
        match &found {
            None if off == s - addr => {
                found = Some(mem.clone());
                doomed.push((s, v.end));
            }
            None => {}
            Some(f) => {
                if v.end - addr > f.frames * PAGE_SIZE {
                    break;
                }
                if Arc::ptr_eq(f, mem) && off == s - addr {
                    doomed.push((s, v.end));
                }
            }
        }
    }
    let Some(mem) = found else {
        return err(libc::EINVAL);
    };
    for (s, e) in doomed {
        task.mm.unmap(s, e);
    }
    mem.touch(task.pid(), false);
    Ok(0)
}

/// The segments program `pid` attaches in `mm` were attached by its fork (`attach`) or are
/// detached by its exec: their times and last pid follow, as Linux's.
pub fn shm_touch(mm: &crate::mm::AddressSpace, pid: i32, attach: bool) {
    for (_, v) in mm.vmas() {
        if let Some((mem, _)) = attachment(v) {
            mem.touch(pid, attach);
        }
    }
}

/// `[start, end)` of `mm` is about to be unmapped (`unmap`) or changed (its protection): an
/// attachment split by it is attached again, one unmapped is detached, as Linux's VMA
/// open and close mark them (times and last pid).
pub fn shm_range_touch(mm: &crate::mm::AddressSpace, pid: i32, start: u64, end: u64, unmap: bool) {
    for (s, v) in mm.vmas_overlapping(start, end) {
        if let Some((mem, _)) = attachment(v) {
            if s < start || v.end > end {
                mem.touch(pid, true);
            }
            if unmap {
                mem.touch(pid, false);
            }
        }
    }
}

/// Program `pid` ended: its attachments go now (its memory may last a while longer).
pub fn shm_detach_all(mm: &mut crate::mm::AddressSpace, pid: i32) {
    shm_touch(mm, pid, false);
    let doomed: Vec<(u64, u64)> = mm
        .vmas()
        .filter(|(_, v)| attachment(v).is_some())
        .map(|(s, v)| (s, v.end))
        .collect();
    for (s, e) in doomed {
        mm.unmap(s, e);
    }
}

/// The bytes of `struct shmid64_ds`.
fn shmid_ds(perm: &Perm, seq: u16, shm: &Shm) -> [u8; 112] {
    let mut b = [0u8; 112];
    b[..48].copy_from_slice(&perm.bytes(seq));
    let (atime, dtime, lpid) = shm.mem().map_or((0, 0, 0), |m| {
        *m.stats.lock().unwrap_or_else(|e| e.into_inner())
    });
    let longs = [shm.size as i64, atime, dtime, shm.ctime];
    for (i, v) in longs.iter().enumerate() {
        b[48 + 8 * i..56 + 8 * i].copy_from_slice(&v.to_le_bytes());
    }
    b[80..84].copy_from_slice(&shm.cpid.to_le_bytes());
    b[84..88].copy_from_slice(&lpid.to_le_bytes());
    b[88..96].copy_from_slice(&(shm.nattch() as u64).to_le_bytes());
    b
}

/// shmctl(2).
pub fn shmctl(task: &mut Task, a: Args) -> SysResult {
    let (id, cmd, at) = (a[0] as i32, a[1] as i32 & !IPC_64, a[2]);
    let c = Creds::of(task);
    let machine = task.machine.clone();
    let mut st = machine.ipc.lock();
    sweep(&mut st);
    let shms = &mut st.shms;
    match cmd {
        IPC_INFO => {
            // struct shminfo64: shmmax, shmmin, shmmni, shmseg, shmall, four unused.
            let info: [u64; 9] = [SHMMAX, 1, SHMMNI as u64, SHMMNI as u64, SHMMAX, 0, 0, 0, 0];
            task.mm.write_obj(at, &info)?;
            return Ok(shms.highest() as u64);
        }
        SHM_INFO => {
            let (mut used, mut tot) = (0u64, 0u64);
            for shm in shms.values_mut() {
                used += 1;
                tot += shm.size.div_ceil(PAGE_SIZE);
            }
            // struct shm_info: used_ids (and padding), shm_tot, shm_rss, shm_swp,
            // swap_attempts, swap_successes. Resident is what is charged: all of it.
            let info: [u64; 6] = [used, tot, tot, 0, 0, 0];
            task.mm.write_obj(at, &info)?;
            return Ok(shms.highest() as u64);
        }
        SHM_STAT | SHM_STAT_ANY => {
            let (id, seq, perm, shm) = shms.stat_at(id as u32 as u64, cmd == SHM_STAT_ANY, &c)?;
            task.mm.write(at, &shmid_ds(perm, seq, shm))?;
            return Ok(id as u64);
        }
        _ => {}
    }
    let seq = (id.max(0) / SEQ_MULTIPLIER) as u16;
    let Some((perm, shm)) = shms.get(id) else {
        return err(libc::EINVAL);
    };
    match cmd {
        IPC_STAT => {
            if !perm.may(&c, 4) {
                return err(libc::EACCES);
            }
            task.mm.write(at, &shmid_ds(perm, seq, shm))?;
            Ok(0)
        }
        IPC_SET => {
            if !perm.owned_by(&c) {
                return err(libc::EPERM);
            }
            let mut b = [0u8; 48];
            task.mm.read(at, &mut b)?;
            perm.set(&b);
            shm.ctime = now();
            Ok(0)
        }
        IPC_RMID => {
            if !perm.owned_by(&c) {
                return err(libc::EPERM);
            }
            if shm.nattch() == 0 {
                shms.remove(id);
            } else {
                // Its key is free at once; it lasts as long as its attachments (`sweep`).
                perm.key = IPC_PRIVATE;
                perm.mode |= SHM_DEST;
                if let Some(mem) = shm.mem.take() {
                    shm.removed = Arc::downgrade(&mem);
                }
            }
            Ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            // Nothing of it is paged out by mvm: only the mode bit changes.
            if !perm.owned_by(&c) {
                return err(libc::EPERM);
            }
            if cmd == SHM_LOCK {
                perm.mode |= SHM_LOCKED;
            } else {
                perm.mode &= !SHM_LOCKED;
            }
            Ok(0)
        }
        _ => err(libc::EINVAL),
    }
}

/// Undo adjustments held, for tests.
#[cfg(test)]
fn undo_of(ipc: &Ipc, pid: i32) -> std::collections::HashMap<(i32, usize), i32> {
    ipc.lock()
        .undo
        .iter()
        .filter(|u| u.pid == pid)
        .map(|u| ((u.id, u.num), u.adj))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_change_when_a_slot_is_reused() {
        let c = Creds {
            uid: 1000,
            gid: 1000,
            groups: vec![],
        };
        let mut t: Table<()> = Table::new(4);
        let a = t.insert(Perm::new(5, 0o600, &c), ()).unwrap();
        assert_eq!(t.by_key(5), Some(a));
        t.remove(a);
        let b = t.insert(Perm::new(5, 0o600, &c), ()).unwrap();
        assert_ne!(a, b);
        assert!(t.get(a).is_none());
        assert!(t.get(b).is_some());
        assert!(t.get(-1).is_none());
    }

    #[test]
    fn permissions_follow_owner_group_other() {
        let me = Creds {
            uid: 1000,
            gid: 100,
            groups: vec![7],
        };
        // Owner may read, group may write, others nothing.
        assert!(me.may(0o420, [1000, 1, 1, 1], 4));
        assert!(!me.may(0o420, [1000, 1, 1, 1], 2));
        assert!(me.may(0o420, [2, 7, 2, 2], 2));
        assert!(!me.may(0o420, [2, 8, 2, 2], 2));
        assert!(!me.may(0o420, [2, 8, 2, 2], 4));
    }

    #[test]
    fn undo_is_applied_within_bounds() {
        let ipc = Ipc::default();
        let c = Creds {
            uid: 0,
            gid: 0,
            groups: vec![],
        };
        let id = {
            let mut st = ipc.lock();
            let set = SemSet {
                sems: vec![Sem { val: 3, pid: 0 }],
                otime: 0,
                ctime: 0,
                waiters: Waiters::default(),
            };
            let id = st.sems.insert(Perm::new(0, 0o600, &c), set).unwrap();
            st.undo.push(Undo {
                pid: 9,
                id,
                num: 0,
                adj: -5,
            });
            id
        };
        assert_eq!(undo_of(&ipc, 9).len(), 1);
        ipc.on_exit(9);
        assert!(undo_of(&ipc, 9).is_empty());
        let mut st = ipc.lock();
        let (_, set) = st.sems.get(id).unwrap();
        assert_eq!((set.sems[0].val, set.sems[0].pid), (0, 9));
    }

    #[test]
    fn shm_pool_reuses_memfds_and_never_shrinks_them() {
        use std::os::unix::fs::MetadataExt;
        let pool = ShmPool::default();
        let a = pool.take(8192).unwrap();
        let ino = a.metadata().unwrap().ino();
        pool.give(a);
        // A smaller segment gets the same memfd, as long as it was.
        let b = pool.take(4096).unwrap();
        assert_eq!(b.metadata().unwrap().ino(), ino);
        assert_eq!(b.metadata().unwrap().len(), 8192);
        pool.give(b);
        // A larger one gets it grown.
        let c = pool.take(1 << 20).unwrap();
        assert_eq!(
            (c.metadata().unwrap().ino(), c.metadata().unwrap().len()),
            (ino, 1 << 20)
        );
        // With the pool empty, a new one.
        let d = pool.take(4096).unwrap();
        assert_ne!(d.metadata().unwrap().ino(), ino);
    }

    #[test]
    fn msgrcv_picks_by_type() {
        let mut q = MsgQueue {
            msgs: VecDeque::new(),
            cbytes: 0,
            qbytes: MSGMNB,
            stime: 0,
            rtime: 0,
            ctime: 0,
            lspid: 0,
            lrpid: 0,
            waiters: Waiters::default(),
        };
        for t in [3, 1, 2, 1] {
            q.msgs.push_back((t, vec![]));
        }
        assert_eq!(pick(&q, 0, 0), Some(0));
        assert_eq!(pick(&q, 2, 0), Some(2));
        assert_eq!(pick(&q, 3, MSG_EXCEPT), Some(1));
        assert_eq!(pick(&q, -2, 0), Some(1));
        assert_eq!(pick(&q, -0, 0), Some(0));
        assert_eq!(pick(&q, 5, 0), None);
        assert_eq!(pick(&q, i64::MIN, 0), Some(1));
        assert_eq!(pick(&q, 3, MSG_COPY), Some(3));
    }
}
