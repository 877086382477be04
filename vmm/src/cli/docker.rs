//! The values of Docker's `run` flags, parsed as Docker (and podman) read them: `-p`, `-v`,
//! `--mount`, `--tmpfs`, `--env-file`, `-u`, `-h`, `--name`, `--cpus`. Each error is one line
//! that names the flag.

use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use crate::policy::io_text;
use crate::spec::{Proto, Publish, Tmpfs, User, Volume};
use crate::sys::fs::normalize_text;

/// `-p [IP:][HOSTPORT:]GUESTPORT[/tcp|/udp]`, ports or equal-length ranges (`8000-8001:80-81`).
/// A missing HOSTPORT is 0: the runner picks a free one and says which.
pub fn publish(s: &str) -> Result<Vec<Publish>, String> {
    let bad = |why: &str| format!("-p {s}: {why}");
    let (body, proto) = match s.rsplit_once('/') {
        Some((b, "tcp")) => (b, Proto::Tcp),
        Some((b, "udp")) => (b, Proto::Udp),
        Some((_, p)) => return Err(bad(&format!("protocol {p} is not served (tcp or udp)"))),
        None => (s, Proto::Tcp),
    };
    // An IPv6 address is bracketed: [::1]:8080:80.
    let (ip, rest) = if let Some(r) = body.strip_prefix('[') {
        let (addr, rest) = r
            .split_once("]:")
            .ok_or_else(|| bad("expected [IPv6]:..."))?;
        (Some(addr), rest)
    } else {
        match body.matches(':').count() {
            0 | 1 => (None, body),
            2 => {
                let (a, r) = body.split_once(':').expect("two colons");
                (Some(a), r)
            }
            _ => return Err(bad("expected [IP:][HOSTPORT:]GUESTPORT[/tcp|/udp]")),
        }
    };
    let ip = match ip {
        None | Some("") => None,
        Some(a) => Some(
            a.parse::<IpAddr>()
                .map_err(|_| bad(&format!("{a} is not an IP address")))?,
        ),
    };
    let (host, guest) = match rest.split_once(':') {
        Some((h, g)) => (h, g),
        None => ("", rest),
    };
    let range = |p: &str, zero_ok: bool| -> Result<(u16, u16), String> {
        let one = |x: &str| -> Result<u16, String> {
            x.parse::<u16>()
                .ok()
                .filter(|&n| n != 0)
                .ok_or_else(|| bad(&format!("invalid port '{x}' (1-65535)")))
        };
        if p.is_empty() && zero_ok {
            return Ok((0, 0));
        }
        match p.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (one(a)?, one(b)?);
                if a > b {
                    return Err(bad(&format!("invalid range {p}")));
                }
                Ok((a, b))
            }
            None => one(p).map(|n| (n, n)),
        }
    };
    let (g0, g1) = range(guest, false)?;
    let (h0, h1) = range(host, true)?;
    if h0 != 0 && h1 - h0 != g1 - g0 {
        return Err(bad("the host and program port ranges differ in length"));
    }
    Ok((g0..=g1)
        .enumerate()
        .map(|(i, guest)| Publish {
            ip,
            host: if h0 == 0 { 0 } else { h0 + i as u16 },
            guest,
            proto,
        })
        .collect())
}

/// A host path as Docker's CLI takes it: absolute, or relative when it starts with `.`
/// (a bare name would be a named volume, which mvm does not have).
fn host_path(flag: &str, s: &str, p: &str) -> Result<PathBuf, String> {
    if !(p.starts_with('/') || p == "." || p == ".." || p.starts_with("./") || p.starts_with("../"))
    {
        return Err(format!(
            "{flag} {s}: '{p}' would be a named volume, which mvm does not have: give a host path (absolute, or relative starting with ./)"
        ));
    }
    std::fs::canonicalize(p).map_err(|e| format!("{flag} {s}: {p}: {}", io_text(&e)))
}

/// A guest path: absolute, or (an mvm extension, for runners started in a project) relative to
/// mvm's working directory, which is the program's unless `-w` says otherwise.
fn guest_path(flag: &str, s: &str, p: &str) -> Result<String, String> {
    if p.starts_with('/') {
        return Ok(normalize_text("/", p));
    }
    if p == "." || p.starts_with("./") || p == ".." || p.starts_with("../") {
        let cwd = std::env::current_dir().map_err(|e| format!("{flag} {s}: {}", io_text(&e)))?;
        return Ok(normalize_text(&cwd.to_string_lossy(), p));
    }
    Err(format!(
        "{flag} {s}: the path in the program's view must be absolute (or start with ./)"
    ))
}

/// `-v HOST:GUEST[:OPTIONS]`: read-write unless `ro`; `z`/`Z` (SELinux labels) and the
/// consistency options of Docker Desktop are accepted and have no effect here.
pub fn volume(s: &str) -> Result<Volume, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (host, guest, opts) = match parts.as_slice() {
        [h, g] => (*h, *g, ""),
        [h, g, o] => (*h, *g, *o),
        _ => return Err(format!("-v {s}: expected HOST:GUEST[:ro|rw]")),
    };
    let mut rw = true;
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" | "readonly" => rw = false,
            "rw" => rw = true,
            "z" | "Z" | "cached" | "delegated" | "consistent" | "private" | "rprivate" => {}
            _ => return Err(format!("-v {s}: option '{o}' is not served (ro, rw, z, Z)")),
        }
    }
    if host.is_empty() || guest.is_empty() {
        return Err(format!("-v {s}: expected HOST:GUEST[:ro|rw]"));
    }
    Ok(Volume {
        host: host_path("-v", s, host)?,
        guest: guest_path("-v", s, guest)?,
        rw,
    })
}

/// What `--mount` adds to the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mount {
    /// `type=bind`.
    Bind(Volume),
    /// `type=tmpfs`.
    Tmpfs(Tmpfs),
}

fn truthy(flag: &str, s: &str, v: Option<&str>) -> Result<bool, String> {
    match v {
        None | Some("1") | Some("true") => Ok(true),
        Some("0") | Some("false") => Ok(false),
        Some(x) => Err(format!("{flag} {s}: '{x}' is not true or false")),
    }
}

/// `--mount type=bind,source=H,target=G[,readonly]` or
/// `--mount type=tmpfs,target=G[,tmpfs-size=N][,tmpfs-mode=M]`.
pub fn mount(s: &str) -> Result<Mount, String> {
    let (mut ty, mut src, mut dst, mut ro) = (None, None, None, false);
    let (mut size, mut mode) = (None, 0o1777);
    for kv in s.split(',') {
        let (k, v) = match kv.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (kv, None),
        };
        let value = || v.ok_or_else(|| format!("--mount {s}: {k} needs a value"));
        match k {
            "type" => ty = Some(value()?),
            "source" | "src" => src = Some(value()?),
            "target" | "destination" | "dst" => dst = Some(value()?),
            "readonly" | "ro" => ro = truthy("--mount", s, v)?,
            "tmpfs-size" => size = Some(parse_any_size("--mount", value()?)?),
            "tmpfs-mode" => mode = parse_mode("--mount", s, value()?)?,
            "bind-propagation" | "consistency" | "bind-nonrecursive" => {}
            _ => return Err(format!("--mount {s}: option '{k}' is not served")),
        }
    }
    let dst = dst.ok_or_else(|| format!("--mount {s}: a target is needed"))?;
    let guest = guest_path("--mount", s, dst)?;
    match ty {
        Some("bind") => {
            let src = src.ok_or_else(|| format!("--mount {s}: a source is needed"))?;
            Ok(Mount::Bind(Volume {
                host: host_path("--mount", s, src)?,
                guest,
                rw: !ro,
            }))
        }
        Some("tmpfs") => Ok(Mount::Tmpfs(Tmpfs {
            guest,
            size,
            mode,
            noexec: false,
        })),
        Some("volume") => Err(format!(
            "--mount {s}: mvm has no named volumes: use type=bind with a host directory"
        )),
        Some(t) => Err(format!(
            "--mount {s}: type {t} is not served (bind or tmpfs)"
        )),
        None => Err(format!("--mount {s}: a type is needed (bind or tmpfs)")),
    }
}

fn parse_any_size(flag: &str, v: &str) -> Result<u64, String> {
    let t = v.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1u64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{flag}: invalid size '{v}' (use e.g. 64m)"))
}

fn parse_mode(flag: &str, s: &str, v: &str) -> Result<u32, String> {
    u32::from_str_radix(v, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| format!("{flag} {s}: mode '{v}' is not octal"))
}

/// `--tmpfs PATH[:size=N,mode=M,noexec,...]`.
pub fn tmpfs(s: &str) -> Result<Tmpfs, String> {
    let (path, opts) = s.split_once(':').unwrap_or((s, ""));
    let mut t = Tmpfs {
        guest: guest_path("--tmpfs", s, path)?,
        size: None,
        mode: 0o1777,
        noexec: false,
    };
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o.split_once('=') {
            Some(("size", v)) => t.size = Some(parse_any_size("--tmpfs", v)?),
            Some(("mode", v)) => t.mode = parse_mode("--tmpfs", s, v)?,
            None if o == "noexec" => t.noexec = true,
            None if matches!(o, "exec" | "rw" | "nosuid" | "suid" | "nodev" | "dev") => {}
            _ => return Err(format!("--tmpfs {s}: option '{o}' is not served")),
        }
    }
    Ok(t)
}

/// The lines of an `--env-file`: `KEY=VALUE` as they are, `KEY` alone for mvm's own value,
/// `#` comments and blank lines skipped.
pub fn env_file(path: &Path) -> Result<Vec<OsString>, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("--env-file {}: {}", path.display(), io_text(&e)))?;
    let mut out = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let start = line.iter().position(|b| !b.is_ascii_whitespace());
        let Some(start) = start else { continue };
        let line = &line[start..];
        if line.starts_with(b"#") {
            continue;
        }
        let key_end = line.iter().position(|&b| b == b'=').unwrap_or(line.len());
        let key = &line[..key_end];
        if key.is_empty() || key.iter().any(|b| b.is_ascii_whitespace()) {
            return Err(format!(
                "--env-file {} line {}: variable '{}' has white space or no name",
                path.display(),
                i + 1,
                String::from_utf8_lossy(key)
            ));
        }
        out.push(OsString::from_vec(line.to_vec()));
    }
    Ok(out)
}

/// An entry of a passwd-style file (`name:x:id:gid:...:home:shell` or `name:x:gid:members`).
fn entries(root: &Path, file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(root.join(file))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

/// `-u USER[:GROUP]`, each a name or a number, resolved in the program's `/etc/passwd` and
/// `/etc/group` (under `root`), as Docker resolves them in the image: a user's own group is its
/// passwd entry's, its supplementary groups those `/etc/group` lists it in and its own; a
/// number that has no entry is taken as it is (group 0).
pub fn user(s: &str, root: &Path) -> Result<(User, Option<String>), String> {
    let (u, g) = match s.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (s, None),
    };
    let passwd = entries(root, "etc/passwd");
    let groups = entries(root, "etc/group");
    let entry = passwd
        .iter()
        .find(|e| e.len() >= 7 && (e[0] == u || (u.parse::<u32>().is_ok() && e[2] == u)));
    let uid = match (entry, u.parse::<u32>()) {
        (_, Ok(n)) => n,
        (Some(e), _) => e[2]
            .parse()
            .map_err(|_| format!("-u {s}: bad passwd entry"))?,
        (None, _) => {
            return Err(format!(
                "-u {s}: no user '{u}' in the program's /etc/passwd"
            ))
        }
    };
    let gid = match g {
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => groups
                .iter()
                .find(|e| e.len() >= 3 && e[0] == g)
                .and_then(|e| e[2].parse().ok())
                .ok_or_else(|| format!("-u {s}: no group '{g}' in the program's /etc/group"))?,
        },
        None => entry.and_then(|e| e[3].parse().ok()).unwrap_or(0),
    };
    let name = entry.map(|e| e[0].clone());
    let mut extra: Vec<u32> = match (&name, g) {
        (Some(n), None) => groups
            .iter()
            .filter(|e| e.len() >= 4 && e[3].split(',').any(|m| m == n))
            .filter_map(|e| e[2].parse().ok())
            .collect(),
        _ => Vec::new(),
    };
    // The user's own group is among its groups, as runc and crun set them up.
    extra.push(gid);
    extra.sort_unstable();
    extra.dedup();
    let home = entry.map(|e| e[5].clone()).filter(|h| h.starts_with('/'));
    Ok((
        User {
            uid,
            gid,
            groups: extra,
        },
        home,
    ))
}

/// The home directory of `uid` in the program's `/etc/passwd` (under `root`).
pub fn home_of(uid: u32, root: &Path) -> Option<String> {
    entries(root, "etc/passwd")
        .into_iter()
        .find(|e| e.len() >= 7 && e[2] == uid.to_string())
        .map(|e| e[5].clone())
        .filter(|h| h.starts_with('/'))
}

/// `--add-host NAME:IP`: a line of the program's `/etc/hosts`.
pub fn add_host(s: &str) -> Result<(String, IpAddr), String> {
    let (name, ip) = s
        .split_once(':')
        .or_else(|| s.split_once('='))
        .ok_or_else(|| format!("--add-host {s}: expected NAME:IP"))?;
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    let ip = ip.parse::<IpAddr>().map_err(|_| {
        format!("--add-host {s}: '{ip}' is not an IP address (host-gateway is not served)")
    })?;
    Ok((
        hostname(name).map_err(|_| format!("--add-host {s}: '{name}' is not a host name"))?,
        ip,
    ))
}

/// `-h NAME`: a host name as RFC 1123 allows (what `sethostname` would take: at most 64 bytes).
pub fn hostname(s: &str) -> Result<String, String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if s.len() > 64 || !s.split('.').all(label_ok) {
        return Err(format!("-h {s}: not a valid host name"));
    }
    Ok(s.to_string())
}

/// `--name NAME`: Docker's rule, `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn name(s: &str) -> Result<String, String> {
    let mut b = s.bytes();
    let first = b.next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !first || !b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')) {
        return Err(format!(
            "--name {s}: invalid name (only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed)"
        ));
    }
    Ok(s.to_string())
}

/// `--cpus N`: more than 0, at most the CPUs mvm may run on (as Docker checks it).
pub fn cpus(s: &str, available: usize) -> Result<f64, String> {
    let n: f64 = s
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.01)
        .ok_or_else(|| format!("--cpus {s}: expected a number of CPUs such as 0.5 or 2"))?;
    if n > available as f64 {
        return Err(format!(
            "--cpus {s}: the range of CPUs is from 0.01 to {available}.00, as there are only {available} CPUs available"
        ));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(ip: Option<&str>, host: u16, guest: u16, proto: Proto) -> Publish {
        Publish {
            ip: ip.map(|a| a.parse().unwrap()),
            host,
            guest,
            proto,
        }
    }

    #[test]
    fn publications_as_docker_reads_them() {
        use Proto::*;
        assert_eq!(publish("80").unwrap(), [p(None, 0, 80, Tcp)]);
        assert_eq!(publish("8080:80").unwrap(), [p(None, 8080, 80, Tcp)]);
        assert_eq!(publish("8080:80/udp").unwrap(), [p(None, 8080, 80, Udp)]);
        assert_eq!(
            publish("127.0.0.1:8080:80").unwrap(),
            [p(Some("127.0.0.1"), 8080, 80, Tcp)]
        );
        assert_eq!(
            publish("127.0.0.1::80").unwrap(),
            [p(Some("127.0.0.1"), 0, 80, Tcp)]
        );
        assert_eq!(
            publish("[::1]:8080:80/tcp").unwrap(),
            [p(Some("::1"), 8080, 80, Tcp)]
        );
        assert_eq!(
            publish("8000-8001:80-81").unwrap(),
            [p(None, 8000, 80, Tcp), p(None, 8001, 81, Tcp)]
        );
        for bad in [
            "0",
            "70000",
            "a:80",
            "80/sctp",
            "1:2:3:4",
            "8000-8002:80-81",
            "x:8080:80",
        ] {
            assert!(publish(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn volumes_are_read_write_unless_ro() {
        let v = volume("/tmp:/data").unwrap();
        assert!(v.rw);
        assert_eq!(v.guest, "/data");
        assert!(!volume("/tmp:/data:ro").unwrap().rw);
        assert!(volume("/tmp:/data:rw,z").unwrap().rw);
        assert!(volume("/tmp:/data:Z").unwrap().rw);
        assert!(volume("/tmp:/data:shared").is_err());
        assert!(volume("/nonexistent-mvm:/data").is_err());
        assert!(volume("named:/data").unwrap_err().contains("named volume"));
        assert!(volume("/tmp:data").is_err());
        let here = std::env::current_dir().unwrap();
        let v = volume(".:.").unwrap();
        assert_eq!(v.host, std::fs::canonicalize(&here).unwrap());
        assert_eq!(v.guest, here.to_string_lossy());
    }

    #[test]
    fn mounts_and_tmpfs() {
        assert_eq!(
            mount("type=bind,source=/tmp,target=/x,readonly").unwrap(),
            Mount::Bind(Volume {
                host: std::fs::canonicalize("/tmp").unwrap(),
                guest: "/x".into(),
                rw: false
            })
        );
        assert_eq!(
            mount("type=tmpfs,destination=/cache,tmpfs-size=1m,tmpfs-mode=700").unwrap(),
            Mount::Tmpfs(Tmpfs {
                guest: "/cache".into(),
                size: Some(1 << 20),
                mode: 0o700,
                noexec: false
            })
        );
        assert!(mount("type=volume,target=/x").is_err());
        assert!(mount("type=bind,target=/x").is_err());
        let t = tmpfs("/run:size=64k,mode=755,noexec").unwrap();
        assert_eq!((t.size, t.mode, t.noexec), (Some(64 << 10), 0o755, true));
        assert!(tmpfs("/run:size=lots").is_err());
    }

    #[test]
    fn users_resolve_in_the_programs_passwd() {
        let root = std::env::temp_dir().join(format!("mvm-cli-user-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            root.join("etc/group"),
            "root:x:0:\nalice:x:1000:\nwheel:x:10:alice\nstaff:x:50:bob,alice\n",
        )
        .unwrap();
        let (u, home) = user("alice", &root).unwrap();
        assert_eq!(
            (u.uid, u.gid, u.groups.clone()),
            (1000, 1000, vec![10, 50, 1000])
        );
        assert_eq!(home.as_deref(), Some("/home/alice"));
        let (u, _) = user("1000:wheel", &root).unwrap();
        assert_eq!((u.uid, u.gid), (1000, 10));
        let (u, home) = user("4242", &root).unwrap();
        assert_eq!((u.uid, u.gid, home), (4242, 0, None));
        assert!(user("nobody-here", &root).is_err());
        assert!(user("alice:nogroup", &root).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn names() {
        assert!(hostname("web-1.example").is_ok());
        assert!(hostname("-bad").is_err());
        assert!(hostname("a b").is_err());
        assert!(name("my_app.1").is_ok());
        assert!(name("_no").is_err());
        assert!(cpus("0.5", 2).is_ok());
        assert!(cpus("3", 2).is_err());
        assert!(cpus("0", 2).is_err());
    }

    #[test]
    fn env_files() {
        let f = std::env::temp_dir().join(format!("mvm-envfile-{}", std::process::id()));
        std::fs::write(&f, "# a comment\nA=1\n\n  B=two words\nC\nD=\n").unwrap();
        let got = env_file(&f).unwrap();
        assert_eq!(got, ["A=1", "B=two words", "C", "D="].map(OsString::from));
        std::fs::write(&f, "BAD KEY=1\n").unwrap();
        assert!(env_file(&f).is_err());
        std::fs::remove_file(&f).unwrap();
    }
}
