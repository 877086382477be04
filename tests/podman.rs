//! Docker's `run` flags beside podman's (with crun, Debian's), on one root: the same busybox
//! tree is podman's image (`podman import`) and mvm's `--rootfs`, and each flag must give the
//! same output under both. podman runs as this host allows it (shared/HOST.md): in a private
//! mount namespace without the cgroup v2 mount, with cgroupfs and file events.

#[path = "common/mod.rs"]
mod common;

use common::{scratch, Run};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const IMAGE: &str = "localhost/mvm-test-busybox";
const APPLETS: &[&str] = &[
    "sh", "id", "env", "hostname", "cat", "df", "ls", "echo", "stat", "touch", "pwd", "sort",
    "grep", "awk", "tail",
];

/// The root both run: busybox with its applets, a passwd and a group file; imported into
/// podman once per test process.
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let r = scratch("podman_root");
        for d in ["bin", "etc", "tmp", "cache", "data"] {
            std::fs::create_dir_all(r.join(d)).unwrap();
        }
        std::fs::copy(common::BUSYBOX, r.join("bin/busybox")).unwrap();
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).unwrap();
        }
        std::fs::write(
            r.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n\
             app:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            r.join("etc/group"),
            "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nstaff:x:50:app\n",
        )
        .unwrap();
        let tar = r.with_extension("tar");
        let ok = Command::new("tar")
            .arg("-C")
            .arg(&r)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(ok.success());
        let out = podman(&["import", tar.to_str().unwrap(), IMAGE])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "podman import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        r
    })
}

/// `podman ARGS` as this host runs it.
fn podman(args: &[&str]) -> Command {
    let mut c = Command::new("unshare");
    c.args(["-m", "--propagation", "private", "sh", "-c"])
        .arg("umount /sys/fs/cgroup/unified 2>/dev/null; exec podman --cgroup-manager cgroupfs --events-backend file \"$@\"")
        .arg("podman")
        .args(args)
        .current_dir("/");
    c
}

/// What a program printed under podman and under mvm with the same `flags`, and the statuses.
fn both(flags: &[&str], script: &str) -> ((i32, String, String), (i32, String, String)) {
    let root = root().to_str().unwrap().to_string();
    let mut args = vec![
        "run",
        "--rm",
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
    ];
    args.extend_from_slice(flags);
    args.extend_from_slice(&[IMAGE, "/bin/sh", "-c", script]);
    let p = podman(&args).output().unwrap();
    let mut vm_flags = vec!["--rootfs", root.as_str()];
    vm_flags.extend_from_slice(flags);
    let vm = Run::mvm_run(&vm_flags, "/bin/sh", &["-c", script]).run();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        (
            p.status.code().unwrap_or(-1),
            text(&p.stdout),
            text(&p.stderr),
        ),
        (vm.code(), vm.stdout_str(), common::stderr_without_mvm(&vm)),
    )
}

fn assert_same(flags: &[&str], script: &str) {
    let (p, vm) = both(flags, script);
    assert_eq!(p, vm, "{flags:?} {script:?}\n(podman, then mvm)");
}

#[test]
fn user_and_groups_as_podman_sets_them() {
    for u in ["app", "nobody", "app:staff", "0"] {
        assert_same(&["-u", u], "id");
    }
    // (podman adds a passwd entry for an id that has none; Docker does not: the numbers only.)
    for u in ["4242:4343", "4242"] {
        assert_same(&["-u", u], "id -u; id -g; id -G");
    }
    assert_same(&["--group-add", "staff"], "id");
    assert_same(&["-u", "app", "--group-add", "nogroup"], "id -G");
    assert_same(&["-u", "app"], "echo $HOME");
}

#[test]
fn hostname_environment_and_working_directory_as_podman_gives_them() {
    // (podman's /etc/hostname lacks Docker's final newline: read it as a line.)
    assert_same(
        &["-h", "web-1"],
        "hostname; read h < /etc/hostname; echo $h; echo $HOSTNAME",
    );
    let dir = scratch("podman_env");
    let file = dir.join("vars");
    std::fs::write(&file, "# comment\nFROM_FILE=one two\nOVERRIDDEN=file\n").unwrap();
    let f = file.to_str().unwrap();
    // podman adds TERM=xterm and container=podman of its own; Docker adds neither.
    let script = "env | grep -v -e '^TERM=' -e '^container=' -e '^HOSTNAME=' | sort";
    assert_same(
        &[
            "--env-file",
            f,
            "-e",
            "OVERRIDDEN=flag",
            "-e",
            "HOME=/x",
            "-e",
            "A=1",
        ],
        script,
    );
    assert_same(&["-w", "/tmp"], "pwd");
    assert_same(&["--entrypoint", "/bin/echo"], "");
    assert_same(&[], "exit 7");
}

#[test]
fn volumes_and_tmpfs_as_podman_mounts_them() {
    let dir = scratch("podman_vol");
    std::fs::write(dir.join("in"), "data\n").unwrap();
    let rw = format!("{}:/data", dir.display());
    let ro = format!("{}:/data:ro", dir.display());
    assert_same(
        &["-v", &rw],
        "cat /data/in; echo w > /data/out; cat /data/out",
    );
    assert_same(&["-v", &ro], "cat /data/in; touch /data/x; echo $?");
    assert_same(
        &["--tmpfs", "/cache:size=1m"],
        "df -k /cache | tail -1 | awk '{print $2}'; echo x > /cache/f; cat /cache/f",
    );
    let mount = format!("type=bind,source={},target=/data,readonly", dir.display());
    assert_same(
        &["--mount", &mount],
        "cat /data/in; touch /data/y 2>/dev/null; echo $?",
    );
}
