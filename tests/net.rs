//! Networking: a server in mvm on a port published with `-p`, reached from the host; a client
//! in mvm reaching a host server; the port policy (unpublished ports are refused, a published one
//! shows as the program's own); UDP, socketpairs, named and abstract Unix sockets and epoll
//! compared with native runs.

#[path = "common/mod.rs"]
mod common;

use common::{assert_agree, assert_group_gone, Outcome, Run};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const PYTHON: &str = "/usr/bin/python3";

fn compare(opts: &[&str], args: &[&str]) -> Outcome {
    let vm = Run::mvm_run(opts, PYTHON, args).run();
    let native = Run::native(PYTHON, args).run();
    assert_agree(&vm, &native, &format!("python3 {args:?}"));
    vm
}

/// A host port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn http_server_in_mvm_serves_a_host_client() {
    let dir = common::scratch("net_www");
    std::fs::write(dir.join("index.html"), "hello over http\n").unwrap();
    let port = free_port();
    let publish = format!("{port}:8080");
    let vol = format!("{}:/www", dir.display());
    let mut running = Run::mvm([
        "run",
        "-p",
        &publish,
        "-v",
        &vol,
        "-w",
        "/www",
        PYTHON,
        "-u",
        "-m",
        "http.server",
        "8080",
    ])
    .spawn();
    let pgid = running.pid();
    running.wait_for_stdout("Serving HTTP on 0.0.0.0 port 8080");
    for _ in 0..3 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.0 200 OK"), "{resp}");
        assert!(resp.ends_with("\r\n\r\nhello over http\n"), "{resp}");
    }
    running.signal(libc::SIGTERM);
    let out = running.wait();
    out.assert_code(143);
    assert_group_gone(pgid);
}

#[test]
fn client_in_mvm_reaches_a_host_server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut c, _) = listener.accept().unwrap();
            let mut buf = [0u8; 64];
            let n = c.read(&mut buf).unwrap();
            c.write_all(&buf[..n].to_ascii_uppercase()).unwrap();
        }
    });
    let code = format!(
        "import socket\n\
         s = socket.create_connection(('127.0.0.1', {port}))\n\
         s.sendall(b'ping from the guest')\n\
         print(s.recv(64).decode())\n\
         print(s.getpeername()[1] == {port})\n"
    );
    // Natively first, then under mvm sharing the host's loopback: the same output.
    compare(&["--network", "host"], &["-c", &code]).assert_code(0);
    server.join().unwrap();
}

/// This host's first non-loopback IPv4 address, if it has one (no packet is sent).
fn host_address() -> Option<std::net::IpAddr> {
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn loopback_is_the_runs_own_unless_shared() {
    // A host server listens on 127.0.0.1. By default the program's loopback is its own, as in a
    // container: the host's server is refused, the program's own servers (port 0, and a
    // published port by the number the program knows) answer. `--network host` shares the
    // host's loopback. The host's other addresses are reached as any address out is.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let published = free_port();
    let code = format!(
        r#"
import errno, socket, threading
def attempt(addr):
    try:
        with socket.create_connection(addr, timeout=5) as c:
            return "connected"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))
print("host's 127.0.0.1 server:", attempt(("127.0.0.1", {port})))
print("host's ::1 / unspecified:", attempt(("::1", {port})), attempt(("0.0.0.0", {port})))
def serve(s):
    c, _ = s.accept()
    c.sendall(b"own server")
    c.close()
for bind_port in (0, 8080):
    s = socket.socket()
    s.bind(("127.0.0.1", bind_port))
    s.listen()
    threading.Thread(target=serve, args=(s,)).start()
    with socket.create_connection(("127.0.0.1", s.getsockname()[1])) as c:
        print("own server on port", "0" if bind_port == 0 else bind_port, "answers:", c.recv(64).decode())
"#
    );
    let publish = format!("{published}:8080");
    let vm = Run::mvm_run(&["-p", &publish], PYTHON, &["-c", &code]).run();
    vm.assert_code(0);
    assert_eq!(
        vm.stdout_str(),
        "host's 127.0.0.1 server: ECONNREFUSED\n\
         host's ::1 / unspecified: ECONNREFUSED ECONNREFUSED\n\
         own server on port 0 answers: own server\n\
         own server on port 8080 answers: own server\n",
        "{}",
        vm.describe()
    );
    let shared = format!(
        "import socket\nsocket.create_connection(('127.0.0.1', {port}))\nprint('connected')"
    );
    let vm = Run::mvm_run(&["--network", "host"], PYTHON, &["-c", &shared]).run();
    assert_eq!(vm.stdout_str(), "connected\n", "{}", vm.describe());
    drop(listener);
    if let Some(ip) = host_address() {
        let outside = TcpListener::bind((ip, 0)).unwrap();
        let port = outside.local_addr().unwrap().port();
        let code = format!(
            "import socket\nsocket.create_connection(('{ip}', {port}))\nprint('connected')"
        );
        let vm = Run::mvm_run(&[], PYTHON, &["-c", &code]).run();
        assert_eq!(vm.stdout_str(), "connected\n", "{}", vm.describe());
    }
}

#[test]
fn any_port_may_be_bound_only_published_ones_reach_the_host() {
    // As in a container: the program binds and listens where it likes, talks to itself over
    // loopback by its own port numbers, and the host reaches only what -p publishes.
    let unpublished = free_port();
    let code = format!(
        "import socket, threading, sys\n\
         s = socket.socket(); s.bind(('0.0.0.0', {unpublished})); s.listen()\n\
         print('bound', s.getsockname(), flush=True)\n\
         def serve():\n    c, _ = s.accept(); c.sendall(b'own'); c.close()\n\
         threading.Thread(target=serve).start()\n\
         c = socket.create_connection(('127.0.0.1', {unpublished})); print(c.recv(8).decode(), flush=True)\n\
         sys.stdin.read()\n"
    );
    let mut run = Run::mvm_run(&[], PYTHON, &["-c", &code])
        .hold_stdin()
        .spawn();
    run.wait_for_stdout("own\n");
    // Nothing of the run's is at that port on the host.
    let host = TcpStream::connect(("127.0.0.1", unpublished)).map(|_| ());
    drop(run);
    assert!(host.is_err(), "the host reached an unpublished port");
    // A published port shows as the program's own number; getsockname as it was bound.
    let port = free_port();
    let publish = format!("{port}:8080");
    let code = "import socket\ns = socket.socket(); s.bind(('', 8080)); print(s.getsockname())\n";
    let vm = Run::mvm_run(&["-p", &publish], PYTHON, &["-c", code]).run();
    assert_eq!(vm.stdout_str(), "('0.0.0.0', 8080)\n", "{}", vm.describe());
    // Port 0 (the host picks one) is a client's bind, as natively.
    let code = "import socket\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\nprint(s.getsockname()[1] > 0)\n";
    compare(&[], &["-c", code]).assert_code(0);
}

/// The local addresses of listening sockets (`ss -ltnH` / `-lunH`) of process `pid`.
fn listening(pid: i32, udp: bool) -> Vec<String> {
    let flags = if udp { "-lunpH" } else { "-ltnpH" };
    let out = std::process::Command::new("ss")
        .arg(flags)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(&format!("pid={pid},")))
        .filter_map(|l| l.split_whitespace().nth(3).map(str::to_string))
        .collect()
}

#[test]
fn publish_binds_only_the_given_address_and_protocol() {
    let port = free_port();
    let code = "import socket, sys\n\
                t = socket.socket(); t.bind(('', 80)); t.listen()\n\
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('', 53))\n\
                print('ready', flush=True)\n\
                data, peer = u.recvfrom(64); u.sendto(data.upper(), peer)\n\
                sys.stdin.read()\n";
    let tcp = format!("127.0.0.1:{port}:80");
    let udp = format!("127.0.0.1:{port}:53/udp");
    let mut run = Run::mvm_run(&["-p", &tcp, "-p", &udp], PYTHON, &["-c", code])
        .hold_stdin()
        .spawn();
    run.wait_for_stdout("ready");
    let pid = run.pid();
    let (t, u) = (listening(pid, false), listening(pid, true));
    // The TCP publication on 127.0.0.1 only; the UDP one too; the unpublished ports are on
    // loopback at ports the host picked (not 80, not 53).
    assert!(t.contains(&format!("127.0.0.1:{port}")), "{t:?}");
    assert!(u.contains(&format!("127.0.0.1:{port}")), "{u:?}");
    assert!(
        !t.iter()
            .chain(&u)
            .any(|a| a.starts_with("0.0.0.0:") || a.starts_with("*:") || a.starts_with("[::]:")),
        "{t:?} {u:?}"
    );
    // A UDP server answers a client on the host's loopback (its reply is not refused).
    let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.send_to(b"ping", ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 16];
    let n = c
        .recv(&mut buf)
        .expect("the reply of the UDP server in mvm");
    assert_eq!(&buf[..n], b"PING");
    drop(run);
}

#[test]
fn publish_without_a_host_port_takes_a_free_one_and_says_which() {
    let code = "import socket, sys\n\
                s = socket.socket(); s.bind(('', 8080)); s.listen()\n\
                print('ready', flush=True)\n\
                while True:\n    c, _ = s.accept(); c.sendall(b'hello'); c.close()\n";
    let mut run = Run::mvm_run(&["-p", "8080"], PYTHON, &["-c", code]).spawn();
    run.wait_for_stdout("ready");
    let err = run.stderr_now();
    let line = err
        .lines()
        .find(|l| l.contains("is published on"))
        .unwrap_or_default()
        .to_string();
    assert!(
        line.starts_with("mvm: the program's port 8080/tcp is published on 0.0.0.0:"),
        "{err}"
    );
    let port: u16 = line
        .rsplit(':')
        .next()
        .unwrap()
        .trim()
        .parse()
        .expect(&line);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut got = String::new();
    s.read_to_string(&mut got).unwrap();
    assert_eq!(got, "hello");
    run.signal(libc::SIGTERM);
    run.wait();
}

#[test]
fn bad_publish_flags_are_one_line_errors() {
    for bad in ["0:80", "x:80", "1:2:3", "70000"] {
        let out = Run::mvm(["run", "-p", bad, "/bin/busybox", "true"]).run();
        out.assert_code(125);
        assert!(out.stderr_str().contains("-p"), "{}", out.describe());
    }
}

#[test]
fn udp_socketpair_and_epoll_match_native() {
    let code = "import socket, selectors\n\
                a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('127.0.0.1', 0))\n\
                b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(('127.0.0.1', 0))\n\
                a.sendto(b'datagram', b.getsockname())\n\
                data, peer = b.recvfrom(64)\n\
                print(data, peer == a.getsockname())\n\
                x, y = socket.socketpair()\n\
                sel = selectors.EpollSelector()\n\
                sel.register(y, selectors.EVENT_READ, 'y')\n\
                print(sel.select(timeout=0))\n\
                x.sendall(b'through the pair')\n\
                print([(k.data, ev) for k, ev in sel.select(timeout=5)])\n\
                print(y.recv(64))\n\
                x.close()\n\
                print(y.recv(64))\n\
                m, n = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)\n\
                m.sendmsg([b'scatter', b'-gather'])\n\
                print(n.recvmsg(64)[0])\n";
    compare(&[], &["-c", code]).assert_code(0);
}

/// A fresh directory with a short host path (`/tmp/mvm-TAG-PID`), for Unix socket paths.
fn short_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(format!("/tmp/mvm-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn unix_sockets_named_and_abstract_match_native() {
    // Stream, seqpacket and datagram sockets bound to paths and abstract names, between a parent
    // and its forked child: names as each call shows them, descriptors passed, usual mistakes.
    // A socket path must fit in 108 bytes: the native run's directory is a short one (the
    // checkout's may be long); under mvm the program's path is /data/... anyway.
    let (a, b) = (short_dir("unix-native"), common::scratch("unix_mvm"));
    let prog = common::program("unix_sockets");
    let native = Run::native(&prog, &[a.to_str().unwrap()]).run();
    native.assert_code(0);
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], &prog, &["/data"]).run();
    assert_agree(&vm, &native, "unix_sockets in a :rw mount");
    assert!(vm.stdout_str().ends_with("done\n"), "{}", vm.describe());
    // The same in the program's private /tmp.
    let vm = Run::mvm_run(&[], &prog, &["/tmp"]).run();
    assert_agree(&vm, &native, "unix_sockets in /tmp");
    let _ = std::fs::remove_dir_all(&a);
}

#[test]
fn unix_sockets_reach_only_the_view_and_the_run() {
    // A host process's abstract socket and a path socket outside the program's view exist and
    // listen; the program reaches neither, and cannot bind in a read-only mount.
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};
    let name = format!("mvm-test-host-{}", std::process::id());
    let _abstract =
        UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    let dir = short_dir("unix-host");
    let path = dir.join("host.sock");
    let _named = UnixListener::bind(&path).unwrap();
    let code = format!(
        r#"
import errno, socket
def attempt(addr):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(addr)
        return "connected"
    except OSError as e:
        return errno.errorcode[e.errno]
print("host abstract:", attempt("\0{name}"))
print("host path:", attempt("{path}"))
try:
    socket.socket(socket.AF_UNIX).bind("/usr/mvm-test.sock")
except OSError as e:
    print("bind in /usr:", errno.errorcode[e.errno])
"#,
        path = path.display()
    );
    let vm = Run::mvm_run(&[], PYTHON, &["-c", &code]).run();
    vm.assert_code(0);
    assert_eq!(
        vm.stdout_str(),
        "host abstract: ECONNREFUSED\nhost path: ENOENT\nbind in /usr: EROFS\n",
        "{}",
        vm.describe()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn python_unix_socket_server_matches_native() {
    // socketserver over a named Unix socket in a temporary directory, threads serving.
    let code = r#"
import os, socket, socketserver, tempfile, threading
d = tempfile.mkdtemp()
path = os.path.join(d, "srv.sock")
class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.readline().upper())
srv = socketserver.ThreadingUnixStreamServer(path, Upper)
t = threading.Thread(target=srv.serve_forever)
t.start()
for word in ["alpha", "beta", "gamma"]:
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(path)
        c.sendall(word.encode() + b"\n")
        print(c.makefile().readline().strip())
srv.shutdown()
srv.server_close()
print("socket file left:", os.path.exists(path))
os.unlink(path)
os.rmdir(d)
a, b = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a.bind("\0mvm-py-abstract")
b.sendto(b"hi", "\0mvm-py-abstract")
data, sender = a.recvfrom(16)
print("abstract:", data, repr(sender), a.getsockname())
"#;
    let vm = compare(&[], &["-c", code]);
    vm.assert_code(0);
    assert!(
        vm.stdout_str().starts_with("ALPHA\nBETA\nGAMMA\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn hostile_socket_arguments_get_errnos() {
    let out = Run::mvm_run(&[], common::program("net_bad_args"), &[]).run();
    out.assert_code(0);
    let want = "bind len 2: -1 EINVAL\n\
                bind len 3: -1 EINVAL\n\
                bind huge len: -1 EINVAL\n\
                bind bad pointer: -1 EFAULT\n\
                connect len 3: -1 EINVAL\n\
                setsockopt bad pointer: -1 EFAULT\n\
                setsockopt SO_BINDTODEVICE: -1 EPERM\n\
                getsockopt bad length pointer: -1 EFAULT\n\
                sendmsg bad header: -1 EFAULT\n\
                recvfrom on a file: -1 ENOTSOCK\n\
                epoll_wait bad fd: -1 EBADF\n\
                epoll_wait zero events: -1 EINVAL\n\
                packet socket: -1 EACCES\n\
                raw socket: -1 EPERM\n\
                netlink socket: -1 EACCES\n\
                unix socket, protocol 7: -1 EPROTONOSUPPORT\n\
                unknown family: -1 EAFNOSUPPORT\n\
                done\n";
    assert_eq!(out.stdout_str(), want, "{}", out.describe());
}

/// Connects to 127.0.0.1:`port`, retrying while the server starts.
fn connect(port: u16) -> TcpStream {
    for _ in 0..250 {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("nothing listens on {port}");
}

#[test]
fn redis_server_and_cli_over_a_unix_socket_in_one_run() {
    // Debian's redis-server listening on a named Unix socket in the private /tmp, and redis-cli
    // started beside it by the same shell: two programs of one run meeting at a path.
    let script = "redis-server --port 0 --unixsocket /tmp/r.sock --save '' --appendonly no \
                  >/tmp/redis.log 2>&1 &
                  i=0
                  while [ ! -S /tmp/r.sock ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
                  redis-cli -s /tmp/r.sock set greeting hello
                  redis-cli -s /tmp/r.sock get greeting
                  redis-cli -s /tmp/r.sock shutdown nosave
                  wait
                  echo end";
    let vm = Run::mvm_run(&[], "/bin/dash", &["-c", script]).run();
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "OK\nhello\nend\n", "{}", vm.describe());
}

#[test]
fn redis_server_from_debian_answers_through_a_published_port() {
    let port = free_port();
    let publish = format!("{port}:6379");
    let running = Run::mvm([
        "run",
        "-p",
        &publish,
        "/usr/bin/redis-server",
        "--port",
        "6379",
        "--save",
        "",
        "--appendonly",
        "no",
    ])
    .spawn();
    let pgid = running.pid();
    let mut s = connect(port);
    let mut talk = |cmd: &[&str]| {
        let mut req = format!("*{}\r\n", cmd.len());
        for c in cmd {
            req += &format!("${}\r\n{c}\r\n", c.len());
        }
        s.write_all(req.as_bytes()).unwrap();
        let mut buf = [0u8; 256];
        let n = s.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(talk(&["SET", "k", "hello"]), "+OK\r\n");
    assert_eq!(talk(&["GET", "k"]), "$5\r\nhello\r\n");
    assert_eq!(talk(&["INCR", "n"]), ":1\r\n");
    assert_eq!(talk(&["INCR", "n"]), ":2\r\n");
    running.signal(libc::SIGTERM);
    let out = running.wait();
    // redis handles SIGTERM: it shuts down and exits 0.
    out.assert_code(0);
    assert_group_gone(pgid);
}

#[test]
fn nginx_master_and_forked_workers_serve_through_a_published_port() {
    // Two workers: each a forked micro-VM; the master passes them channel descriptors
    // (SCM_RIGHTS) and sets them up as root does (setgid, setuid, prctl).
    let dir = common::scratch("net_nginx");
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/index.html"), "hello from nginx\n").unwrap();
    std::fs::write(
        dir.join("nginx.conf"),
        "daemon off; master_process on; worker_processes 2; error_log stderr warn;\n\
         pid /tmp/nginx.pid; events { worker_connections 64; }\n\
         http { access_log off; client_body_temp_path /tmp/cb; proxy_temp_path /tmp/pt;\n\
         fastcgi_temp_path /tmp/ft; uwsgi_temp_path /tmp/ut; scgi_temp_path /tmp/st;\n\
         server { listen 8080; root /ngx/www; } }\n",
    )
    .unwrap();
    let port = free_port();
    let publish = format!("{port}:8080");
    let vol = format!("{}:/ngx", dir.display());
    let running = Run::mvm([
        "run",
        "-p",
        &publish,
        "-v",
        &vol,
        "/usr/sbin/nginx",
        "-c",
        "/ngx/nginx.conf",
        "-e",
        "stderr",
    ])
    .spawn();
    let pgid = running.pid();
    for _ in 0..4 {
        let mut s = connect(port);
        s.write_all(b"GET /index.html HTTP/1.0\r\n\r\n").unwrap();
        let mut resp = String::new();
        s.read_to_string(&mut resp).unwrap();
        assert!(resp.starts_with("HTTP/1.1 200 OK"), "{resp}");
        assert!(resp.ends_with("\r\n\r\nhello from nginx\n"), "{resp}");
    }
    running.signal(libc::SIGTERM);
    let out = running.wait();
    out.assert_code(0);
    assert!(
        !out.stderr_str().contains("[alert]") && !out.stderr_str().contains("[emerg]"),
        "{}",
        out.describe()
    );
    assert_group_gone(pgid);
}
