//! Docker's `run` flags with Docker's meaning, as a Docker user types them: the environment a
//! program gets, `-h`, `-u`, `-v` (read-write unless `:ro`, relative host paths), `--mount`,
//! `--tmpfs` and the private `/tmp` (bounded, gone however mvm ends), `--network`, `--cpus`,
//! `--pids-limit`, `--name`, `--entrypoint`, and the flags mvm refuses with a reason.

#[path = "common/mod.rs"]
mod common;

use common::{scratch, Run, BUSYBOX};
use std::time::Duration;

const PYTHON: &str = "/usr/bin/python3";

fn names(env: &str) -> Vec<String> {
    let mut v: Vec<String> = env
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
        .collect();
    v.sort();
    v
}

#[test]
fn the_environment_is_clean_unless_asked() {
    // Docker and podman pass none of the host's environment: PATH, HOSTNAME and HOME only.
    let out = Run::mvm_run(&[], "/usr/bin/env", &[])
        .env("MVM_T_SECRET", "aws-key")
        .run();
    out.assert_code(0);
    assert_eq!(
        names(&out.stdout_str()),
        ["HOME", "HOSTNAME", "PATH"],
        "{}",
        out.describe()
    );
    let env = out.stdout_str();
    assert!(env.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"));
    assert!(
        env.contains("HOME=/root\n") || env.contains("HOME=/\n"),
        "{env}"
    );
    // -e KEY=VALUE, -e KEY (from mvm's environment; absent when mvm has none), --env-file.
    let dir = scratch("docker_env");
    let file = dir.join("vars");
    std::fs::write(
        &file,
        "# comment\nFROM_FILE=one two\nMVM_T_PASSED\n\nOVERRIDDEN=file\n",
    )
    .unwrap();
    let file_arg = file.to_string_lossy().into_owned();
    let out = Run::mvm_run(
        &[
            "--env-file",
            &file_arg,
            "-e",
            "OVERRIDDEN=flag",
            "-e",
            "MVM_T_ALSO",
            "-e",
            "MVM_T_UNSET",
        ],
        "/usr/bin/env",
        &[],
    )
    .env("MVM_T_PASSED", "p")
    .env("MVM_T_ALSO", "a")
    .env_remove("MVM_T_UNSET")
    .env("MVM_T_SECRET", "aws-key")
    .run();
    out.assert_code(0);
    let env = out.stdout_str();
    for want in [
        "FROM_FILE=one two\n",
        "MVM_T_PASSED=p\n",
        "OVERRIDDEN=flag\n",
        "MVM_T_ALSO=a\n",
    ] {
        assert!(env.contains(want), "{want}\n{}", out.describe());
    }
    assert!(
        !env.contains("MVM_T_UNSET") && !env.contains("MVM_T_SECRET"),
        "{env}"
    );
    // --env-host: mvm's whole environment, as podman's.
    let out = Run::mvm_run(&["--env-host"], "/usr/bin/env", &[])
        .env("MVM_T_SECRET", "aws-key")
        .run();
    assert!(
        out.stdout_str().contains("MVM_T_SECRET=aws-key\n"),
        "{}",
        out.describe()
    );
    // TERM only on a terminal (-t): Docker's xterm unless mvm has one.
    let out = Run::mvm_run(&["-t"], "/usr/bin/env", &[])
        .env_remove("TERM")
        .run();
    assert!(
        out.stdout_str().contains("TERM=xterm"),
        "{}",
        out.describe()
    );
    // A bad --env-file line is mvm's error.
    std::fs::write(&file, "BAD KEY=1\n").unwrap();
    Run::mvm_run(&["--env-file", &file_arg], "/bin/true", &[])
        .run()
        .assert_code(125)
        .assert_mvm_error_line("--env-file");
}

#[test]
fn hostname_is_what_uname_hostname_and_etc_hostname_say() {
    let script = "uname -n; hostname; echo $HOSTNAME; cat /etc/hostname; grep -c web-1 /etc/hosts";
    let out = Run::mvm_run(
        &["-h", "web-1", "--add-host", "db:10.0.0.5"],
        BUSYBOX,
        &["sh", "-c", script],
    )
    .run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        "web-1\nweb-1\nweb-1\nweb-1\n1\n",
        "{}",
        out.describe()
    );
    let out = Run::mvm_run(
        &["--add-host", "db:10.0.0.5"],
        BUSYBOX,
        &["grep", "db", "/etc/hosts"],
    )
    .run();
    assert!(
        out.stdout_str().contains("10.0.0.5\tdb"),
        "{}",
        out.describe()
    );
    // The long --hostname too; --help still prints the help.
    let out = Run::mvm_run(&["--hostname", "h2"], BUSYBOX, &["hostname"]).run();
    assert_eq!(out.stdout_str(), "h2\n");
    let out = Run::mvm(["run", "--help"]).run();
    out.assert_code(0);
    assert!(
        out.stdout_str().contains("--hostname"),
        "{}",
        out.describe()
    );
    // A bad name is refused, never a run that "succeeds" without running anything.
    Run::mvm_run(&["-h", "bad name"], "/bin/true", &[])
        .run()
        .assert_code(125)
        .assert_mvm_error_line("-h");
    // Without -h: the host's name, as before.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = Run::mvm_run(&[], BUSYBOX, &["hostname"]).run();
    assert_eq!(out.stdout_str(), host);
}

#[test]
fn user_runs_the_program_with_those_ids_and_their_permissions() {
    let dir = scratch("docker_user");
    std::fs::write(dir.join("secret"), "s\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("secret"), std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let vol = format!("{}:/data", dir.display());
    let script =
        "id -u; id -g; cat /data/secret; touch /data/new; touch /tmp/mine; stat -c %u:%g /tmp/mine";
    let out = Run::mvm_run(
        &["-u", "4242:4343", "-v", &vol],
        BUSYBOX,
        &["sh", "-c", script],
    )
    .run();
    let text = out.stdout_str();
    assert!(text.starts_with("4242\n4343\n"), "{}", out.describe());
    assert!(text.contains("4242:4343"), "{}", out.describe());
    let err = out.stderr_str();
    // busybox's own cat (busybox sh runs its applets through /proc/self/exe, as natively).
    assert!(
        err.contains("can't open '/data/secret': Permission denied"),
        "{}",
        out.describe()
    );
    assert!(
        err.contains("/data/new: Permission denied"),
        "{}",
        out.describe()
    );
    assert!(!dir.join("new").exists());
    // A name from the program's /etc/passwd, with its group.
    let out = Run::mvm_run(&["-u", "nobody"], "/usr/bin/id", &[]).run();
    assert_eq!(
        out.stdout_str(),
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n",
        "{}",
        out.describe()
    );
    Run::mvm_run(&["-u", "no-such-user"], "/bin/true", &[])
        .run()
        .assert_code(125)
        .assert_mvm_error_line("no-such-user");
}

#[test]
fn volumes_are_read_write_unless_ro_and_may_be_relative() {
    let dir = scratch("docker_volumes");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/in"), "hello\n").unwrap();
    // Relative host paths (Docker's ./), and an mvm guest path relative to the working
    // directory: `-v .:.` shows the directory mvm runs in, read-write, at its own path.
    let out = Run::mvm_run(
        &["-v", "./sub:/v:z", "-v", ".:."],
        BUSYBOX,
        &[
            "sh",
            "-c",
            "cat /v/in; echo w > /v/out; cat sub/in; echo x > here",
        ],
    )
    .cwd(&dir)
    .run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "hello\nhello\n", "{}", out.describe());
    assert_eq!(std::fs::read_to_string(dir.join("sub/out")).unwrap(), "w\n");
    assert_eq!(std::fs::read_to_string(dir.join("here")).unwrap(), "x\n");
    // :ro is read-only; a named volume is refused with the reason.
    let vol = format!("{}:/v:ro", dir.join("sub").display());
    let out = Run::mvm_run(&["-v", &vol], BUSYBOX, &["touch", "/v/x"]).run();
    assert_ne!(out.code(), 0);
    assert!(
        out.stderr_str().contains("Read-only file system"),
        "{}",
        out.describe()
    );
    Run::mvm_run(&["-v", "data:/data"], "/bin/true", &[])
        .run()
        .assert_code(125)
        .assert_mvm_error_line("named volume");
}

#[test]
fn tmpfs_and_the_private_tmp_are_bounded() {
    // --tmpfs PATH:size=N and --mount type=tmpfs: private, bounded, writable.
    let script = "df -k /cache /scratch /tmp /dev/shm | tail -n +2 | awk '{print $2, $6}'; \
                  dd if=/dev/zero of=/cache/f bs=1k count=2048 2>/dev/null; echo dd=$?; \
                  stat -c %a /scratch";
    let out = Run::mvm_run(
        &[
            "--memory",
            "64m",
            "--tmpfs",
            "/cache:size=1m",
            "--mount",
            "type=tmpfs,target=/scratch,tmpfs-size=2m,tmpfs-mode=700",
            "--shm-size",
            "8m",
        ],
        BUSYBOX,
        &["sh", "-c", script],
    )
    .run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        "1024 /cache\n2048 /scratch\n65536 /tmp\n8192 /dev/shm\ndd=1\n700\n",
        "{}",
        out.describe()
    );
    // noexec, as Docker's --tmpfs option says.
    let out = Run::mvm_run(
        &["--tmpfs", "/x:noexec"],
        BUSYBOX,
        &["sh", "-c", "cp /bin/busybox /x/b; /x/b true"],
    )
    .run();
    assert_eq!(out.code(), 126, "{}", out.describe());
}

#[test]
fn nothing_of_tmp_and_dev_shm_survives_a_sigkill_of_mvm() {
    let marker = format!("mvm-marker-{}", std::process::id());
    let before = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    let script = format!(
        "echo data > /tmp/{marker}; echo data > /dev/shm/{marker}; mkdir /tmp/d-{marker}; echo ready; sleep 100"
    );
    let mut run = Run::mvm_run(&[], BUSYBOX, &["sh", "-c", &script]).spawn();
    run.wait_for_stdout("ready");
    let pid = run.pid();
    run.signal(libc::SIGKILL);
    let out = run.wait();
    assert_eq!(out.shell_status(), 137);
    // No directory of the run's is left anywhere a fallback would put one, and no file of it
    // in the host's /tmp, /dev/shm or /run.
    std::thread::sleep(Duration::from_millis(200));
    for dir in ["/tmp", "/dev/shm", "/run", "/var/tmp"] {
        let found = std::process::Command::new("find")
            .args([dir, "-xdev", "-name", &format!("*{marker}*")])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&found.stdout), "", "left in {dir}");
    }
    let prefix = format!("mvm-{pid}-");
    let leftovers: Vec<_> = std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let after = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .count();
    assert_eq!(before, after, "the host's mount table changed");
}

#[test]
fn network_none_reaches_only_the_runs_own_loopback() {
    let code = r#"
import socket
s = socket.socket(); s.bind(('127.0.0.1', 7000)); s.listen()
c = socket.create_connection(('127.0.0.1', 7000)); print('own loopback ok')
try:
    socket.create_connection(('192.0.2.1', 80), timeout=2)
except OSError as e:
    print('out:', e.errno)
"#;
    let out = Run::mvm_run(&["--network", "none"], PYTHON, &["-c", code]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        format!("own loopback ok\nout: {}\n", libc::ENETUNREACH),
        "{}",
        out.describe()
    );
    Run::mvm_run(&["--network", "none", "-p", "80"], "/bin/true", &[])
        .run()
        .assert_code(125)
        .assert_mvm_error_line("-p");
    Run::mvm_run(&["--network", "container:x"], "/bin/true", &[])
        .run()
        .assert_code(125)
        .assert_mvm_error_line("--network");
}

#[test]
fn network_host_binds_the_hosts_ports_and_reaches_its_loopback() {
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let code = format!(
        "import socket\n\
         socket.create_connection(('127.0.0.1', {port})); print('host service reached')\n\
         s = socket.socket(); s.bind(('127.0.0.1', {free})); print('bound', s.getsockname()[1])\n"
    );
    let out = Run::mvm_run(&["--network", "host"], PYTHON, &["-c", &code]).run();
    out.assert_code(0);
    assert_eq!(
        out.stdout_str(),
        format!("host service reached\nbound {free}\n"),
        "{}",
        out.describe()
    );
    // The default network: the host's loopback services are not the program's.
    let out = Run::mvm_run(&[], PYTHON, &["-c", &code]).run();
    assert_ne!(out.code(), 0, "{}", out.describe());
    assert!(
        out.stderr_str().contains("ConnectionRefusedError"),
        "{}",
        out.describe()
    );
}

/// The CPU time (user + system) process `pid` has used so far.
fn cpu_time(pid: i32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // SAFETY: plain sysconf query.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    Duration::from_secs_f64(ticks / hz)
}

#[test]
fn cpus_bound_the_runs_cpu_time_and_the_cpus_it_sees() {
    let code = "import os, time\n\
                print(os.cpu_count(), len(os.sched_getaffinity(0)), flush=True)\n\
                t = time.time()\n\
                while time.time() - t < 1.5: pass\n\
                print('spun', flush=True)\n\
                time.sleep(100)\n";
    let start = std::time::Instant::now();
    let mut run = Run::mvm_run(&["--cpus", "0.25"], PYTHON, &["-c", code]).spawn();
    run.wait_for_stdout("spun");
    let (wall, cpu) = (start.elapsed(), cpu_time(run.pid()));
    run.signal(libc::SIGTERM);
    let out = run.wait();
    assert!(out.stdout_str().starts_with("1 1\n"), "{}", out.describe());
    // A quarter of a CPU: spinning uses about a quarter of the time that passes (unbounded
    // it would use all of it).
    let share = cpu.as_secs_f64() / wall.as_secs_f64();
    assert!(
        share < 0.4,
        "used {cpu:?} of CPU in {wall:?} ({share:.2} CPUs)"
    );
    // 1.5 CPUs show as 2 (the VM shows ceil(N), at most the host's).
    let host = std::thread::available_parallelism().unwrap().get();
    if host >= 2 {
        let out = Run::mvm_run(&["--cpus", "1.5"], "/usr/bin/nproc", &[]).run();
        assert_eq!(out.stdout_str(), "2\n", "{}", out.describe());
    }
    Run::mvm_run(&["--cpus", &(host + 1).to_string()], "/bin/true", &[])
        .run()
        .assert_code(125)
        .assert_mvm_error_line("--cpus");
}

#[test]
fn pids_limit_bounds_programs_and_threads() {
    let out = Run::mvm_run(
        &["--pids-limit", "3"],
        BUSYBOX,
        &["sh", "-c", "sleep 1 & sleep 1 & sleep 1 & wait"],
    )
    .run();
    assert!(
        out.stderr_str().contains("can't fork"),
        "{}",
        out.describe()
    );
    let out = Run::mvm_run(
        &["--pids-limit", "-1"],
        BUSYBOX,
        &[
            "sh",
            "-c",
            "sleep 0.1 & sleep 0.1 & sleep 0.1 & wait; echo ok",
        ],
    )
    .run();
    assert_eq!(out.stdout_str(), "ok\n", "{}", out.describe());
}

#[test]
fn name_entrypoint_and_accepted_flags() {
    // --name: in mvm's messages, and in the host's ps.
    let out = Run::mvm_run(&["--name", "web"], "./no-such-program", &[]).run();
    out.assert_code(127)
        .assert_mvm_error_line("web: ./no-such-program: not found");
    let mut run = Run::mvm_run(
        &["--name", "my-service"],
        BUSYBOX,
        &["sh", "-c", "echo ready; sleep 100"],
    )
    .spawn();
    run.wait_for_stdout("ready");
    let comm = std::fs::read_to_string(format!("/proc/{}/comm", run.pid())).unwrap();
    run.signal(libc::SIGTERM);
    run.wait();
    assert_eq!(comm, "my-service\n");
    // --entrypoint: the program; every argument after the flags is its argument.
    let out = Run::mvm_run(
        &[
            "--entrypoint",
            "/bin/echo",
            "--rm",
            "--read-only",
            "--init",
            "-i",
        ],
        "hello",
        &["world"],
    )
    .run();
    out.assert_code(0);
    assert_eq!(out.stdout_str(), "hello world\n");
    let out = Run::mvm_run(
        &["--platform", "linux/amd64", "--cap-drop", "ALL"],
        "/bin/true",
        &[],
    )
    .run();
    out.assert_code(0);
}

#[test]
fn docker_flags_mvm_cannot_honour_are_refused_with_a_reason() {
    for (flags, needle) in [
        (
            vec!["-d"],
            "--detach: mvm runs the program in the foreground",
        ),
        (vec!["--privileged"], "--privileged"),
        (vec!["--cap-add", "NET_ADMIN"], "--cap-add"),
        (vec!["--device", "/dev/sda"], "--device"),
        (vec!["--restart", "always"], "--restart"),
        (vec!["-P"], "--publish-all"),
        (vec!["--pid", "host"], "--pid"),
        (
            vec!["--security-opt", "seccomp=unconfined"],
            "--security-opt",
        ),
        (vec!["--platform", "linux/arm64"], "--platform"),
    ] {
        let out = Run::mvm_run(&flags, "/bin/true", &[]).run();
        out.assert_code(125).assert_mvm_error_line(needle);
    }
}
