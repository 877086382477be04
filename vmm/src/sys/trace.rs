//! `--trace`: each syscall printed to stderr as strace prints it, `name(args) = result`.

use super::table::Entry;
use super::{Args, SysError, SysResult};
use crate::task::{ExitReason, Task};

fn escape(b: &[u8], limit: usize) -> String {
    let mut s = String::from("\"");
    for &c in b.iter().take(limit) {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\t' => s.push_str("\\t"),
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    if b.len() > limit {
        s.push_str("...");
    }
    s
}

fn buffer(task: &mut Task, at: u64, len: u64) -> String {
    let n = len.min(32) as usize;
    let mut b = vec![0u8; n];
    match task.mm.read(at, &mut b) {
        Ok(()) => {
            let mut s = escape(&b, 32);
            if len > 32 && !s.ends_with("...") {
                s.push_str("...");
            }
            s
        }
        Err(_) => format!("{at:#x}"),
    }
}

/// Formats the arguments that are inputs (everything but output buffers).
pub fn args_before(task: &mut Task, e: &Entry, a: &Args) -> Vec<Option<String>> {
    e.args
        .chars()
        .enumerate()
        .map(|(i, k)| match k {
            'i' => Some((a[i] as i64).to_string()),
            'f' => Some((a[i] as i32).to_string()),
            'x' if a[i] == 0 => Some("NULL".into()),
            'x' | 'v' => Some(format!("{:#x}", a[i])),
            's' => Some(match task.mm.read_cstr(a[i]) {
                Ok(s) => escape(&s, 256),
                Err(_) => format!("{:#x}", a[i]),
            }),
            'b' => Some(buffer(task, a[i], a.get(i + 1).copied().unwrap_or(0))),
            _ => None,
        })
        .collect()
}

fn errno_name(e: i32) -> &'static str {
    match e {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EEXIST => "EEXIST",
        libc::ENOTDIR => "ENOTDIR",
        libc::EINVAL => "EINVAL",
        libc::EMFILE => "EMFILE",
        libc::ENOTTY => "ENOTTY",
        libc::ESPIPE => "ESPIPE",
        libc::EROFS => "EROFS",
        libc::EPIPE => "EPIPE",
        libc::ERANGE => "ERANGE",
        libc::ENOSYS => "ENOSYS",
        libc::ENOEXEC => "ENOEXEC",
        libc::ENODEV => "ENODEV",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::EISDIR => "EISDIR",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::EXDEV => "EXDEV",
        libc::ELOOP => "ELOOP",
        libc::EBUSY => "EBUSY",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENXIO => "ENXIO",
        libc::E2BIG => "E2BIG",
        libc::EILSEQ => "EILSEQ",
        libc::ENODATA => "ENODATA",
        _ => "E?",
    }
}

fn errno_text(e: i32) -> String {
    let s = std::io::Error::from_raw_os_error(e).to_string();
    s.split(" (os error").next().unwrap_or_default().to_string()
}

/// Prints the finished call.
pub fn finish(task: &mut Task, e: &Entry, a: &Args, before: Vec<Option<String>>, r: &SysResult) {
    let mut parts = Vec::new();
    for (i, (k, b)) in e.args.chars().zip(before).enumerate() {
        parts.push(match (k, b) {
            (_, Some(s)) => s,
            ('B', None) => match r {
                Ok(n) => buffer(task, a[i], *n),
                Err(_) => format!("{:#x}", a[i]),
            },
            _ => format!("{:#x}", a[i]),
        });
    }
    let result = match r {
        Ok(v) if matches!(e.name, "mmap" | "brk" | "mremap") => format!("{v:#x}"),
        Ok(v) => (*v as i64).to_string(),
        Err(SysError::Errno(n)) => format!("-1 {} ({})", errno_name(*n), errno_text(*n)),
        Err(SysError::Exec { .. }) => "0".into(),
        Err(SysError::Exit(ExitReason::Exited(s))) => format!("?\n+++ exited with {s} +++"),
        Err(SysError::Exit(_)) => "?\n+++ killed +++".into(),
        Err(SysError::ThreadExit(_)) => "?".into(),
    };
    // As strace -f: calls of threads other than the first carry their id.
    let who = if task.tid == 1 && task.pid() == 1 {
        String::new()
    } else {
        format!("[pid {}] ", task.tid)
    };
    eprintln!("{who}{}({}) = {}", e.name, parts.join(", "), result);
}

/// Prints a call mvm does not serve.
pub fn unknown(nr: u64, a: &Args) {
    eprintln!(
        "syscall_{nr}({:#x}, {:#x}, {:#x}, {:#x}, {:#x}, {:#x}) = -1 ENOSYS (Function not implemented)",
        a[0], a[1], a[2], a[3], a[4], a[5]
    );
}
