//! Programs on a terminal, as a user meets them: through a real pseudo-terminal made by the
//! test (the child leads a session whose controlling terminal it is), compared with the same
//! programs run natively on a terminal of their own; `-it` shells and REPLs typed into, with
//! Ctrl-C, Ctrl-Z, Ctrl-\ and Ctrl-D; window sizes; mvm's terminal restored however it ends.

#[path = "common/mod.rs"]
mod common;

use common::term::{normalize, Term};
use common::BUSYBOX;
use std::os::unix::process::ExitStatusExt;

const PYTHON: &str = "/usr/bin/python3";
const BASH: &str = "/bin/bash";

/// The status as a shell reports it.
fn status(st: std::process::ExitStatus) -> i32 {
    st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0))
}

/// `prog args` on a terminal under `mvm run` and natively: what each showed, and its status.
fn both(prog: &str, args: &[&str]) -> ((i32, String), (i32, String)) {
    let mut vm_args = vec!["run", prog];
    vm_args.extend_from_slice(args);
    let (st, vm) = Term::mvm(&vm_args, 24, 80).wait();
    let (nst, native) = Term::native(prog, args, 24, 80).wait();
    ((status(st), vm), (status(nst), native))
}

#[test]
fn programs_that_look_at_their_terminal_see_it_as_natively() {
    // Each of these died with "stack smashing detected" (a 60-byte termios written into the
    // kernel's 36-byte one) before the terminal ioctls kept the kernel's layouts.
    let cases: &[(&str, &[&str])] = &[
        ("/bin/ls", &["/usr"]),
        ("/bin/ls", &["-l", "--color=always", "/usr/share/doc/dash"]),
        ("/usr/bin/stty", &["size"]),
        ("/usr/bin/stty", &["-a"]),
        ("/usr/bin/tty", &[]),
        (
            PYTHON,
            &[
                "-c",
                "import os,sys,termios; print(os.isatty(0), os.isatty(1), os.get_terminal_size(), \
                 os.ttyname(0), termios.tcgetattr(0)[3] & termios.ICANON != 0, \
                 os.tcgetpgrp(0) == os.getpgrp())",
            ],
        ),
        (BASH, &["-c", "tty; stty size; echo $-"]),
        (
            "/bin/dash",
            &["-c", "tty; test -t 0 && echo stdin is a terminal"],
        ),
        (
            BUSYBOX,
            &["sh", "-c", "tty; test -c $(tty) && echo a character device"],
        ),
        (
            BASH,
            &["-c", "read -t 0.1 x < /dev/tty; echo tty opened $?"],
        ),
    ];
    for (prog, args) in cases {
        let ((st, vm), (nst, native)) = both(prog, args);
        assert_eq!(
            (st, &vm),
            (nst, &native),
            "{prog} {args:?} on a terminal\n== mvm ==\n{vm}\n== native ==\n{native}"
        );
    }
}

#[test]
fn job_control_ids_are_the_programs_own() {
    // A shell's view of sessions and groups: the first program leads session and group 1 and
    // has the terminal in the foreground; setsid and setpgid make new ones, as Linux does.
    let code = r#"
import os
print(os.getpid(), os.getpgrp(), os.getsid(0), os.tcgetpgrp(0))
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.setpgid(0, 0)
    a = (os.getpgrp() == os.getpid(), os.getsid(0) == 1)
    os.write(w, repr(a).encode())
    os._exit(0)
os.waitpid(pid, 0)
print('child', os.read(r, 100).decode())
pid = os.fork()
if pid == 0:
    os.setsid()
    try:
        os.tcgetpgrp(0)
        print('has a terminal')
    except OSError as e:
        print('no terminal after setsid', e.errno == 25)
    os._exit(0)
os.waitpid(pid, 0)
"#;
    let (st, out) = Term::mvm(&["run", PYTHON, "-c", code], 24, 80).wait();
    assert_eq!(status(st), 0, "{out}");
    assert!(out.starts_with("1 1 1 1\n"), "{out}");
    assert!(out.contains("child (True, True)"), "{out}");
    assert!(out.contains("no terminal after setsid True"), "{out}");
}

#[test]
fn it_python3_takes_typed_lines_ctrl_c_and_ctrl_d() {
    let mut t = Term::mvm(&["run", "-it", PYTHON], 24, 80);
    t.expect(">>> ");
    t.send("import os; print(6 * 7, os.isatty(0), os.get_terminal_size())\r");
    t.expect("42 True os.terminal_size(columns=80, lines=24)");
    t.expect(">>> ");
    t.send("while True: pass\r\r");
    std::thread::sleep(std::time::Duration::from_millis(300));
    t.send("\x03");
    t.expect("KeyboardInterrupt");
    t.expect(">>> ");
    t.send("print('still here')\r");
    t.expect("still here");
    t.expect(">>> ");
    t.send("\x04");
    let (st, out) = t.wait();
    // Python exits through SIGINT after an interrupt that reached its top level (as natively).
    assert!(matches!(status(st), 0 | 130), "{out}");
}

#[test]
fn it_python3_exits_zero_on_ctrl_d() {
    let mut t = Term::mvm(&["run", "-it", PYTHON, "-q"], 24, 80);
    t.expect(">>> ");
    t.send("\x04");
    let (st, out) = t.wait();
    assert_eq!(status(st), 0, "{out}");
}

#[test]
fn it_bash_runs_commands_with_job_control() {
    let mut t = Term::mvm(&["run", "-it", BASH, "--norc", "--noprofile"], 30, 100);
    t.send("PS1='$ '\r");
    t.expect("$ ");
    t.send("echo $((6*7)) $- ; stty size; tty\r");
    t.expect("42 ");
    t.expect("30 100");
    t.expect("/dev/pts/");
    // A foreground job interrupted, then one stopped, listed, continued and interrupted. The
    // job says when it runs: bash's child takes the terminal before it execs, so a key sent
    // after that reaches the job however long its start took (a fork here is a new micro-VM;
    // a key that comes earlier goes to bash, natively too).
    // (What the terminal echoes of the typed line is not what the job prints.)
    const JOB: &str = "sh -c 'echo job-$((6*7)); exec sleep 100'\r";
    t.send(JOB);
    t.expect("job-42");
    t.send("\x03");
    t.expect("$ ");
    t.send(JOB);
    t.expect("job-42");
    t.send("\x1a");
    t.expect("Stopped");
    t.send("jobs -l; ps -o stat= -p $(jobs -p)\r");
    t.expect("T");
    t.send("fg\r");
    t.expect("sleep 100");
    // bash names the job, then gives it the terminal and continues it.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    t.send("\x03");
    t.expect("$ ");
    // A background job that reads the terminal is stopped by SIGTTIN.
    t.send("cat &\r");
    t.expect("$ ");
    t.send("until jobs | grep -q Stop[p]ed; do sleep 0.1; done; jobs\r");
    t.expect("Stopped");
    t.send("kill %1; wait; echo ok\r");
    t.expect("ok");
    t.send("exit 3\r");
    let (st, out) = t.wait();
    assert_eq!(status(st), 3, "{out}");
}

#[test]
fn it_sh_and_dash_take_typed_lines() {
    for sh in ["/bin/sh", "/bin/dash"] {
        let mut t = Term::mvm(&["run", "-it", sh], 24, 80);
        t.send("echo $((2+3)) done\r");
        t.expect("5 done");
        t.send("exit 4\r");
        let (st, out) = t.wait();
        assert_eq!(status(st), 4, "{sh}: {out}");
    }
    // busybox's sh: Ctrl-D ends it.
    let mut t = Term::mvm(&["run", "-it", BUSYBOX, "sh"], 24, 80);
    t.send("echo ash-$((40+2))\r");
    t.expect("ash-42");
    t.expect("# ");
    t.send("\x04");
    let (st, out) = t.wait();
    assert_eq!(status(st), 0, "{out}");
}

#[test]
fn the_window_size_follows_the_terminal() {
    // The program gets SIGWINCH when mvm's terminal changes size, and sees the new size.
    let code = "import os, signal\n\
                signal.signal(signal.SIGWINCH, lambda *a: print('WINCH', os.get_terminal_size(), flush=True))\n\
                print('ready', os.get_terminal_size(), flush=True)\n\
                for _ in range(2): signal.pause()\n";
    let mut t = Term::mvm(&["run", "-it", PYTHON, "-c", code], 30, 100);
    t.expect("ready os.terminal_size(columns=100, lines=30)");
    t.resize(40, 120);
    t.expect("WINCH os.terminal_size(columns=120, lines=40)");
    t.resize(50, 132);
    t.expect("WINCH os.terminal_size(columns=132, lines=50)");
    let (st, out) = t.wait();
    assert_eq!(status(st), 0, "{out}");
    // A shell sees it too.
    let mut t = Term::mvm(&["run", "-it", BASH, "--norc", "--noprofile"], 30, 100);
    t.send("PS1='$ '\r");
    t.expect("$ ");
    t.resize(40, 120);
    std::thread::sleep(std::time::Duration::from_millis(200));
    t.send("stty size\r");
    t.expect("40 120");
    t.send("exit\r");
    let (st, out) = t.wait();
    assert_eq!(status(st), 0, "{out}");
}

/// The modes that raw mode changes.
fn modes(t: &libc::termios) -> (u32, u32, u32) {
    (t.c_lflag, t.c_iflag, t.c_oflag)
}

#[test]
fn ctrl_backslash_quits_and_the_terminal_is_restored() {
    let mut t = Term::mvm(&["run", "-it", "/bin/sleep", "100"], 24, 80);
    // mvm's terminal is raw while the program runs; the pty's Ctrl-\ is SIGQUIT.
    t.wait_raw();
    t.send("\x1c");
    let (st, out) = t.wait();
    assert_eq!(status(st), 128 + libc::SIGQUIT, "{out}");
    assert_eq!(modes(&t.termios()), modes(&t.initial), "{out}");
}

#[test]
fn mvms_terminal_is_restored_however_the_run_ends() {
    for (how, sig) in [
        ("its end", 0),
        ("SIGTERM", libc::SIGTERM),
        ("SIGHUP", libc::SIGHUP),
    ] {
        let mut t = Term::mvm(&["run", "-it", "/bin/sleep", "1"], 24, 80);
        t.wait_raw();
        if sig != 0 {
            t.signal(sig);
        }
        let (st, out) = t.wait();
        let want = if sig == 0 { 0 } else { 128 + sig };
        assert_eq!(status(st), want, "{how}: {out}");
        assert_eq!(
            modes(&t.termios()),
            modes(&t.initial),
            "{how}: the terminal's modes after mvm\n{out}"
        );
    }
}

#[test]
fn t_without_i_gives_a_terminal_of_mvms_own() {
    // Its output comes through mvm's pty (so \r\n), and it is not the test's terminal.
    let mut t = Term::mvm(
        &[
            "run",
            "-t",
            PYTHON,
            "-c",
            "import os; print(os.isatty(0), os.isatty(1), os.ttyname(1))",
        ],
        24,
        80,
    );
    t.expect("True True /dev/pts/");
    let (st, out) = t.wait();
    assert_eq!(status(st), 0, "{out}");
    // Without a terminal around mvm at all: still a terminal for the program.
    let out = common::Run::mvm_run(&["-t"], "/usr/bin/tty", &[]).run();
    out.assert_code(0);
    assert!(
        normalize(&out.stdout_str()) == "/dev/pts/N\n",
        "{}",
        out.describe()
    );
    // With -i, mvm's stdin (a pipe here) is typed into the program's terminal, and its end is
    // the terminal's end of input.
    let out = common::Run::mvm_run(&["-it"], PYTHON, &["-q"])
        .stdin(b"print(6*7)\n".to_vec())
        .run();
    out.assert_code(0);
    assert!(out.stdout_str().contains("42"), "{}", out.describe());
}

#[test]
fn ctrl_z_stops_mvm_as_a_shell_job_and_fg_continues_it() {
    // The user's own shell, natively on the terminal, runs mvm as a job.
    let mut t = Term::native(BASH, &["--norc", "--noprofile", "-i"], 24, 80);
    t.send("PS1='$ '\r");
    t.expect("$ ");
    let mvm = common::mvm_bin();
    t.send(&format!(
        "{} run -it /bin/sleep 100; echo status=$?\r",
        mvm.display()
    ));
    std::thread::sleep(std::time::Duration::from_millis(800));
    t.send("\x1a");
    t.expect("Stopped");
    // The shell goes on with the list, with the status of a job stopped by SIGTSTP.
    t.expect("status=148");
    t.expect("$ ");
    // mvm restored the terminal before it stopped: the shell reads lines again.
    t.send("echo shell back\r");
    t.expect("shell back");
    t.send("fg\r");
    t.expect("sleep 100");
    std::thread::sleep(std::time::Duration::from_millis(500));
    t.send("\x03");
    t.expect("^C");
    t.expect("$ ");
    t.send("jobs; echo none left\r");
    t.expect("none left");
    t.send("exit 0\r");
    let (st, out) = t.wait();
    assert_eq!(status(st), 0, "{out}");
}

#[test]
fn the_program_sees_the_terminal_flags_it_set() {
    // mvm keeps NOFLSH on the host's pty (its signal characters must not drop the program's
    // next output); the program sees the flag as a fresh terminal has it, and as it sets it.
    let script = "stty -a | grep -o -- '-*noflsh'; stty noflsh; stty -a | grep -o -- '-*noflsh'; \
                  stty -noflsh; stty -a | grep -o -- '-*noflsh'";
    let mut t = Term::mvm(&["run", "-t", "/bin/sh", "-c", script], 24, 80);
    let (st, out) = t.wait();
    assert_eq!(status(st), 0, "{out}");
    assert_eq!(out.replace('\r', ""), "-noflsh\nnoflsh\n-noflsh\n");
}

#[test]
fn a_program_makes_pseudo_terminals_of_its_own_as_in_a_container() {
    // /dev/ptmx of the run's own devpts (os.openpty, pty.fork: posix_openpt, grantpt,
    // unlockpt, ptsname, TIOCGPTPEER, setsid and TIOCSCTTY in the child), compared with a
    // native run; neither is on a terminal.
    let script = r#"
import os, termios
m, s = os.openpty()
print(os.isatty(m), os.isatty(s), os.ttyname(s).startswith('/dev/pts/'))
os.write(m, b'hello\n')
print(os.read(s, 100), os.read(m, 100))
print(termios.tcgetattr(s)[3] & termios.ECHO != 0)
os.close(m); os.close(s)
pid, fd = os.forkpty()
if pid == 0:
    print('child', os.isatty(0), os.getsid(0) == os.getpid(), os.ttyname(0).startswith('/dev/pts/'), flush=True)
    os._exit(3)
out = b''
while True:
    try:
        d = os.read(fd, 100)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
print(out, os.waitstatus_to_exitcode(st))
"#;
    let vm = common::Run::mvm_run(&[], PYTHON, &["-c", script]).run();
    let native = common::Run::native(PYTHON, &["-c", script]).run();
    common::assert_agree(&vm, &native, "openpty and forkpty");
    let out = vm.stdout_str();
    assert!(
        out.starts_with("True True True\nb'hello\\n' b'hello\\r\\n'\nTrue\n")
            && out.ends_with("child True True True\\r\\n\" 3\n"),
        "{}",
        vm.describe()
    );
    // The run's ptys are its own: /dev/ptmx leads there, and -t's terminal is /dev/pts/0.
    let out = common::Run::mvm_run(
        &["-t"],
        BUSYBOX,
        &["sh", "-c", "readlink /dev/ptmx; tty; ls /dev/pts"],
    )
    .run();
    assert_eq!(
        out.stdout_str(),
        "/dev/pts/ptmx\r\n/dev/pts/0\r\n0     ptmx\r\n",
        "{}",
        out.describe()
    );
}
