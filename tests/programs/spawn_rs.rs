//! Rust's std::process::Command, which starts programs with glibc's posix_spawn (clone with
//! CLONE_VM|CLONE_VFORK): a missing program must be an error from `spawn`, not a child that
//! exits 127; output, status, stdin piping and kill work as natively. One line per check.
use std::io::Write;
use std::process::{Command, Stdio};

fn main() {
    match Command::new("/nonexistent/prog").spawn() {
        Ok(mut c) => println!("missing program: spawned, {:?}", c.wait().map(|s| s.code())),
        Err(e) => println!("missing program: {:?}", e.kind()),
    }
    match Command::new("/etc/hostname").spawn() {
        Ok(mut c) => println!("not executable: spawned, {:?}", c.wait().map(|s| s.code())),
        Err(e) => println!("not executable: {:?}", e.kind()),
    }
    let out = Command::new("/bin/busybox")
        .args(["sh", "-c", "echo out; echo err >&2; exit 3"])
        .output()
        .unwrap();
    println!(
        "output: {:?} {:?} {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        out.status.code()
    );
    let mut c = Command::new("/bin/busybox")
        .args(["tr", "a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(b"piped\n").unwrap();
    let out = c.wait_with_output().unwrap();
    println!("piped: {:?}", String::from_utf8_lossy(&out.stdout));
    let mut c = Command::new("/bin/busybox").args(["sleep", "30"]).spawn().unwrap();
    c.kill().unwrap();
    println!("killed: {:?}", c.wait().unwrap());
}
