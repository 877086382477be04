//! Real programs nobody here wrote, from Debian packages (installed by scripts/setup): python3
//! stdlib snippets and `python3 -m unittest`, dash builtins, dynamically linked coreutils,
//! sqlite3 on a file database under a `:rw` mount, and a busybox-static script from a read-only
//! mount, scripts started by their `#!` lines, make and gcc, OpenJDK's javac and java, procps'
//! ps. Each runs under mvm and natively, and the outputs and statuses are compared.

#[path = "common/mod.rs"]
mod common;

use common::{scratch, signaled_both, tree, Outcome, Run, BUSYBOX};
use std::path::{Path, PathBuf};

const PYTHON: &str = "/usr/bin/python3";
const DASH: &str = "/bin/dash";
const SQLITE: &str = "/usr/bin/sqlite3";

/// Asserts that the mvm run and the native run agree on status, stdout and stderr (after
/// `norm`, which blanks what legitimately differs, such as timings).
fn assert_same_by(vm: &Outcome, native: &Outcome, what: &str, norm: fn(&[u8]) -> Vec<u8>) {
    assert!(
        vm.code() == native.shell_status()
            && norm(&vm.stdout) == norm(&native.stdout)
            && norm(&vm.stderr) == norm(&native.stderr),
        "{what}: differs from the native run\n== mvm ==\n{}\n== native ==\n{}",
        vm.describe(),
        native.describe()
    );
}

fn assert_same(vm: &Outcome, native: &Outcome, what: &str) {
    assert_same_by(vm, native, what, <[u8]>::to_vec);
}

/// Runs `prog args` under mvm (with `opts`) and natively, with the same stdin, and asserts
/// they agree; returns the mvm outcome.
fn compare(opts: &[&str], prog: &str, args: &[&str], stdin: Option<&[u8]>) -> Outcome {
    let mut vm = Run::mvm_run(opts, prog, args);
    let mut native = Run::native(prog, args);
    if let Some(data) = stdin {
        vm = vm.stdin(data.to_vec());
        native = native.stdin(data.to_vec());
    }
    let (vm, native) = (vm.run(), native.run());
    assert_same(&vm, &native, &format!("{prog} {args:?}"));
    vm
}

/// tests/fixtures, shown to the guest read-only at its own host path (so that paths in
/// tracebacks and `$0` are the same in both runs).
fn fixtures() -> (PathBuf, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("vmm/ has a parent")
        .join("tests/fixtures");
    let vol = format!("{0}:{0}:ro", dir.display());
    (dir, vol)
}

/// Two identical fresh directories for a native and an mvm run of the same work.
fn twin_dirs(test: &str) -> (PathBuf, PathBuf) {
    let base = scratch(test);
    let (a, b) = (base.join("native"), base.join("vm"));
    for d in [&a, &b] {
        std::fs::create_dir_all(d.join("sub/deeper")).unwrap();
        std::fs::write(
            d.join("words.txt"),
            "pear\napple\nfig\nbanana\napple\nfig\nfig\n",
        )
        .unwrap();
        std::fs::write(
            d.join("csv.txt"),
            "id,name,qty\n1,bolt,30\n2,nut,12\n3,gear,7\n",
        )
        .unwrap();
        std::fs::write(d.join("sub/a.txt"), "alpha\n").unwrap();
        std::fs::write(d.join("sub/deeper/b.txt"), "beta\n").unwrap();
        std::fs::write(d.join("big.bin"), common::pseudo_random_bytes(200_000, 11)).unwrap();
    }
    (a, b)
}

// ---- python3 -----------------------------------------------------------------------------------

/// Stdlib modules that compute: their output must be byte-identical to the native run.
const PY_STDLIB: &str = r#"
import json, hashlib, re, struct, math, collections, itertools, datetime, decimal, base64, zlib, random
import threading  # the module only: starting a thread needs clone
print(json.dumps({"b": [1, 2.5, None, True], "a": "\u00e9", "n": {"x": -1}}, sort_keys=True))
print(json.loads('{"k": [1, {"z": "w"}]}')["k"][1]["z"])
print(hashlib.sha256(b"abc" * 1000).hexdigest())
print(hashlib.md5(b"mvm").hexdigest(), hashlib.sha1(b"").hexdigest(), hashlib.blake2b(b"x").hexdigest()[:16])
print(re.findall(r"(\w)(\d+)", "a1 b22 c333"), re.sub(r"\s+", "-", "a  b\tc"))
print(struct.pack("<IhdQ", 1, -2, 3.5, 2**63).hex(), struct.unpack(">HI", b"\x01\x02\x03\x04\x05\x06"))
print(math.sqrt(2), math.factorial(25), math.gcd(84, 36), math.isclose(0.1 + 0.2, 0.3), math.log(10))
print(collections.Counter("mississippi").most_common(3), collections.OrderedDict(b=1, a=2))
print(collections.deque(range(5), maxlen=3), collections.namedtuple("P", "x y")(1, 2))
print(list(itertools.permutations("abc", 2)), list(itertools.accumulate(range(6))))
print(list(itertools.islice(itertools.cycle("xy"), 5)), list(itertools.product([0, 1], repeat=2)))
print(datetime.datetime(2020, 1, 2, 3, 4, 5) + datetime.timedelta(days=40, seconds=7))
print(datetime.date(2024, 2, 29).isoformat(), datetime.datetime.fromtimestamp(0, datetime.timezone.utc))
decimal.getcontext().prec = 40
print(decimal.Decimal(1) / decimal.Decimal(7), decimal.Decimal("1.1") + decimal.Decimal("2.2"))
print(base64.b64encode(b"hello world"), base64.b32decode(b"NBSWY3DP"))
z = zlib.compress(bytes(range(256)) * 100, 9)
print(zlib.crc32(b"hello"), zlib.adler32(b"hello"), len(z), zlib.decompress(z) == bytes(range(256)) * 100)
random.seed(42)
print(random.random(), random.randint(1, 10**9), random.choice("abcdef"), random.sample(range(100), 5))
r = random.Random(7); l = list(range(20)); r.shuffle(l); print(l)
print(threading.current_thread().name, threading.active_count())
print(sorted(range(50000), key=lambda i: (i * 7919) % 50000)[:5])
"#;

#[test]
fn python_stdlib_snippets_match_native() {
    compare(&[], PYTHON, &["-c", PY_STDLIB], None);
}

#[test]
fn python_environment_argv_and_cwd() {
    let code = "import os, sys; print(os.environ['MVM_T_FOO'], os.environ.get('MVM_T_NONE')); \
                print(sys.argv); print(os.getcwd()); print(sys.executable, sys.version_info[:2]); \
                print(sorted(k for k in os.environ if k.startswith('MVM_T_')))";
    let args = ["-c", code, "x", "y z", "", "ünï"];
    let vm = Run::mvm_run(&["-e", "MVM_T_FOO", "-e", "MVM_T_2=2"], PYTHON, &args)
        .env("MVM_T_FOO", "bar baz")
        .run();
    let native = Run::native(PYTHON, &args)
        .env("MVM_T_FOO", "bar baz")
        .env("MVM_T_2", "2")
        .run();
    assert_same(&vm, &native, "environ/argv/cwd");
    assert!(
        vm.stdout_str().contains("['-c', 'x', 'y z', '', 'ünï']"),
        "{}",
        vm.describe()
    );
}

/// Reads and writes files in the directory named by argv[1] and in /tmp.
const PY_FILES: &str = r#"
import os, sys, json, hashlib
d = sys.argv[1]
with open(os.path.join(d, "out.json"), "w") as f:
    json.dump({"rows": [[i, i * i] for i in range(1000)]}, f)
with open(os.path.join(d, "out.json")) as f:
    rows = json.load(f)["rows"]
print(len(rows), rows[-1], os.path.getsize(os.path.join(d, "out.json")))
with open(os.path.join(d, "words.txt")) as f:
    print(sorted(set(f.read().split())))
os.makedirs(os.path.join(d, "made/inner"), exist_ok=True)
os.rename(os.path.join(d, "out.json"), os.path.join(d, "made/inner/moved.json"))
with open(os.path.join(d, "big.bin"), "rb") as f:
    print(hashlib.sha256(f.read()).hexdigest())
with open(os.path.join(d, "made/app.log"), "a") as f:
    for i in range(3):
        f.write(f"line {i}\n")
os.remove(os.path.join(d, "csv.txt"))
print(sorted(os.listdir(d)), sorted(os.listdir(os.path.join(d, "made"))))
for root, dirs, files in sorted(os.walk(os.path.join(d, "sub"))):
    print(os.path.relpath(root, d), sorted(dirs), sorted(files))
t = "/tmp/mvm-programs-%d" % os.getpid()
with open(t, "wb") as f:
    f.write(b"\x00\x01" * 5000)
st = os.stat(t)
print(st.st_size, oct(st.st_mode & 0o777 & ~0o022))
os.remove(t)
print(os.path.exists(t))
"#;

#[test]
fn python_reads_and_writes_files_in_a_rw_mount_and_tmp() {
    let (a, b) = twin_dirs("programs_py_files");
    let native = Run::native(PYTHON, &["-c", PY_FILES, a.to_str().unwrap()]).run();
    let vol = format!("{}:/data:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], PYTHON, &["-c", PY_FILES, "/data"]).run();
    assert_same(&vm, &native, "python file work");
    native.assert_code(0);
    assert_eq!(tree(&a), tree(&b), "the two directories differ afterwards");
}

#[test]
fn ctrl_c_is_keyboardinterrupt_in_python() {
    // SIGINT sent to mvm reaches python3, which raises KeyboardInterrupt in the sleeping code,
    // runs the except clause, and dies of SIGINT (130) as it does natively.
    let script = "import sys, time\nprint('ready', flush=True)\ntry:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    print('caught', flush=True)\n    raise\n";
    let (vm, native) = &signaled_both(PYTHON, &["-c", script], "ready\n", libc::SIGINT);
    assert_eq!(vm.stdout_str(), "ready\ncaught\n", "{}", vm.describe());
    assert_eq!(vm.stdout_str(), native.stdout_str());
    assert_eq!(vm.code(), 130, "{}", vm.describe());
    // Natively python re-raises SIGINT and dies of it; mvm reports that as 130.
    assert_eq!(native.shell_status(), 130, "{}", native.describe());
    assert!(
        vm.stderr_str().ends_with("KeyboardInterrupt\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn python_exceptions_and_exit_statuses() {
    compare(&[], PYTHON, &["-c", "pass"], None).assert_code(0);
    let out = compare(&[], PYTHON, &["-c", "import sys; sys.exit(3)"], None);
    out.assert_code(3);
    compare(
        &[],
        PYTHON,
        &["-c", "import sys; sys.exit('fatal: bad input')"],
        None,
    )
    .assert_code(1);
    let out = compare(
        &[],
        PYTHON,
        &["-c", "def f(x):\n    return 1 / x\nprint('before')\nf(0)"],
        None,
    );
    out.assert_code(1);
    assert!(
        out.stderr_str()
            .contains("ZeroDivisionError: division by zero"),
        "{}",
        out.describe()
    );
    compare(&[], PYTHON, &["-c", "raise SystemExit(42)"], None).assert_code(42);
    compare(&[], PYTHON, &["-c", "import nonexistent_module_xyz"], None).assert_code(1);
    compare(&[], PYTHON, &["-c", "def broken(:"], None).assert_code(1);
    compare(&[], PYTHON, &["/nonexistent.py"], None).assert_code(2);
    // stdin as the program.
    compare(
        &[],
        PYTHON,
        &["-"],
        Some(b"import sys\nprint(sum(range(101)))\nsys.exit(9)\n"),
    )
    .assert_code(9);
}

/// Blanks the timing in unittest's `Ran N tests in 0.003s`.
fn without_unittest_timing(b: &[u8]) -> Vec<u8> {
    let s = String::from_utf8_lossy(b);
    s.lines()
        .map(|l| match (l.starts_with("Ran "), l.rfind(" in ")) {
            (true, Some(i)) => format!("{} in T\n", &l[..i]),
            _ => format!("{l}\n"),
        })
        .collect::<String>()
        .into_bytes()
}

fn unittest(module: &str) -> (Outcome, Outcome) {
    let (dir, vol) = fixtures();
    let d = dir.to_str().unwrap();
    // -B: no __pycache__ (the mount is read-only, and natively it would litter the tree).
    let args = ["-B", "-m", "unittest", "-v", module];
    let vm = Run::mvm_run(&["-v", &vol, "-w", d], PYTHON, &args).run();
    let native = Run::native(PYTHON, &args).cwd(&dir).run();
    assert_same_by(&vm, &native, module, without_unittest_timing);
    (vm, native)
}

#[test]
fn python_unittest_passing_module() {
    let (vm, _) = unittest("test_passing");
    vm.assert_code(0);
    let err = vm.stderr_str();
    assert!(
        err.contains("Ran 4 tests") && err.contains("OK (skipped=1)"),
        "{}",
        vm.describe()
    );
}

#[test]
fn python_unittest_failing_module_reports_and_exits_1() {
    let (vm, _) = unittest("test_failing");
    vm.assert_code(1);
    let err = vm.stderr_str();
    assert!(
        err.contains("FAILED (failures=1, errors=1)")
            && err.contains("AssertionError: 6 != 7 : the sum is wrong")
            && err.contains("KeyError: 'missing'")
            && err.contains("test_ok (test_failing.Mixed.test_ok) ... ok"),
        "{}",
        vm.describe()
    );
}

// ---- dash --------------------------------------------------------------------------------------

/// Builtins only: no command substitution or pipelines (they fork).
const DASH_SCRIPT: &str = r#"
echo "start $MVM_T_VAR"
f() { printf '%s-%d\n' "$1" $(( $2 * 3 )); return 4; }
f a 5; echo "ret $?"
i=0
while [ $i -lt 6 ]; do
    i=$((i + 1))
    case $i in 2) continue;; 5) break;; esac
    echo "i=$i"
done
for w in x y z; do test "$w" = y && echo "found $w"; done
echo $(( (7 + 5) * 3 % 5 )) $(( 1 << 10 )) $(( 0x1f )) $(( -7 / 2 ))
[ 3 -gt 2 ] && [ "abc" != "abd" ] && [ -z "" ] && [ -n x ] && echo tests ok
test -d / && test -f /bin/dash && test ! -e /nonexistent && echo files ok
printf '%5s|%-5s|%05d|%x|%o|%c|%%\n' ab cd 42 255 8 xyz
set -- one "two three" four
echo "$# args: $2"
shift; echo "after shift: $1"
n=0
while read -r line; do n=$((n + 1)); echo "line $n: [$line]"; done
unset MVM_T_VAR; echo "unset: [${MVM_T_VAR:-default}]"
x=${UNDEF_VAR:=assigned}; echo "$x ${#x}"
"#;

#[test]
fn dash_builtins_match_native() {
    let stdin = b"first line\n  second  \nthird";
    let run = |r: Run| r.env("MVM_T_VAR", "from env").stdin(stdin.to_vec()).run();
    let vm = run(Run::mvm_run(
        &["-e", "MVM_T_VAR"],
        DASH,
        &["-c", DASH_SCRIPT],
    ));
    let native = run(Run::native(DASH, &["-c", DASH_SCRIPT]));
    assert_same(&vm, &native, "dash script");
    vm.assert_code(0);
    // `read` returns 1 at the unterminated last line, as natively.
    assert!(
        vm.stdout_str().contains("line 2: [second]\nunset"),
        "{}",
        vm.describe()
    );
}

#[test]
fn dash_exit_statuses_and_set_e() {
    compare(&[], DASH, &["-c", "echo bye; exit 7"], None).assert_code(7);
    let out = compare(
        &[],
        DASH,
        &[
            "-c",
            "set -e; false || echo tolerated; if false; then :; fi; echo before; false; echo never",
        ],
        None,
    );
    out.assert_code(1);
    assert_eq!(out.stdout_str(), "tolerated\nbefore\n");
    // A command that is not found: 127 and dash's message.
    compare(&[], DASH, &["-c", "no_such_command_xyz"], None).assert_code(127);
    // A syntax error: 2.
    compare(&[], DASH, &["-c", "if then fi"], None).assert_code(2);
    // The status of the last command, and `!`.
    compare(&[], DASH, &["-c", "! true"], None).assert_code(1);
}

// ---- coreutils (dynamically linked) ------------------------------------------------------------

#[test]
fn coreutils_file_work_matches_native() {
    let (a, b) = twin_dirs("programs_coreutils");
    let vol = format!("{}:/data:rw", b.display());
    let steps: &[&[&str]] = &[
        &["ls"],
        &["ls", "-l", "--time-style=+T", "words.txt", "csv.txt", "sub"],
        &["ls", "-1R", "sub"],
        &["cat", "words.txt", "sub/a.txt"],
        &["sort", "words.txt"],
        &["sort", "-r", "-u", "words.txt"],
        &["sort", "-t,", "-k3", "-n", "csv.txt"],
        &["uniq", "-c", "words.txt"],
        &["wc", "words.txt", "csv.txt", "big.bin"],
        &["sha256sum", "big.bin", "words.txt"],
        &["head", "-n", "3", "words.txt"],
        &["head", "-c", "100", "big.bin"],
        &["tail", "-n", "2", "csv.txt"],
        &["tail", "-c", "+199990", "big.bin"],
        &["cut", "-d,", "-f2,3", "csv.txt"],
        &["cp", "words.txt", "copy.txt"],
        &["cp", "-r", "sub", "sub2"],
        &["mv", "copy.txt", "sub2/moved.txt"],
        &["rm", "sub2/a.txt"],
        &["mkdir", "-p", "m/n/o"],
        &["rmdir", "m/n/o"],
        &["rmdir", "m"],
        &["mkdir", "m/n"],
        &["find", "sub", "sub2", "-name", "*.txt"],
        &["find", ".", "-type", "d", "-name", "deeper"],
        &[
            "stat",
            "-c",
            "%n|%s|%F|%a|%h",
            "words.txt",
            "sub",
            "big.bin",
        ],
        &["du", "-s", "sub"],
        &["du", "-sb", "big.bin"],
        &["rm", "-r", "sub2"],
        &["ls", "-a"],
        &["basename", "/a/b/c.txt", ".txt"],
        &["dirname", "/a/b/c.txt"],
        &["cat", "missing.txt"],
        &["ls", "/nonexistent"],
    ];
    for step in steps {
        let prog = format!("/usr/bin/{}", step[0]);
        let native = Run::native(&prog, &step[1..]).cwd(&a).run();
        let vm = Run::mvm_run(&["-v", &vol, "-w", "/data"], &prog, &step[1..]).run();
        assert_same(&vm, &native, &format!("{step:?}"));
    }
    assert_eq!(tree(&a), tree(&b), "the two directories differ afterwards");
}

#[test]
fn coreutils_without_files_match_native() {
    /// Program (in /usr/bin), arguments, stdin, expected status.
    type Case<'a> = (&'a str, &'a [&'a str], Option<&'a [u8]>, i32);
    let cases: &[Case] = &[
        ("tr", &["a-z", "A-Z"], Some(b"hello, world\n"), 0),
        ("tr", &["-d", "l"], Some(b"hello, world\n"), 0),
        ("sort", &["-n"], Some(b"10\n9\n100\n-1\n"), 0),
        ("wc", &["-c"], Some(&[b'x'; 70_000]), 0),
        ("date", &["-d", "@0", "-u"], None, 0),
        (
            "date",
            &["-u", "-d", "@1700000000", "+%Y-%m-%d %H:%M:%S %j %A"],
            None,
            0,
        ),
        (
            "env",
            &["-i", "A=1", "B=two words", "/usr/bin/env"],
            None,
            0,
        ),
        (
            "printf",
            &["%s=%d %05.1f %x\\n", "a", "42", "3.14159", "255"],
            None,
            0,
        ),
        ("seq", &["-s", ",", "1", "3", "20"], None, 0),
        ("seq", &["100000"], None, 0),
        ("basename", &["/usr/lib/x.so.1", ".1"], None, 0),
        ("true", &[], None, 0),
        ("false", &[], None, 1),
        ("ls", &["/nonexistent"], None, 2),
        ("stat", &["-c", "%n %F %a", "/", "/usr/bin"], None, 0),
        ("sha256sum", &["-"], Some(b"abc"), 0),
        ("uniq", &["-d"], Some(b"a\na\nb\nc\nc\n"), 0),
        ("cut", &["-c", "2-4"], Some(b"abcdef\n123456\n"), 0),
        ("head", &["-n", "1"], Some(b"one\ntwo\n"), 0),
        ("cat", &["-n", "-"], Some(b"x\ny\n"), 0),
    ];
    for (prog, args, stdin, status) in cases {
        let prog = format!("/usr/bin/{prog}");
        compare(&[], &prog, args, *stdin).assert_code(*status);
    }
}

#[test]
fn coreutils_env_shows_the_environment_unchanged() {
    // With --env-host the program gets mvm's whole environment, as it is.
    let vm = Run::mvm_run(&["--env-host"], "/usr/bin/env", &[])
        .env("MVM_T_ENV", "a=b c")
        .run();
    let native = Run::native("/usr/bin/env", &[])
        .host_env()
        .env("MVM_T_ENV", "a=b c")
        .run();
    assert_same(&vm, &native, "env");
    assert!(vm.stdout_str().contains("MVM_T_ENV=a=b c\n"));
}

// ---- sqlite3 -----------------------------------------------------------------------------------

const SQL_CREATE: &str = "\
create table item(id integer primary key, name text not null, qty integer, price real);
begin;
with recursive c(x) as (select 1 union all select x + 1 from c where x < 4000)
  insert into item(name, qty, price) select 'item' || (x % 97), x % 13, x * 0.25 from c;
commit;
create index item_name on item(name);
create view expensive as select * from item where price > 900;
select count(*), sum(qty), round(avg(price), 4), min(name), max(name) from item;
select name, count(*), sum(qty) from item group by name order by 3 desc, 1 limit 5;
select count(*) from expensive;
.schema
pragma integrity_check;
";

const SQL_REOPEN: &str = "\
select count(*), total(price) from item;
update item set qty = qty + 1 where id % 2 = 0;
delete from item where id > 3900;
select count(*), sum(qty) from item;
pragma integrity_check;
.tables
";

#[test]
fn sqlite3_file_database_in_a_rw_mount() {
    let (a, b) = twin_dirs("programs_sqlite");
    let vol = format!("{}:/db:rw", b.display());
    let native_db = a.join("test.db");
    let native_db = native_db.to_str().unwrap();
    for sql in [SQL_CREATE, SQL_REOPEN] {
        // A second mvm run reopens the file the first one wrote.
        let native = Run::native(SQLITE, &[native_db])
            .stdin(sql.as_bytes().to_vec())
            .run();
        let vm = Run::mvm_run(&["-v", &vol], SQLITE, &["/db/test.db"])
            .stdin(sql.as_bytes().to_vec())
            .run();
        assert_same(&vm, &native, "sqlite3");
        vm.assert_code(0);
        assert!(vm.stdout_str().contains("ok\n"), "{}", vm.describe());
    }
    // The database mvm wrote reads back natively the same as the native one.
    let dump = |db: &Path| {
        Run::native(SQLITE, &[db.to_str().unwrap(), ".dump"])
            .run()
            .assert_code(0)
            .stdout
            .clone()
    };
    assert!(
        dump(&a.join("test.db")) == dump(&b.join("test.db")),
        "the dumps differ"
    );
    // An error: status 1 and the same message.
    let q = "select * from nope;";
    let native = Run::native(SQLITE, &[native_db, q]).run();
    let vm = Run::mvm_run(&["-v", &vol], SQLITE, &["/db/test.db", q]).run();
    assert_same(&vm, &native, "sqlite3 error");
    vm.assert_code(1);
}

// ---- busybox-static sh -------------------------------------------------------------------------

#[test]
fn busybox_sh_runs_a_script_from_a_read_only_mount() {
    let (dir, vol) = fixtures();
    let script = dir.join("script.sh");
    let script = script.to_str().unwrap();
    let args = ["sh", script, "a", "-b", "c d"];
    let stdin = b"k1:v1\nk2:v2 with spaces\n".to_vec();
    let d = dir.to_str().unwrap();
    let vm = Run::mvm_run(&["-v", &vol, "-e", "SCRIPT_DIR"], BUSYBOX, &args)
        .env("SCRIPT_DIR", d)
        .stdin(stdin.clone())
        .run();
    let native = Run::native(BUSYBOX, &args)
        .env("SCRIPT_DIR", d)
        .stdin(stdin)
        .run();
    assert_same(&vm, &native, "busybox sh script.sh");
    vm.assert_code(5);
    assert!(
        vm.stdout_str().contains("sum of squares: 385\n"),
        "{}",
        vm.describe()
    );
    // The mount is read-only: the script cannot change its own directory.
    let out = Run::mvm_run(&["-v", &vol], BUSYBOX, &["touch", &format!("{d}/new")]).run();
    assert_ne!(out.code(), 0, "{}", out.describe());
    assert!(
        out.stderr_str().contains("Read-only file system"),
        "{}",
        out.describe()
    );
}

// ---- processes and threads ----------------------------------------------------------------------

#[test]
fn dash_command_substitution_and_pipelines() {
    compare(
        &[],
        DASH,
        &[
            "-c",
            "x=$(echo sub); echo \"$x\"; echo a b | /usr/bin/wc -w",
        ],
        None,
    )
    .assert_code(0);
}

#[test]
fn python_threads_run() {
    let code = "import threading\nout = []\n\
                ts = [threading.Thread(target=out.append, args=(i,)) for i in range(4)]\n\
                [t.start() for t in ts]; [t.join() for t in ts]; print(sorted(out))";
    compare(&[], PYTHON, &["-c", code], None).assert_code(0);
}

#[test]
fn python_subprocess_runs_a_child() {
    let code = "import subprocess; print(subprocess.run(['/usr/bin/echo', 'hi'], \
                capture_output=True).stdout)";
    compare(&[], PYTHON, &["-c", code], None).assert_code(0);
}

/// tests/programs/go built with Debian's Go (installed by scripts/setup), static (no cgo).
fn go_program() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_go_program).clone()
}

fn build_go_program() -> PathBuf {
    let out = common::out_dir().join("go-main");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/programs/go/main.go");
    let fresh = std::fs::metadata(&out)
        .and_then(|o| Ok(o.modified()? >= std::fs::metadata(&src)?.modified()?))
        .unwrap_or(false);
    if !fresh {
        let tmp = out.with_extension(format!("tmp{}", std::process::id()));
        let st = std::process::Command::new("go")
            .args(["build", "-o"])
            .arg(&tmp)
            .arg(&src)
            .env("CGO_ENABLED", "0")
            .env("GO111MODULE", "off")
            .status()
            .expect("go (scripts/setup installs golang-go)");
        assert!(st.success(), "go build failed");
        std::fs::rename(&tmp, &out).unwrap();
    }
    out
}

#[test]
fn go_runtime_goroutines_timers_and_exec_match_native() {
    let prog = go_program();
    compare(&[], prog.to_str().unwrap(), &[], None).assert_code(0);
}

#[test]
fn go_http_server_serves_through_a_published_port() {
    use std::io::{Read, Write};
    let prog = go_program();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let publish = format!("{port}:8080");
    let mut running = Run::mvm_run(&["-p", &publish], &prog, &["serve", "8080"]).spawn();
    running.wait_for_stdout("serving\n");
    let mut resp = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
            s.read_to_string(&mut resp).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(resp.starts_with("HTTP/1.0 200 OK"), "{resp}");
    assert!(resp.ends_with("hello from go\n"), "{resp}");
    running.signal(libc::SIGTERM);
    running.wait().assert_code(143);
}

#[test]
fn git_commits_in_a_rw_mount_as_natively() {
    // Fixed identities and dates: the commit hash is the same natively and in mvm.
    let (a, b) = twin_dirs("programs_git");
    let script = "git init -q -b main repo && cd repo && printf 'hi\\n' > f && git add f && \
                  git commit -qm first && printf 'more\\n' >> f && git commit -qam second && \
                  git log --format='%H %s' && git status --short && git cat-file -p HEAD:f";
    let env = [
        ("HOME", "/tmp"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_AUTHOR_NAME", "a"),
        ("GIT_AUTHOR_EMAIL", "a@example.org"),
        ("GIT_COMMITTER_NAME", "a"),
        ("GIT_COMMITTER_EMAIL", "a@example.org"),
        ("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z"),
        ("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z"),
    ];
    let mut native = Run::native(DASH, &["-c", script]).cwd(&a);
    let vol = format!("{}:/data:rw", b.display());
    let mut opts: Vec<String> = vec!["-v".into(), vol, "-w".into(), "/data".into()];
    for (k, v) in env {
        native = native.env(k, v);
        opts.push("-e".into());
        opts.push(format!("{k}={v}"));
    }
    let opts: Vec<&str> = opts.iter().map(String::as_str).collect();
    let native = native.run();
    let vm = Run::mvm_run(&opts, DASH, &["-c", script]).run();
    assert_same(&vm, &native, "git");
    vm.assert_code(0);
    assert!(
        vm.stdout_str().ends_with(" first\nhi\nmore\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn perl_with_backticks_and_pipes_matches_native() {
    let code = "my %h=(b=>2,a=>1); print join(',', map {\"$_=$h{$_}\"} sort keys %h), \"\\n\";\n\
                my $o = `echo sub`; print \"backticks: $o\";\n\
                open(my $f, '-|', '/bin/busybox', 'echo', 'pipe') or die; print 'open: ', <$f>;\n\
                close $f; print 'status ', $? >> 8, \"\\n\";\n\
                system('/bin/busybox', 'false'); print 'system ', $? >> 8, \"\\n\";\n";
    compare(&[], "/usr/bin/perl", &["-e", code], None).assert_code(0);
}

#[test]
fn node_timers_http_and_child_process_match_native() {
    // The machine's Node.js (libuv: epoll, a thread pool, eventfd; V8's large reservations).
    let code = "const http = require('http'), cp = require('child_process');\n\
                console.log('sum', [1, 2, 3].reduce((a, b) => a + b));\n\
                console.log('child', cp.execFileSync('/bin/busybox', ['echo', 'hi']).toString().trim());\n\
                const s = http.createServer((q, r) => r.end('pong ' + q.url));\n\
                s.listen(0, '127.0.0.1', () => {\n\
                  http.get({ port: s.address().port, path: '/x' }, (r) => {\n\
                    let b = ''; r.on('data', (d) => (b += d));\n\
                    r.on('end', () => { console.log('http', r.statusCode, b); s.close();\n\
                      setTimeout(() => console.log('timer'), 20); });\n\
                  });\n\
                });\n";
    compare(&[], "/usr/bin/node", &["-e", code], None).assert_code(0);
}

/// Writes an executable file `name` with `text` into `dir`; its path.
fn script(dir: &Path, name: &str, text: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

#[test]
fn scripts_run_by_their_interpreter_lines() {
    // `#!` as Linux's binfmt_script reads it: `mvm run SCRIPT`, and execve of scripts from
    // inside (python3's subprocess): an interpreter with one argument, a script whose
    // interpreter is a script, and the errors (missing interpreter, empty line, a loop).
    let dir = scratch("scripts");
    let d = dir.display().to_string();
    let hello = script(&dir, "hello.sh", "#!/bin/sh\necho \"sh: $# args: $*\"\n");
    script(&dir, "strict.sh", "#!/bin/sh -e\nfalse\necho not reached\n");
    script(&dir, "nested", &format!("#!{hello}\n"));
    script(
        &dir,
        "py",
        "#!/usr/bin/python3 -u\nimport sys\nprint('py', sys.argv[1:])\n",
    );
    script(&dir, "noint", &format!("#!{d}/missing\n"));
    script(&dir, "empty", "#!\n");
    script(&dir, "loop1", &format!("#!{d}/loop2\n"));
    script(&dir, "loop2", &format!("#!{d}/loop1\n"));
    let vol = format!("{d}:{d}:ro");
    let vm = compare(&["-v", &vol], &hello, &["a", "b c"], None);
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "sh: 2 args: a b c\n");
    let code = format!(
        r#"
import errno, subprocess
for name, args in [("hello.sh", ["x"]), ("strict.sh", []), ("nested", ["n"]), ("py", ["p", "q"]),
                   ("noint", []), ("empty", []), ("loop1", [])]:
    try:
        r = subprocess.run(["{d}/" + name] + args, capture_output=True, text=True)
        print(name, r.returncode, repr(r.stdout))
    except OSError as e:
        print(name, errno.errorcode[e.errno])
"#
    );
    let vm = compare(&["-v", &vol], PYTHON, &["-c", &code], None);
    vm.assert_code(0);
    assert!(
        vm.stdout_str()
            .contains("noint ENOENT\nempty ENOEXEC\nloop1 ELOOP\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn ps_and_df_see_the_run_and_its_view() {
    // Debian's procps reads /proc/PID/{stat,status,cmdline} of every program; coreutils' df
    // reads /proc/self/mountinfo. They see the run (its programs, parents, states) and the
    // program's view (its mounts, read-only or not), nothing of the host.
    let script = "sleep 5 & ps -e -o pid=,ppid=,stat=,comm=,args=; kill $!; wait
                  df -h / /tmp | tail -n 2
                  grep -c . /proc/self/mountinfo
                  grep -E ' /(tmp|usr) ' /proc/self/mountinfo | cut -d' ' -f5,6";
    let vm = Run::mvm_run(&[], DASH, &["-c", script]).run();
    vm.assert_code(0);
    let out = vm.stdout_str();
    let lines: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0][..4], ["1", "0", "Ss", "dash"], "{}", vm.describe());
    assert_eq!(
        lines[1],
        ["2", "1", "S", "sleep", "sleep", "5"],
        "{}",
        vm.describe()
    );
    assert_eq!(lines[2][..4], ["3", "1", "R", "ps"], "{}", vm.describe());
    assert_eq!(lines.len(), 3 + 2 + 1 + 2, "{}", vm.describe());
    assert_eq!(lines[3].last(), Some(&"/"), "{}", vm.describe());
    assert_eq!(lines[4].last(), Some(&"/tmp"), "{}", vm.describe());
    let mounts: usize = lines[5][0].parse().unwrap();
    assert!(mounts >= 5, "{}", vm.describe());
    assert_eq!(lines[6], ["/usr", "ro,relatime"], "{}", vm.describe());
    assert_eq!(lines[7], ["/tmp", "rw,relatime"], "{}", vm.describe());
    assert!(
        !vm.stderr_str().contains("cannot read table"),
        "{}",
        vm.describe()
    );
}

#[test]
fn sqlite3_in_wal_mode_matches_native() {
    // WAL mode keeps its index in a shared mapping of the -shm file (MAP_SHARED, writable).
    let (a, b) = (scratch("sqlite_wal_native"), scratch("sqlite_wal_mvm"));
    let sql = "PRAGMA journal_mode=WAL; create table t(k integer primary key, v text); \
               insert into t(v) values ('a'),('b'),('c'); \
               update t set v = upper(v) where k > 1; \
               select group_concat(v) from t; PRAGMA wal_checkpoint(TRUNCATE);";
    let native = Run::native(SQLITE, &[a.join("w.db").to_str().unwrap(), sql]).run();
    let vol = format!("{}:/db:rw", b.display());
    let vm = Run::mvm_run(&["-v", &vol], SQLITE, &["/db/w.db", sql]).run();
    assert_same(&vm, &native, "sqlite3 WAL");
    vm.assert_code(0);
    assert!(
        vm.stdout_str().starts_with("wal\na,B,C\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn java_compiles_and_runs_like_native() {
    // The machine's OpenJDK: javac (a Java program itself) compiles in a :rw mount, then the
    // program runs with a thread pool, an implicit null check (the JVM's own SIGSEGV handler)
    // and System.exit(3), as natively.
    const JDK: &str = "/usr/lib/jvm/java-17-openjdk-amd64/bin";
    let dir = scratch("java");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/java/Hello.java");
    std::fs::copy(src, dir.join("Hello.java")).unwrap();
    let d = dir.display().to_string();
    let vol = format!("{d}:{d}:rw");
    let javac = format!("{JDK}/javac");
    let vm = Run::mvm_run(&["-v", &vol, "-w", &d], &javac, &["Hello.java"]).run();
    vm.assert_code(0);
    assert!(dir.join("Hello.class").exists(), "{}", vm.describe());
    let java = format!("{JDK}/java");
    let vm = compare(&["-v", &vol], &java, &["-cp", &d, "Hello", "x", "y"], None);
    vm.assert_code(3);
    assert!(
        vm.stdout_str().contains("NPE caught\n"),
        "{}",
        vm.describe()
    );
}

#[test]
fn make_and_gcc_build_and_run_a_program() {
    // Debian's make runs gcc (cc1, as, collect2, ld: fork, exec, pipes, temporary files in
    // /tmp), then the program it built, in a :rw mount, as natively.
    let dir = scratch("make_gcc");
    std::fs::write(
        dir.join("hello.c"),
        "#include <stdio.h>\nint main(int c, char **v) { printf(\"built, %d args\\n\", c - 1); return 0; }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("Makefile"),
        "hello: hello.c\n\tgcc -O2 -o $@ $<\nrun: hello\n\t./hello a b | tr a-z A-Z\n",
    )
    .unwrap();
    let d = dir.display().to_string();
    let vol = format!("{d}:{d}:rw");
    let vm = Run::mvm_run(&["-v", &vol, "-w", &d], "/usr/bin/make", &["-s", "run"]).run();
    vm.assert_code(0);
    assert_eq!(vm.stdout_str(), "BUILT, 2 ARGS\n", "{}", vm.describe());
    let built = Run::native(dir.join("hello"), &["x"]).run();
    assert_eq!(built.stdout_str(), "built, 1 args\n");
}
