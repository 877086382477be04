//! The confined filesystem view and the file syscalls: real programs (busybox-static applets, a C
//! program making the calls directly) doing file work inside a `-v DIR:/data:rw` mount and the
//! private `/tmp`, compared with native runs; escape attempts that must fail; read-only mounts;
//! secrets and host directories that must not be visible; `--rootfs`; the synthesized `/proc`
//! and `/dev`.

#[path = "common/mod.rs"]
mod common;

use common::{program, scratch, tree, Outcome, Run, BUSYBOX};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn assert_same_output(vm: &Outcome, native: &Outcome, what: &str) {
    assert!(
        vm.code() == native.shell_status() && vm.stdout == native.stdout,
        "{what}: differs from the native run\n== mvm ==\n{}\n== native ==\n{}",
        vm.describe(),
        native.describe()
    );
}

/// Two identical fresh directories for a native and an mvm run of the same work.
fn twin_dirs(test: &str) -> (PathBuf, PathBuf) {
    let base = scratch(test);
    let (a, b) = (base.join("native"), base.join("vm"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("a.txt"), "alpha\nbeta\n").unwrap();
        std::fs::write(d.join("words.txt"), "pear\napple\nfig\nbanana\napple\n").unwrap();
        std::fs::write(d.join("big.bin"), common::pseudo_random_bytes(300_000, 7)).unwrap();
    }
    (a, b)
}

#[test]
fn c_program_file_syscalls_match_native() {
    let (a, b) = twin_dirs("fs_c_calls");
    let prog = program("fs_calls");
    let native = Run::native(&prog, &[a.to_str().unwrap()]).run();
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], &prog, &["/data"]).run();
    assert_same_output(&vm, &native, "fs_calls in a :rw mount");
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    assert_eq!(tree(&a), tree(&b), "the two directories differ afterwards");

    // The same work in the program's private /tmp.
    let vm = Run::mvm_run(&[], &prog, &["/tmp"]).run();
    let native_tmp = scratch("fs_c_calls_tmp");
    let native = Run::native(&prog, &[native_tmp.to_str().unwrap()]).run();
    assert_same_output(&vm, &native, "fs_calls in /tmp");
}

#[test]
fn timerfd_tee_splice_preadv_msync_and_madvise_match_native() {
    // Served since trinity and stress-ng found them missing (ENOSYS) or doing nothing
    // (MADV_REMOVE, MADV_WIPEONFORK returned 0 and changed nothing).
    let (a, b) = twin_dirs("fs_fd_kinds");
    let prog = program("fd_kinds");
    let native = Run::native(&prog, &[a.to_str().unwrap()]).run();
    native.assert_code(0);
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], &prog, &["/data"]).run();
    assert_same_output(&vm, &native, "fd_kinds in a :rw mount");
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    assert_eq!(tree(&a), tree(&b), "the two directories differ afterwards");
}

#[test]
fn busybox_file_work_matches_native() {
    let (a, b) = twin_dirs("fs_busybox");
    let vol = format!("{}:/data:rw", b.display());
    let steps: &[&[&str]] = &[
        &["cat", "a.txt", "words.txt"],
        &["cp", "a.txt", "b.txt"],
        &["mv", "b.txt", "c.txt"],
        &["mkdir", "-p", "x/y/z"],
        &["cp", "big.bin", "x/y/z/big2.bin"],
        &["cp", "-r", "x", "x2"],
        &["rm", "-r", "x2"],
        &["ln", "-s", "a.txt", "link"],
        &["readlink", "link"],
        &["cat", "link"],
        &["ls"],
        &["ls", "-R", "x"],
        &["stat", "-c", "%n %s %F %a %h", "a.txt", "x", "link"],
        &["sha256sum", "big.bin", "x/y/z/big2.bin"],
        &["sort", "words.txt"],
        &["sort", "-u", "-o", "sorted.txt", "words.txt"],
        &["wc", "-l", "words.txt", "sorted.txt"],
        &["chmod", "600", "c.txt"],
        &["stat", "-c", "%a", "c.txt"],
        &["rm", "c.txt"],
        &["rmdir", "x"],
        &["cmp", "big.bin", "x/y/z/big2.bin"],
        &["head", "-n", "2", "words.txt"],
        &["tail", "-c", "5", "a.txt"],
        &["touch", "new"],
        &["ls", "-a"],
    ];
    for step in steps {
        let native = Run::native(BUSYBOX, step).cwd(&a).run();
        let vm = Run::mvm_run(&["-v", &vol, "-w", "/data"], BUSYBOX, step).run();
        assert_same_output(&vm, &native, &format!("busybox {step:?}"));
    }
    // find's order is the directory's; compare it sorted.
    let native = Run::native(BUSYBOX, &["find", "."]).cwd(&a).run();
    let vm = Run::mvm_run(&["-v", &vol, "-w", "/data"], BUSYBOX, &["find", "."]).run();
    let sorted = |o: &Outcome| {
        let mut l: Vec<String> = o.stdout_str().lines().map(str::to_string).collect();
        l.sort();
        l
    };
    assert_eq!(sorted(&vm), sorted(&native), "{}", vm.describe());
    let find = Run::mvm_run(
        &["-v", &vol],
        BUSYBOX,
        &["find", "/data", "-name", "big2.bin"],
    )
    .run();
    assert_eq!(find.stdout_str(), "/data/x/y/z/big2.bin\n");
    assert_eq!(tree(&a), tree(&b), "the two directories differ afterwards");
}

#[test]
fn private_tmp_is_writable_empty_and_removed() {
    let runtime = scratch("fs_private_tmp");
    let out = Run::mvm_run(
        &[],
        BUSYBOX,
        &[
            "sh",
            "-c",
            "echo hi > /tmp/f; read x < /tmp/f; echo $x; echo /tmp/*",
        ],
    )
    .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap())
    .run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "hi\n/tmp/f\n", "{}", out.describe());
    let out = Run::mvm_run(&[], BUSYBOX, &["ls", "-A", "/tmp"])
        .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap())
        .run();
    assert_eq!(
        out.stdout_str(),
        "",
        "/tmp is not empty: {}",
        out.describe()
    );
    // Ended by --timeout: the run's directory goes all the same.
    let out = Run::mvm_run(&["--timeout", "300ms"], program("spin"), &[])
        .env("XDG_RUNTIME_DIR", runtime.to_str().unwrap())
        .run();
    out.assert_code(124);
    let left: Vec<_> = std::fs::read_dir(&runtime).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn escape_attempts_fail() {
    let base = scratch("fs_escape");
    let (m, outside) = (base.join("m"), base.join("outside"));
    std::fs::create_dir_all(m.join("d")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "SECRET\n").unwrap();
    std::fs::write(m.join("d/file.txt"), "inside\n").unwrap();
    // From the host, keep swapping d for a symlink to the outside (absolute and relative).
    let stop = Arc::new(AtomicBool::new(false));
    let racer = {
        let (m, outside, stop) = (m.clone(), outside.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::rename(m.join("d"), m.join("d.real"));
                let target = if i.is_multiple_of(2) {
                    outside.clone()
                } else {
                    PathBuf::from("../outside")
                };
                let _ = std::os::unix::fs::symlink(&target, m.join("d"));
                std::thread::yield_now();
                let _ = std::fs::remove_file(m.join("d"));
                let _ = std::fs::rename(m.join("d.real"), m.join("d"));
                // As long with the real d as with the symlink: the guest must meet both.
                std::thread::yield_now();
                i += 1;
            }
        })
    };
    let vol = format!("{}:/data:rw", m.display());
    let out = Run::mvm_run(
        &["-v", &vol],
        program("fs_escape"),
        &["/data", outside.to_str().unwrap(), "3000"],
    )
    .run();
    stop.store(true, Ordering::Relaxed);
    racer.join().unwrap();
    out.assert_code(0);
    let want = "\
dotdot: ENOENT
dotdot outside: ENOENT
symlink to / then shadow: ENOENT
symlink to / then home: ENOENT
symlink to / then passwd: OPENED root:x:0:0:root:/root:/bin/bash
absolute symlink outside: ENOENT
relative symlink up: ENOENT
symlink to /root: ENOENT
/root: ENOENT
/home: ENOENT
/var: ENOENT
/run: ENOENT
/sys: EXISTS
/sys/kernel: ENOENT
/sys/class/net: ENOENT
outside itself: ENOENT
/etc/shadow: ENOENT
/etc/gshadow: ENOENT
/etc/sudoers: ENOENT
/proc/self/root: ENOENT
/proc/1/root: ENOENT
/proc/self/cwd: ENOENT
hardlink /etc/passwd: EXDEV
hardlink via symlink: EXDEV
write /etc/passwd: EROFS
create in /usr: EROFS
mkdir /etc/x: EROFS
unlink /etc/passwd: EROFS
rename out of mount: EXDEV
listing /etc: passwd 1 shadow 0
race: held (inside 1)
done
";
    let got = out.stdout_str();
    // /etc/passwd's first line is the host's; compare the rest exactly.
    let strip = |s: &str| {
        s.lines()
            .map(|l| {
                if l.starts_with("symlink to / then passwd: OPENED") {
                    "symlink to / then passwd: OPENED"
                } else {
                    l
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&got), strip(want), "{}", out.describe());
}

#[test]
fn read_only_mount_gives_erofs() {
    let dir = scratch("fs_ro");
    std::fs::write(dir.join("f"), "data\n").unwrap();
    let vol = format!("{}:/data:ro", dir.display());
    let out = Run::mvm_run(&["-v", &vol], BUSYBOX, &["cat", "/data/f"]).run();
    assert_eq!(out.stdout_str(), "data\n", "{}", out.describe());
    for step in [
        vec!["touch", "/data/new"],
        vec!["rm", "/data/f"],
        vec!["mkdir", "/data/d"],
        vec!["mv", "/data/f", "/data/g"],
        vec!["chmod", "777", "/data/f"],
    ] {
        let out = Run::mvm_run(&["-v", &vol], BUSYBOX, &step).run();
        assert_ne!(out.code(), 0, "{step:?} succeeded\n{}", out.describe());
        assert!(
            out.stderr_str().contains("Read-only file system"),
            "{step:?}\n{}",
            out.describe()
        );
    }
    // --mount's readonly is the same wall.
    let mount = format!("type=bind,source={},target=/data,readonly", dir.display());
    let out = Run::mvm_run(&["--mount", &mount], BUSYBOX, &["touch", "/data/new"]).run();
    assert_ne!(out.code(), 0);
    assert!(
        out.stderr_str().contains("Read-only file system"),
        "{}",
        out.describe()
    );
    assert_eq!(tree(&dir), vec![("f".to_string(), b"data\n".to_vec())]);
    // Without :ro a volume is read-write, as Docker's and podman's are.
    let vol_rw = format!("{}:/data", dir.display());
    let out = Run::mvm_run(&["-v", &vol_rw], BUSYBOX, &["touch", "/data/new"]).run();
    out.assert_code(0);
    assert!(dir.join("new").exists());
}

#[test]
fn default_view_shows_the_system_tree_and_nothing_else() {
    let out = Run::mvm_run(&[], BUSYBOX, &["ls", "/"]).run();
    out.assert_code(0);
    for name in out.stdout_str().lines() {
        assert!(
            [
                "bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp",
                "usr"
            ]
            .contains(&name)
                || std::env::current_dir()
                    .unwrap()
                    .starts_with(Path::new("/").join(name))
                || env!("CARGO_MANIFEST_DIR").starts_with(&format!("/{name}/")),
            "unexpected /{name} in the default view\n{}",
            out.describe()
        );
    }
    let out = Run::mvm_run(&[], BUSYBOX, &["cat", "/etc/shadow"]).run();
    assert_eq!(out.code(), 1);
    assert!(out.stderr_str().contains("No such file or directory"));
    let out = Run::mvm_run(&[], BUSYBOX, &["ls", "/etc"]).run();
    let names: Vec<String> = out.stdout_str().lines().map(str::to_string).collect();
    assert!(names.iter().any(|n| n == "passwd"), "{}", out.describe());
    assert!(!names
        .iter()
        .any(|n| n == "shadow" || n == "gshadow" || n == "sudoers"));
    let out = Run::mvm_run(&[], BUSYBOX, &["head", "-1", "/etc/passwd"]).run();
    let native = Run::native(BUSYBOX, &["head", "-1", "/etc/passwd"]).run();
    assert_same_output(&out, &native, "/etc/passwd");
}

#[test]
fn rootfs_is_the_programs_root() {
    let root = scratch("fs_rootfs");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy(BUSYBOX, root.join("bin/busybox")).unwrap();
    std::fs::write(root.join("etc/os-release"), "NAME=tiny\n").unwrap();
    let r = root.to_str().unwrap();
    let out = Run::mvm_run(
        &["--rootfs", r],
        "/bin/busybox",
        &["cat", "/etc/os-release"],
    )
    .run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "NAME=tiny\n");
    let out = Run::mvm_run(&["--rootfs", r], "/bin/busybox", &["ls", "/"]).run();
    assert_eq!(out.stdout_str(), "bin\netc\n", "{}", out.describe());
    let out = Run::mvm_run(&["--rootfs", r], "/bin/busybox", &["pwd"]).run();
    assert_eq!(out.stdout_str(), "/\n");
    // Read-only, with a private /tmp.
    let out = Run::mvm_run(&["--rootfs", r], "/bin/busybox", &["touch", "/etc/x"]).run();
    assert!(out.stderr_str().contains("Read-only"), "{}", out.describe());
    let out = Run::mvm_run(
        &["--rootfs", r],
        "/bin/busybox",
        &["sh", "-c", "echo ok > /tmp/t && read x < /tmp/t && echo $x"],
    )
    .run();
    assert_eq!(out.stdout_str(), "ok\n", "{}", out.describe());
    // A name is looked up in the root, not on the host.
    let out = Run::mvm_run(&["--rootfs", r], "hello", &[]).run();
    out.assert_code(127);
}

#[test]
fn bad_rootfs_and_volume_flags_are_one_line_errors() {
    let dir = scratch("fs_flags");
    let d = dir.to_str().unwrap();
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--rootfs".into(), "/nonexistent-mvm".into()],
            "--rootfs",
        ),
        (
            vec!["--rootfs".into(), file.to_str().unwrap().into()],
            "not a directory",
        ),
        (vec!["-v".into(), "/nonexistent-mvm:/data".into()], "-v"),
        (vec!["-v".into(), format!("{d}:relative")], "-v"),
        (vec!["-v".into(), format!("{d}:/data:rx")], "-v"),
        (vec!["-v".into(), d.to_string()], "-v"),
    ];
    for (flags, needle) in cases {
        let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
        let out = Run::mvm_run(&flags, program("hello"), &[]).run();
        out.assert_code(125).assert_mvm_error_line(needle);
    }
    let out = Run::mvm_run(&["-w", "/nonexistent-mvm"], program("hello"), &[]).run();
    out.assert_code(125)
        .assert_mvm_error_line("cannot enter working directory");
}

#[test]
fn synthesized_proc_and_dev() {
    let out = Run::mvm_run(&[], BUSYBOX, &["readlink", "/proc/self/exe"]).run();
    let native = Run::native(BUSYBOX, &["readlink", "/proc/self/exe"]).run();
    assert_same_output(&out, &native, "/proc/self/exe");
    let out = Run::mvm_run(&[], BUSYBOX, &["cat", "/proc/self/maps"]).run();
    assert!(out.stdout_str().contains("[stack]"), "{}", out.describe());
    assert!(out.stdout_str().contains("r-xp"), "{}", out.describe());
    let out = Run::mvm_run(
        &["--memory", "64m"],
        BUSYBOX,
        &["head", "-1", "/proc/meminfo"],
    )
    .run();
    assert!(
        out.stdout_str().starts_with("MemTotal:") && out.stdout_str().contains(" 65536 kB"),
        "{}",
        out.describe()
    );
    // As many CPUs as mvm may use (its threads run the program's): what nproc says natively.
    let out = Run::mvm_run(&[], BUSYBOX, &["grep", "-c", "^processor", "/proc/cpuinfo"]).run();
    let native = Run::native("/usr/bin/nproc", &[]).run();
    assert_eq!(out.stdout, native.stdout, "{}", out.describe());
    let vm = Run::mvm_run(&[], "/usr/bin/nproc", &[]).run();
    assert_eq!(vm.stdout, native.stdout, "{}", vm.describe());
    let out = Run::mvm_run(&[], BUSYBOX, &["ls", "/proc/self/fd"]).run();
    assert!(
        out.stdout_str().starts_with("0\n1\n2\n"),
        "{}",
        out.describe()
    );
    let out = Run::mvm_run(&[], BUSYBOX, &["cat", "/dev/null"]).run();
    out.assert_code(0);
    let out = Run::mvm_run(&[], BUSYBOX, &["head", "-c", "4", "/dev/zero"]).run();
    assert_eq!(out.stdout, vec![0u8; 4]);
    let out = Run::mvm_run(&[], BUSYBOX, &["head", "-c", "32", "/dev/urandom"]).run();
    assert_eq!(out.stdout.len(), 32);
    let out = Run::mvm_run(
        &[],
        BUSYBOX,
        &["sh", "-c", "echo via-dev-stdout > /dev/stdout"],
    )
    .run();
    assert_eq!(out.stdout_str(), "via-dev-stdout\n", "{}", out.describe());
    let out = Run::mvm_run(&[], BUSYBOX, &["grep", "^Pid:", "/proc/self/status"]).run();
    assert_eq!(out.stdout_str(), "Pid:\t1\n");
}

#[test]
fn inotify_and_named_pipes_match_native() {
    // inotify watches through the view (events name entries, no paths to translate), FIFOs
    // made with mkfifo and opened by two programs, in a :rw mount and in the private /tmp.
    let (a, b) = twin_dirs("inotify_fifo");
    let prog = program("inotify_fifo");
    let native = Run::native(&prog, &[a.to_str().unwrap()]).run();
    native.assert_code(0);
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], &prog, &["/data"]).run();
    assert_same_output(&vm, &native, "inotify_fifo in a :rw mount");
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    let vm = Run::mvm_run(&[], &prog, &["/tmp"]).run();
    assert_same_output(&vm, &native, "inotify_fifo in /tmp");
    // Device nodes need a privilege the program does not have.
    let code = "import os, stat\ntry:\n    os.mknod('/tmp/d', stat.S_IFCHR | 0o600, os.makedev(1, 3))\nexcept PermissionError as e:\n    print('mknod of a device:', e.errno)\n";
    let vm = Run::mvm_run(&[], "/usr/bin/python3", &["-c", code]).run();
    assert_eq!(
        vm.stdout_str(),
        "mknod of a device: 1\n",
        "{}",
        vm.describe()
    );
}

#[test]
fn no_setuid_file_reaches_the_host_through_a_writable_mount() {
    // A program could leave a set-user-ID root executable on the host through a :rw mount
    // (`chmod 4755` survived). The run's files are nosuid now: set-user-ID is never stored,
    // set-group-ID only on directories, however the mode is given.
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("fs_no_setuid");
    let vol = format!("{}:/data:rw", dir.display());
    let py = "import os, shutil\n\
              shutil.copy('/bin/busybox', '/data/chmod')\n\
              os.chmod('/data/chmod', 0o4755)\n\
              fd = os.open('/data/created', os.O_CREAT | os.O_WRONLY, 0o6755); os.close(fd)\n\
              fd = os.open('/data/fchmod', os.O_CREAT | os.O_WRONLY, 0o755); os.fchmod(fd, 0o2755); os.close(fd)\n\
              os.mkdir('/data/dir'); os.chmod('/data/dir', 0o2755)\n\
              print(oct(os.stat('/data/chmod').st_mode & 0o7777))\n";
    let out = Run::mvm_run(&["-v", &vol], "/usr/bin/python3", &["-c", py]).run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "0o755\n", "{}", out.describe());
    let mode = |name: &str| {
        std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("chmod"), 0o755);
    assert_eq!(mode("created"), 0o755);
    assert_eq!(mode("fchmod"), 0o755);
    assert_eq!(mode("dir"), 0o2755, "set-group-ID stays on a directory");
}

/// A program that opens descriptors until EMFILE and then forks (as stress-ng's sockpair does)
/// under a host limit of 1024, the common default: each of its descriptors is one of mvm's, so
/// the program meets its own `RLIMIT_NOFILE` (what getrlimit reports), and the fork still
/// works, as natively. Before, the host's limit ran out first and fork failed with ENOMEM.
#[test]
fn descriptors_up_to_the_limit_then_fork_under_a_low_host_limit_match_native() {
    const SCRIPT: &str = r#"
import errno, os, resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
fds = []
try:
    while True:
        fds.extend(os.pipe())
except OSError as e:
    print("pipe:", errno.errorcode[e.errno], "at the limit:", max(fds) >= soft - 2)
r, w = fds[0], fds[1]
pid = os.fork()
if pid == 0:
    os.write(w, b"from the child")
    os._exit(7)
_, status = os.waitpid(pid, 0)
print(os.read(r, 100).decode(), os.waitstatus_to_exitcode(status))
"#;
    let vm = Run::mvm_run(&[], "/usr/bin/python3", &["-c", SCRIPT])
        .nofile(1024)
        .run();
    let native = Run::native("/usr/bin/python3", &["-c", SCRIPT])
        .nofile(1024)
        .run();
    assert_eq!(
        native.stdout_str(),
        "pipe: EMFILE at the limit: True\nfrom the child 7\n",
        "{}",
        native.describe()
    );
    assert_same_output(&vm, &native, "descriptors to the limit, then fork");
}

#[test]
fn a_lowered_descriptor_limit_holds_for_the_program_and_its_children_as_natively() {
    const SCRIPT: &str = r#"
import errno, fcntl, os, resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))
fds = []
try:
    while True:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    print("open:", errno.errorcode[e.errno], "highest:", max(fds))
for what, call in [("dup2", lambda: os.dup2(0, 45)),
                   ("F_DUPFD", lambda: fcntl.fcntl(0, fcntl.F_DUPFD, 50)),
                   ("pipe", lambda: os.pipe())]:
    try:
        call()
        print(what, "worked")
    except OSError as e:
        print(what + ":", errno.errorcode[e.errno])
os.close(fds.pop())
print("after a close:", os.dup(0))
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (40, 4096))
except ValueError as e:
    print("raise the hard limit:", e)
print("getrlimit:", resource.getrlimit(resource.RLIMIT_NOFILE))
for fd in fds:
    os.close(fd)
sys.stdout.flush()
os.execv("/bin/sh", ["sh", "-c", "ulimit -n; ulimit -Hn"])
"#;
    let vm = Run::mvm_run(&[], "/usr/bin/python3", &["-c", SCRIPT]).run();
    let native = Run::native("/usr/bin/python3", &["-c", SCRIPT]).run();
    assert_eq!(
        native.stdout_str(),
        "open: EMFILE highest: 39\ndup2: EBADF\nF_DUPFD: EINVAL\npipe: EMFILE\n\
         after a close: 39\nraise the hard limit: not allowed to raise maximum limit\n\
         getrlimit: (40, 40)\n40\n40\n",
        "{}",
        native.describe()
    );
    assert_same_output(&vm, &native, "a lowered RLIMIT_NOFILE");
}

/// mvm's host descriptors while `python3` has mapped one file `n` times through one
/// descriptor (as the dynamic loader maps each library in pieces) and then closed it.
fn host_fds_after_mapping(n: usize) -> usize {
    let script = format!(
        r#"
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
fd = os.open("/usr/bin/python3", os.O_RDONLY)
maps = [libc.mmap(None, 4096, 1, 2, fd, 4096 * i) for i in range({n})]
os.close(fd)
print("mapped", sum(1 for m in maps if m not in (None, 2**64 - 1)), flush=True)
time.sleep(60)
"#
    );
    let mut running = Run::mvm_run(&[], "/usr/bin/python3", &["-c", &script]).spawn();
    running.wait_for_stdout(&format!("mapped {n}\n"));
    let fds = std::fs::read_dir(format!("/proc/{}/fd", running.pid()))
        .unwrap()
        .count();
    drop(running);
    fds
}

#[test]
fn mappings_of_one_open_file_cost_mvm_one_descriptor() {
    let (one, many) = (host_fds_after_mapping(1), host_fds_after_mapping(64));
    eprintln!("host descriptors: {one} with one mapping, {many} with 64");
    assert!(
        many <= one + 1,
        "64 mappings hold {many} host descriptors, one mapping {one}"
    );
}

/// Names that are not UTF-8 (Linux names are bytes): every byte from 0x80 to 0xff, a
/// truncated sequence, an encoded surrogate, an overlong `/`, and valid UTF-8 beside them.
const BYTE_NAMES: &str = r#"
import os, subprocess, sys
top = os.fsencode(sys.argv[1])
os.chdir(top)
names = [bytes(range(0x80, 0x100)), b'a\xc3(b', b'\xed\xa0\x80', b'\xc0\xaf', b'caf\xc3\xa9', b'\xff']
for n in names:
    with open(n, 'wb') as f:
        f.write(n)
    print(n, os.stat(n).st_size, open(n, 'rb').read() == n)
print(sorted(os.listdir(b'.')))
print(sorted((e.name, e.is_file()) for e in os.scandir(b'.')))
os.rename(b'\xff', b'\xfe\xfd')
print(os.path.exists(b'\xff'), open(b'\xfe\xfd', 'rb').read())
os.symlink(b'\xfe\xfd', b'link\x80')
os.symlink(b'../' + names[1], b'up\xc3')
print(os.readlink(b'link\x80'), open(b'link\x80', 'rb').read(), os.lstat(b'link\x80').st_size)
os.mkdir(b'dir\xf0\x90')
os.chdir(b'dir\xf0\x90')
print(os.path.basename(os.getcwdb()))
os.rename(b'../up\xc3', b'up\xc3')
print(os.readlink(b'up\xc3'), open(b'up\xc3', 'rb').read())
fd = os.open(b'../' + names[0], os.O_RDONLY)
print(os.path.basename(os.readlink(b'/proc/self/fd/%d' % fd)) == names[0])
os.close(fd)
os.link(b'../caf\xc3\xa9', b'hard\xa0')
print(os.stat(b'hard\xa0').st_nlink, sorted(os.listdir(b'.')))
os.chdir(top)
# execve of a path that is not UTF-8, and a `#!` line naming one.
os.symlink(b'/usr/bin/cat', b'cat\xfe')
os.symlink(b'/usr/bin/echo', b'echo\xfe')
with open(b'script\xff', 'wb') as f:
    f.write(b'#!' + os.path.join(top, b'cat\xfe') + b'\nhello \xff\n')
os.chmod(b'script\xff', 0o755)
out = subprocess.run([os.path.join(top, b'script\xff')], capture_output=True, check=True).stdout
print(out.endswith(b'cat\xfe\nhello \xff\n'))
out = subprocess.run([b'./echo\xfe', b'\x80\xff'], capture_output=True, check=True).stdout
print(out)
for n in [b'script\xff', b'cat\xfe', b'echo\xfe']:
    os.unlink(n)
os.unlink(os.path.join(b'dir\xf0\x90', b'hard\xa0'))
print(sorted(os.listdir(b'dir\xf0\x90')))
print('done')
"#;

/// The entries of `dir` as the host has them: names byte for byte, with their contents (a
/// symlink's target), sorted.
fn host_entries(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    use std::os::unix::ffi::OsStrExt;
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let md = std::fs::symlink_metadata(e.path()).unwrap();
            let content = if md.file_type().is_symlink() {
                std::fs::read_link(e.path())
                    .unwrap()
                    .as_os_str()
                    .as_bytes()
                    .to_vec()
            } else if md.is_dir() {
                b"<dir>".to_vec()
            } else {
                std::fs::read(e.path()).unwrap()
            };
            (e.file_name().as_bytes().to_vec(), content)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn names_that_are_not_utf8_are_bytes_as_natively() {
    // A name that is not UTF-8 was ENOENT: paths went through Rust strings. Now each is bytes
    // from the program to the host and back (getdents64, readlink, getcwd, /proc/self/fd).
    let (a, b) = (scratch("fs_bytes_native"), scratch("fs_bytes_vm"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d).unwrap();
    }
    let py = "/usr/bin/python3";
    let native = Run::native(py, &["-c", BYTE_NAMES, a.to_str().unwrap()]).run();
    native.assert_code(0);
    assert!(
        native.stdout_str().ends_with("done\n"),
        "{}",
        native.describe()
    );
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], py, &["-c", BYTE_NAMES, "/data"]).run();
    common::assert_agree(&vm, &native, "names that are not UTF-8 in a :rw mount");
    // The host has the very bytes the program named.
    let entries = host_entries(&b);
    assert_eq!(entries, host_entries(&a), "the two directories differ");
    assert!(
        entries
            .iter()
            .any(|(n, _)| *n == (0x80..=0xff).collect::<Vec<u8>>()),
        "{entries:?}"
    );
    assert!(entries.contains(&(b"link\x80".to_vec(), b"\xfe\xfd".to_vec())));
    // The same in the private /tmp.
    let tmp = scratch("fs_bytes_native_tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let native = Run::native(py, &["-c", BYTE_NAMES, tmp.to_str().unwrap()]).run();
    let vm = Run::mvm_run(&[], py, &["-c", BYTE_NAMES, "/tmp"]).run();
    common::assert_agree(&vm, &native, "names that are not UTF-8 in /tmp");

    // The program itself at a host path that is not UTF-8 (shown at that path in the view).
    {
        use std::os::unix::ffi::OsStrExt;
        let at = b.join(std::ffi::OsStr::from_bytes(b"hello\xff"));
        std::fs::copy(program("hello"), &at).unwrap();
        let native = Run::native(&at, &["x"]).run();
        let vm = Run::mvm_run(&[], &at, &["x"]).run();
        native.assert_code(0);
        assert_same_output(&vm, &native, "a program at a path that is not UTF-8");
        std::fs::remove_file(&at).unwrap();
    }
    // busybox lists them as natively (`ls` shows each byte it cannot print as `?`; `find`
    // writes names as they are).
    let steps: &[&[&str]] = &[
        &["ls"],
        &["ls", "-1aR"],
        &[
            "find",
            ".",
            "-name",
            "link*",
            "-exec",
            "stat",
            "-c",
            "%n %s %F %N",
            "{}",
            ";",
        ],
    ];
    for step in steps {
        let native = Run::native(BUSYBOX, step).cwd(&a).run();
        let vm = Run::mvm_run(&["-v", &vol, "-w", "/data"], BUSYBOX, step).run();
        assert_same_output(&vm, &native, &format!("busybox {step:?}"));
    }
    // find's order is the directory's; compare it sorted.
    let lines = |o: &Outcome| {
        let mut l: Vec<Vec<u8>> = o
            .stdout
            .split(|&c| c == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        l.sort();
        l
    };
    let native = Run::native(BUSYBOX, &["find", "."]).cwd(&a).run();
    let vm = Run::mvm_run(&["-v", &vol, "-w", "/data"], BUSYBOX, &["find", "."]).run();
    assert_eq!(lines(&vm), lines(&native), "{}", vm.describe());
    assert!(
        lines(&vm).contains(&b"./dir\xf0\x90/up\xc3".to_vec()),
        "{}",
        vm.describe()
    );
}
