//! The notes strace adds to some results, and which results it shows in hex:
//! `= 0x1 (flags FD_CLOEXEC)`, `= 1 ([{fd=3, revents=POLLIN}])`, `= 0 (Timeout)`.

use super::decode::{fdset, open_flags, Ctx};
use super::names;
use super::structs::{self, i32_at, read, show};
use super::text::{date, flags, ptr, signal, STRLEN};

impl Ctx<'_> {
    /// What strace writes after some results: ` (flags O_RDWR)`, ` (Timeout)`, ` (SIGUSR1)`;
    /// and whether the value itself is shown in hex.
    pub fn note(&mut self, name: &str) -> (bool, String) {
        let Some(v) = self.ok else {
            return (false, String::new());
        };
        let a = self.a;
        match name {
            "mmap" | "brk" | "mremap" => (true, String::new()),
            "fcntl" if v != 0 => match a[1] as i32 {
                libc::F_GETFD => (
                    true,
                    format!(" (flags {})", flags(v, &[(1, "FD_CLOEXEC")], "FD_???")),
                ),
                libc::F_GETFL => (true, format!(" (flags {})", open_flags(v))),
                libc::F_GET_SEALS => (
                    true,
                    format!(" (seals {})", flags(v, names::SEALS, "F_SEAL_???")),
                ),
                _ => (false, String::new()),
            },
            "poll" | "ppoll" if v == 0 => (false, " (Timeout)".into()),
            "poll" | "ppoll" => {
                let n = a[1].min(STRLEN as u64) as usize;
                let fds = match read(self.task, a[0], n * 8) {
                    Some(b) => {
                        let ready: Vec<String> = b
                            .chunks(8)
                            .filter(|e| structs::u16_at(e, 6) != 0)
                            .map(|e| {
                                format!(
                                    "{{fd={}, revents={}}}",
                                    i32_at(e, 0),
                                    flags(structs::u16_at(e, 6), names::POLL, "POLL???")
                                )
                            })
                            .collect();
                        format!("[{}]", ready.join(", "))
                    }
                    None => ptr(a[0]),
                };
                let left = if name == "ppoll" && a[2] != 0 {
                    format!(
                        ", left {}",
                        show(self.task, a[2], 16, |b| structs::timespec(b, false))
                    )
                } else {
                    String::new()
                };
                (false, format!(" ({fds}{left})"))
            }
            "select" | "pselect6" if v == 0 => (false, " (Timeout)".into()),
            "select" | "pselect6" => {
                let mut parts = Vec::new();
                for (i, what) in [(1, "in"), (2, "out"), (3, "except")] {
                    if a[i] != 0 {
                        let set = fdset(self.task, a[i], a[0] as u32 as u64);
                        if set != "[]" {
                            parts.push(format!("{what} {set}"));
                        }
                    }
                }
                if a[4] != 0 {
                    let usec = name == "select";
                    parts.push(format!(
                        "left {}",
                        show(self.task, a[4], 16, |b| structs::timespec(b, usec))
                    ));
                }
                (false, format!(" ({})", parts.join(", ")))
            }
            "rt_sigtimedwait" => (false, format!(" ({})", signal(v as i64))),
            "time" => (false, format!(" ({})", date(v as i64, None))),
            _ => (false, String::new()),
        }
    }
}
