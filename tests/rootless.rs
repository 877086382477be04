//! mvm run by a user who is not root but may use /dev/kvm (here: `nobody`, given a /dev/kvm of
//! its own in a mount namespace of the test's, so the host's device keeps its permissions).
//! Such a mvm may not mount: its private /tmp and /dev/shm are tmpfs made in a user namespace
//! of a child's (vmm/src/tmpfs.rs), bounded and gone with mvm however it ends.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

const NOBODY: u32 = 65534;

/// A directory of the test's that `nobody` can reach, with a copy of mvm in it (the checkout
/// may be under a directory only root can enter) and a KVM device node `nobody` owns.
fn setup(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mvm-rootless-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::copy(mvm_bin(), dir.join("mvm")).unwrap();
    let kvm = std::ffi::CString::new(dir.join("kvm").to_str().unwrap()).unwrap();
    // SAFETY: mknod of a character device (KVM's: 10, 232) at a path of the test's.
    let rc = unsafe { libc::mknod(kvm.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(10, 232)) };
    assert_eq!(rc, 0, "mknod: {}", std::io::Error::last_os_error());
    std::os::unix::fs::chown(dir.join("kvm"), Some(NOBODY), Some(NOBODY)).unwrap();
    dir
}

/// `mvm ARGS` as `nobody` (no groups, a clean environment), through the test's KVM node.
fn as_nobody(dir: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = Command::new("unshare");
    cmd.arg("-m")
        .arg("sh")
        .arg("-c")
        .arg(
            r#"mount --bind "$1/kvm" /dev/kvm && d=$1 && shift &&
               exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
                 env -i PATH=/usr/bin:/bin HOME=/nonexistent "$d/mvm" "$@""#,
        )
        .arg("sh")
        .arg(dir)
        .args(args);
    Run::new(cmd)
}

fn root_only() -> bool {
    // SAFETY: a plain id query.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: making another user's /dev/kvm needs root");
        return false;
    }
    true
}

#[test]
fn a_rootless_run_serves_its_program_as_a_root_run_does() {
    if !root_only() {
        return;
    }
    let dir = setup("serves");
    let script = "id -u; id -g; echo hi > /tmp/f; cat /tmp/f; ls -ld /tmp | cut -c1-10; \
                  echo shm > /dev/shm/s && cat /dev/shm/s; exit 7";
    let out = as_nobody(&dir, &["run", BUSYBOX, "sh", "-c", script]).run();
    assert_eq!(out.code(), 7, "{}", out.describe());
    assert_eq!(
        out.stdout_str(),
        "65534\n65534\nhi\ndrwxrwxrwt\nshm\n",
        "{}",
        out.describe()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_rootless_runs_tmp_is_a_tmpfs_bounded_by_its_memory() {
    if !root_only() {
        return;
    }
    let dir = setup("bounded");
    // Linux's tmpfs (and Docker's --tmpfs) says "No space left on device" at its size.
    let script = "dd if=/dev/zero of=/tmp/big bs=1M count=100 2>&1 | grep -o 'No space left on device'; \
                  df -k /tmp | tail -1 | awk '{print $2}'; \
                  dd if=/dev/zero of=/dev/shm/big bs=1M count=100 2>&1 | grep -o 'No space left on device'";
    let out = as_nobody(
        &dir,
        &[
            "run",
            "--memory",
            "32m",
            "--shm-size",
            "8m",
            BUSYBOX,
            "sh",
            "-c",
            script,
        ],
    )
    .run();
    assert_eq!(out.code(), 0, "{}", out.describe());
    assert_eq!(
        out.stdout_str(),
        "No space left on device\n32768\nNo space left on device\n",
        "{}",
        out.describe()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_sigkill_of_a_rootless_mvm_leaves_nothing_behind() {
    if !root_only() {
        return;
    }
    let dir = setup("sigkill");
    let marker = format!("mvm-rootless-marker-{}", std::process::id());
    let script = format!(
        "echo data > /tmp/{marker}; echo data > /dev/shm/{marker}; mkdir /tmp/d-{marker}; echo ready; sleep 100"
    );
    let list = |d: &str| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|r| {
                r.flatten()
                    .filter(|e| {
                        use std::os::unix::fs::MetadataExt;
                        e.metadata().is_ok_and(|m| m.uid() == NOBODY)
                    })
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let before = (list("/tmp"), list("/dev/shm"));
    let mut run = as_nobody(&dir, &["run", BUSYBOX, "sh", "-c", &script]).spawn();
    run.wait_for_stdout("ready");
    run.signal(libc::SIGKILL);
    let out = run.wait();
    assert_eq!(out.shell_status(), 137, "{}", out.describe());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        (list("/tmp"), list("/dev/shm")),
        before,
        "left behind by nobody's mvm"
    );
    for d in ["/tmp", "/dev/shm", "/var/tmp"] {
        let found = Command::new("find")
            .args([d, "-xdev", "-name", &format!("*{marker}*")])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&found.stdout), "", "left in {d}");
    }
    assert!(
        stray_children().is_empty(),
        "processes left: {:?}",
        stray_children()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_rootless_run_makes_pseudo_terminals_in_its_own_devpts() {
    if !root_only() {
        return;
    }
    let dir = setup("ptmx");
    let script = "import os; m, s = os.openpty(); os.write(m, b'typed\\n'); \
                  print(os.ttyname(s), os.read(s, 100))";
    let out = as_nobody(&dir, &["run", "/usr/bin/python3", "-c", script]).run();
    assert_eq!(out.code(), 0, "{}", out.describe());
    assert_eq!(
        out.stdout_str(),
        "/dev/pts/0 b'typed\\n'\n",
        "{}",
        out.describe()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
