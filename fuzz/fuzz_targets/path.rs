//! Path resolution (`FsView::resolve`) of any path a program names, from any working directory,
//! followed or not, in a view over a small host tree made once per process: a read-only root with a
//! symlink loop, symlinks out of it by `..` and by an absolute host path, a writable volume with
//! its own escaping links, a volume under a symlink, a volume whose mount point the root lacks, a
//! file volume, a private /tmp and /dev/shm (a real mount inside a synthesized one), and the
//! synthesized /proc, /sys and /dev. Nothing may panic, and a resolved path stays in the view: its
//! guest path is absolute and normalized and lies in its mount, its path in the mount has no `.`,
//! `..` or empty component, and the host location it names (its parent, and itself when followed),
//! taken the way the host resolves paths, is under its mount's host root; what `path_fd` opens of
//! it is there too.
//!
//! Input: a control byte (the working directory, whether to follow), then the path.
#![no_main]

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vmm::policy::{FsView, MountKind};
use vmm::spec::Volume;

struct Tree {
    view: FsView,
    /// Guest mount path, its host root (canonical).
    roots: Vec<(String, PathBuf)>,
}

/// The tree, in a directory of this process's own under the temporary directory.
fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let t = std::env::temp_dir().join(format!("mvm-fuzz-path-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        let d = |p: &str| std::fs::create_dir_all(t.join(p)).expect("mkdir");
        let f = |p: &str| std::fs::write(t.join(p), p).expect("write");
        let l = |target: &str, p: &str| symlink(target, t.join(p)).expect("symlink");
        for p in [
            "root/etc",
            "root/dir/sub",
            "root/mnt",
            "outside",
            "vol/sub",
            "vol2",
            "ghost",
            "tmp",
            "shm/d",
            "run",
        ] {
            d(p);
        }
        for p in [
            "root/etc/passwd",
            "root/dir/sub/file",
            "root/file",
            "outside/secret",
            "vol/x",
            "vol2/y",
            "ghost/z",
            "hostname",
        ] {
            f(p);
        }
        l("loop2", "root/loop1");
        l("loop1", "root/loop2");
        l(".", "root/self");
        l("../../..", "root/dir/up");
        l("/etc", "root/abs");
        l(t.join("outside").to_str().unwrap(), "root/hostabs");
        l("../outside", "root/out");
        l("../outside", "root/esc");
        l("dir/sub", "root/deep");
        l("../../..", "vol/back");
        l("/mnt/vol/sub", "vol/abs");
        l("../../../../outside/secret", "vol/sub/far");
        l("/dir", "tmp/t");
        l("d", "shm/l");
        l("../../proc", "shm/d/up");
        let canon = |p: &str| t.join(p).canonicalize().expect("canonical");
        let vol = |host: &str, guest: &str, rw| Volume {
            host: canon(host),
            guest: guest.to_string(),
            rw,
        };
        let volumes = [
            vol("vol", "/mnt/vol", true),
            vol("vol2", "/esc/vol", false),
            vol("ghost", "/ghost/deeper/vol", false),
            vol("hostname", "/etc/hostname", false),
        ];
        let tmp: OwnedFd = std::fs::File::open(t.join("tmp")).expect("tmp").into();
        let shm: OwnedFd = std::fs::File::open(t.join("shm")).expect("shm").into();
        let view = FsView::build(
            Some(&t.join("root")),
            &volumes,
            vec![("/tmp".to_string(), tmp), ("/dev/shm".to_string(), shm)],
            &t.join("run"),
            &[],
        )
        .expect("the view");
        let mut roots = vec![
            ("/".to_string(), canon("root")),
            ("/tmp".into(), canon("tmp")),
            ("/dev/shm".into(), canon("shm")),
        ];
        roots.extend(volumes.iter().map(|v| (v.guest.clone(), v.host.clone())));
        Tree { view, roots }
    })
}

const BASES: [&str; 8] = [
    "/",
    "/dir",
    "/dir/sub",
    "/mnt/vol",
    "/mnt/vol/sub",
    "/tmp",
    "/proc",
    "/nonexistent",
];

/// `p` the way the host resolves it (following every symlink), if it exists.
fn host_real(p: &Path) -> Option<PathBuf> {
    match p.canonicalize() {
        Ok(r) => Some(r),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => None,
        // A NUL: no host path names it (the view's host calls refuse it: EINVAL).
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => None,
        Err(e) => panic!("{}: {e}", p.display()),
    }
}

/// Whether `p` is `/`-separated components, none of them empty, `.` or `..`.
fn plain(p: &[u8]) -> bool {
    p.split(|&b| b == b'/')
        .all(|c| !c.is_empty() && c != b"." && c != b"..")
}

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, path)) = data.split_first() else {
        return;
    };
    let t = tree();
    let base = BASES[usize::from(ctl & 7)];
    let follow = ctl & 8 != 0;
    // The path's bytes as they are: a Linux name need not be UTF-8.
    let path = path.escape_ascii().to_string();
    let path_bytes = &data[1..];
    let Ok(r) = t.view.resolve(base.as_bytes(), path_bytes, follow) else {
        return;
    };
    let m = t.view.mount(&r);
    let mg = &m.guest[..];
    // The guest path: absolute, normalized, in its mount.
    let g = &r.guest[..];
    let gs = g.escape_ascii().to_string();
    assert!(g.starts_with(b"/"), "{gs}");
    assert!(
        g == b"/" || plain(&g[1..]),
        "not normalized: {gs} for {path}"
    );
    let inside = mg == b"/"
        || g == mg
        || g.strip_prefix(mg).is_some_and(|r| r.starts_with(b"/"));
    assert!(inside, "{gs} is not in the mount {}", mg.escape_ascii());
    // Its path in the mount.
    let rel = &r.rel[..];
    let rs = rel.escape_ascii().to_string();
    assert!(rel == b"." || plain(rel), "rel {rs} for {path}");
    let want = if rel == b"." {
        mg.to_vec()
    } else if mg == b"/" {
        [b"/", rel].concat()
    } else {
        [mg, b"/", rel].concat()
    };
    assert_eq!(want, g, "guest and rel disagree");
    if matches!(m.kind, MountKind::Proc | MountKind::Dev) {
        return;
    }
    if m.kind == MountKind::File {
        assert_eq!(rel, b".", "a path under a file mount");
    }
    // The host location, as the host would resolve it.
    let (_, root) = t
        .roots
        .iter()
        .find(|(guest, _)| guest.as_bytes() == mg)
        .expect("a mount of the tree");
    let host = if rel == b"." {
        root.clone()
    } else {
        root.join(OsStr::from_bytes(rel))
    };
    if let Some(parent) = host.parent().filter(|_| rel != b".") {
        if let Some(real) = host_real(parent) {
            assert!(
                real.starts_with(root),
                "{path} from {base} resolved to {r:?}, whose parent is {} on the host, \
                 outside {}",
                real.display(),
                root.display()
            );
        }
    }
    if r.follow && rel != b"." {
        if let Ok(md) = std::fs::symlink_metadata(&host) {
            assert!(
                !md.file_type().is_symlink(),
                "{path} from {base}, followed, resolved to the symlink {r:?}"
            );
        }
    }
    // What the view opens of it is under the mount's root too.
    if let Ok(fd) = t.view.path_fd(&r) {
        let at = std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap();
        assert!(at.starts_with(root), "{r:?} opened {}", at.display());
    }
});
