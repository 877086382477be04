//! The trace language's words: quoted strings, numbers, flag sets, named constants, signal
//! sets, errno values and dates, written as strace writes them.

use super::names::{self, Table};

/// How many bytes of a string or buffer are shown (strace's default `-s 32`); how many elements
/// of an array.
pub const STRLEN: usize = 32;

/// Paths are shown whole, up to PATH_MAX.
pub const PATHLEN: usize = 4096;

/// `b` quoted: its first `max` bytes, then `...` after the quote if there are more. Bytes that
/// are not printable ASCII are escaped: `\t \n \v \f \r`, `\"` and `\\`, others in octal with as
/// few digits as can be read back (three before an octal digit), or all in hex with `hex`.
pub fn quote(b: &[u8], max: usize, hex: bool) -> String {
    let shown = &b[..b.len().min(max)];
    let mut s = String::with_capacity(shown.len() + 8);
    s.push('"');
    for (i, &c) in shown.iter().enumerate() {
        if hex {
            s.push_str(&format!("\\x{c:02x}"));
            continue;
        }
        match c {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            0x0b => s.push_str("\\v"),
            0x0c => s.push_str("\\f"),
            b'\r' => s.push_str("\\r"),
            0x20..=0x7e => s.push(c as char),
            _ => {
                let next_is_digit = shown.get(i + 1).is_some_and(|n| (b'0'..=b'7').contains(n));
                if next_is_digit {
                    s.push_str(&format!("\\{c:03o}"));
                } else {
                    s.push_str(&format!("\\{c:o}"));
                }
            }
        }
    }
    s.push('"');
    if b.len() > max {
        s.push_str("...");
    }
    s
}

/// A pointer: `NULL` or hex.
pub fn ptr(v: u64) -> String {
    if v == 0 {
        "NULL".into()
    } else {
        format!("{v:#x}")
    }
}

/// A number in hex, `0` for zero.
pub fn hex(v: u64) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

/// A file mode in octal: `0644`, `000`.
pub fn oct(v: u64) -> String {
    format!("0{v:02o}")
}

/// The name of `v` in `table`.
pub fn lookup(v: u64, table: Table) -> Option<&'static str> {
    table.iter().find(|(x, _)| *x == v).map(|(_, n)| *n)
}

/// `v`'s name, else `0x.. /* PREFIX??? */` (`unknown` is e.g. `"SIG_???"`).
pub fn named(v: u64, table: Table, unknown: &str) -> String {
    match lookup(v, table) {
        Some(n) => n.into(),
        None => format!("{v:#x} /* {unknown} */"),
    }
}

/// The flags of `v` from `table` joined by `|` (each entry whose bits are all set, in the
/// table's order), then what is left in hex; `0` for none; `0x.. /* unknown */` when no name
/// applies.
pub fn flags(v: u64, table: Table, unknown: &str) -> String {
    if v == 0 {
        return "0".into();
    }
    let (mut parts, rest) = flag_names(v, table);
    match (parts.is_empty(), rest) {
        (true, _) => format!("{v:#x} /* {unknown} */"),
        (false, 0) => parts.join("|"),
        (false, r) => {
            parts.push(format!("{r:#x}"));
            parts.join("|")
        }
    }
}

/// The names of `v`'s flags in `table`, and the bits no name covers.
pub fn flag_names(v: u64, table: Table) -> (Vec<String>, u64) {
    let mut rest = v;
    let mut parts = Vec::new();
    for &(bits, name) in table {
        if bits != 0 && rest & bits == bits {
            parts.push(name.to_string());
            rest &= !bits;
        }
    }
    (parts, rest)
}

/// Joins `head` with the flags of `rest` (`rest` 0: `head` alone).
pub fn with_flags(head: String, rest: u64, table: Table) -> String {
    if rest == 0 {
        return head;
    }
    let (mut parts, left) = flag_names(rest, table);
    parts.insert(0, head);
    if left != 0 {
        parts.push(format!("{left:#x}"));
    }
    parts.join("|")
}

/// A signal: `SIGINT`, `SIGRTMIN`, `SIGRT_3`, or its number.
pub fn signal(sig: i64) -> String {
    match sig {
        1..=31 => format!("SIG{}", names::SIGNALS[sig as usize - 1]),
        32 => "SIGRTMIN".into(),
        33..=64 => format!("SIGRT_{}", sig - 32),
        _ => sig.to_string(),
    }
}

/// A signal in a set: `INT`, `RTMIN`, `RT_1`.
fn set_member(sig: u32) -> String {
    match sig {
        1..=31 => names::SIGNALS[sig as usize - 1].into(),
        32 => "RTMIN".into(),
        _ => format!("RT_{}", sig - 32),
    }
}

/// A signal set (bit N-1 is signal N): `[INT TERM]`, or `~[...]` listing the signals it lacks
/// when it holds two thirds of them or more.
pub fn sigset(mask: u64) -> String {
    let (prefix, shown) = if mask.count_ones() >= 64 * 2 / 3 {
        ("~[", !mask)
    } else {
        ("[", mask)
    };
    let members: Vec<String> = (1..=64u32)
        .filter(|s| shown & (1u64 << (s - 1)) != 0)
        .map(set_member)
        .collect();
    format!("{prefix}{}]", members.join(" "))
}

/// An errno value's name: `ENOENT`, or `ERRNO_41` for a number Linux does not use.
pub fn errno_name(e: i32) -> String {
    match e {
        512 => "ERESTARTSYS".into(),
        513 => "ERESTARTNOINTR".into(),
        514 => "ERESTARTNOHAND".into(),
        516 => "ERESTART_RESTARTBLOCK".into(),
        _ => match lookup(e as u64, names::ERRNO) {
            Some(n) => n.into(),
            None => format!("ERRNO_{e}"),
        },
    }
}

/// The message for errno `e`, as strerror(3) says it.
pub fn errno_text(e: i32) -> String {
    let s = std::io::Error::from_raw_os_error(e).to_string();
    s.split(" (os error").next().unwrap_or_default().to_string()
}

/// A failed call's result: `-1 ENOENT (No such file or directory)`.
pub fn errno_result(e: i32) -> String {
    format!("-1 {} ({})", errno_name(e), errno_text(e))
}

/// Seconds (and nanoseconds) since the epoch as a UTC date, `2024-01-31T12:00:00+0000`
/// (`.000000002` before the zone when `nsec` is given).
pub fn date(secs: i64, nsec: Option<u64>) -> String {
    let days = secs.div_euclid(86400);
    let t = secs.rem_euclid(86400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let frac = nsec.map_or(String::new(), |n| format!(".{n:09}"));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{frac}+0000",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

/// A limit value: `RLIM64_INFINITY`, `8192*1024`, or the number.
pub fn rlim(v: u64) -> String {
    if v == u64::MAX {
        "RLIM64_INFINITY".into()
    } else if v > 1024 && v.is_multiple_of(1024) {
        format!("{}*1024", v / 1024)
    } else {
        v.to_string()
    }
}

/// A file mode with its type: `S_IFREG|S_ISUID|0755`.
pub fn file_mode(mode: u64) -> String {
    let kind = mode & libc::S_IFMT as u64;
    let mut parts = Vec::new();
    if kind != 0 {
        parts.push(named(kind, names::S_IF, "S_IF???"));
    }
    let (ids, _) = flag_names(mode & 0o7000, names::S_ISID);
    parts.extend(ids);
    parts.push(oct(mode & 0o777));
    parts.join("|")
}

/// A device number: `makedev(0x1, 0x3)`.
pub fn makedev(dev: u64) -> String {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    format!("makedev({major:#x}, {minor:#x})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_as_strace() {
        assert_eq!(quote(b"hi\n", STRLEN, false), r#""hi\n""#);
        assert_eq!(
            quote(b"\x001\x078\x7f7\xff\"\\\0", STRLEN, false),
            r#""\0001\78\1777\377\"\\\0""#
        );
        assert_eq!(
            quote(b"\t\x0b\x0c\r\x1b[0m", STRLEN, false),
            r#""\t\v\f\r\33[0m""#
        );
        assert_eq!(quote(b"\x01\x02", STRLEN, true), r#""\x01\x02""#);
        let long = [b'a'; 40];
        assert_eq!(
            quote(&long, STRLEN, false),
            format!("\"{}\"...", "a".repeat(32))
        );
        assert_eq!(
            quote(&long[..32], STRLEN, false),
            format!("\"{}\"", "a".repeat(32))
        );
        assert_eq!(quote(b"", STRLEN, false), r#""""#);
    }

    #[test]
    fn flags_in_table_order_with_the_rest_in_hex() {
        let t: Table = &[(4, "C"), (1, "A"), (2, "B")];
        assert_eq!(flags(0, t, "X_???"), "0");
        assert_eq!(flags(7, t, "X_???"), "C|A|B");
        assert_eq!(flags(0x11, t, "X_???"), "A|0x10");
        assert_eq!(flags(0x10, t, "X_???"), "0x10 /* X_??? */");
        assert_eq!(
            flags(
                (libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC) as u64,
                names::OPEN,
                ""
            ),
            "O_CREAT|O_TRUNC|O_CLOEXEC"
        );
        assert_eq!(named(7, names::SIG_HOW, "SIG_???"), "0x7 /* SIG_??? */");
        assert_eq!(with_flags("SIGCHLD".into(), 0, names::CLONE), "SIGCHLD");
    }

    #[test]
    fn every_errno_has_its_name() {
        assert_eq!(errno_name(libc::ECHILD), "ECHILD");
        assert_eq!(errno_name(libc::E2BIG), "E2BIG");
        assert_eq!(errno_name(libc::EHWPOISON), "EHWPOISON");
        assert_eq!(errno_name(libc::EWOULDBLOCK), "EAGAIN");
        assert_eq!(errno_name(41), "ERRNO_41");
        for e in 1..=133 {
            if e != 41 && e != 58 {
                assert!(
                    !errno_name(e).starts_with("ERRNO_"),
                    "errno {e} has no name"
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        assert!(names::ERRNO.iter().all(|(v, _)| seen.insert(*v)));
        assert_eq!(
            errno_result(libc::ENOENT),
            "-1 ENOENT (No such file or directory)"
        );
    }

    #[test]
    fn signal_sets_as_strace_writes_them() {
        let bit = |s: u32| 1u64 << (s - 1);
        assert_eq!(sigset(0), "[]");
        assert_eq!(sigset(!0), "~[]");
        assert_eq!(sigset(bit(2) | bit(15)), "[INT TERM]");
        assert_eq!(sigset(!(bit(32) | bit(33))), "~[RTMIN RT_1]");
        assert_eq!(sigset(!(bit(9) | bit(19))), "~[KILL STOP]");
        // Two thirds: 41 signals are listed, 42 are shown by what is missing.
        assert!(sigset((1 << 41) - 1).starts_with("[HUP "));
        assert!(sigset((1 << 42) - 1).starts_with("~[RT_11 "));
        assert_eq!(signal(2), "SIGINT");
        assert_eq!(signal(32), "SIGRTMIN");
        assert_eq!(signal(34), "SIGRT_2");
        assert_eq!(signal(77), "77");
    }

    #[test]
    fn numbers_modes_and_dates() {
        assert_eq!(oct(0o644), "0644");
        assert_eq!(oct(0), "000");
        assert_eq!(oct(0o1777), "01777");
        assert_eq!(file_mode(0o41777), "S_IFDIR|S_ISVTX|0777");
        assert_eq!(file_mode(0o104755), "S_IFREG|S_ISUID|0755");
        assert_eq!(rlim(8 << 20), "8192*1024");
        assert_eq!(rlim(1024), "1024");
        assert_eq!(rlim(u64::MAX), "RLIM64_INFINITY");
        assert_eq!(makedev(0x103), "makedev(0x1, 0x3)");
        assert_eq!(date(1, Some(2)), "1970-01-01T00:00:01.000000002+0000");
        assert_eq!(date(1_796_612_201, None), "2026-12-07T02:56:41+0000");
        assert_eq!(ptr(0), "NULL");
        assert_eq!(hex(0), "0");
        assert_eq!(hex(32), "0x20");
    }
}
