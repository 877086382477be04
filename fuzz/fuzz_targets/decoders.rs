//! The trace's decoders of the structures a program passes to or gets from its system calls
//! (`sys::trace::structs`: stat, statx, statfs, timespec, itimerval, rlimit, sigaction,
//! sigaltstack, siginfo, wait status, rusage, utsname, sysinfo, flock, winsize, termios,
//! epoll_event, sigevent, clone flags and clone_args, sockaddr, CPU sets, open_how), each
//! given the bytes `--trace` reads from guest memory for it: exactly its size, or for
//! socket addresses and CPU sets any length up to what the trace reads. All of it is the
//! program's: nothing may panic, and what a decoder writes is one line of printable text (no
//! control character, so no program can forge a trace line or send escapes to a terminal).
//!
//! Input: a byte choosing the decoder (and the variant), then the structure's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vmm::sys::trace::structs;

/// The decoders, each with the size the trace reads for it (`None`: any length up to the
/// bound after it).
#[allow(clippy::type_complexity)]
const DECODERS: &[(&str, usize, bool, fn(&[u8], bool) -> String)] = &[
    ("stat", 144, false, |b, _| structs::stat(b)),
    ("statx", 256, false, |b, _| structs::statx(b)),
    ("statfs", 120, false, |b, _| structs::statfs(b)),
    ("timespec", 16, false, structs::timespec),
    ("itimer", 32, false, structs::itimer),
    ("rlimit", 16, false, |b, _| structs::rlimit(b)),
    ("sigaction", 32, false, |b, _| structs::sigaction(b)),
    ("sigaltstack", 24, false, |b, _| structs::sigaltstack(b)),
    ("siginfo", 128, false, |b, _| structs::siginfo(b)),
    ("wait_status", 4, false, |b, _| {
        structs::wait_status(structs::i32_at(b, 0))
    }),
    ("rusage", 32, false, |b, _| structs::rusage(b)),
    ("utsname", 390, false, |b, _| structs::utsname(b)),
    ("sysinfo", 112, false, |b, _| structs::sysinfo(b)),
    ("flock", 32, false, structs::flock),
    ("winsize", 8, false, |b, _| structs::winsize(b)),
    ("termios", 36, false, |b, _| structs::termios(b)),
    ("epoll_event", 12, false, |b, _| structs::epoll_event(b)),
    ("sigevent", 64, false, |b, _| structs::sigevent(b)),
    ("clone_flags", 8, false, |b, wide| {
        structs::clone_flags(structs::u64_at(b, 0), wide)
    }),
    ("clone_args", 64, false, |b, _| structs::clone_args(b)),
    ("sockaddr", 128, true, |b, _| structs::sockaddr(b)),
    ("cpuset", 1024, true, |b, _| structs::cpuset(b)),
    ("open_how", 24, false, |b, _| structs::open_how(b)),
];

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let (name, size, any_length, decode) = DECODERS[usize::from(ctl) % DECODERS.len()];
    let variant = ctl & 0x80 != 0;
    let mut bytes = rest.to_vec();
    if any_length {
        bytes.truncate(size);
    } else {
        bytes.resize(size, 0);
    }
    let text = decode(&bytes, variant);
    assert!(
        !text.chars().any(char::is_control),
        "{name} wrote a control character: {text:?}"
    );
});
