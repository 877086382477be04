//! Rust std threads (pthread_create underneath, std's own futex-based Mutex, Condvar, RwLock,
//! park and channels; a sigaltstack per thread for stack-overflow detection): scoped threads,
//! Arc<Mutex>, mpsc channels, Barrier, RwLock, Condvar with and without a timeout, park/unpark,
//! thread_local!, OnceLock, named threads and a given stack size, a panicking thread and a
//! poisoned mutex. Output depends on nothing scheduling decides.
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex, OnceLock, RwLock};
use std::thread;
use std::time::{Duration, Instant};

thread_local! {
    static LOCAL: Cell<u64> = const { Cell::new(7) };
}

fn main() {
    // A panic in a thread is expected below; keep stderr quiet.
    std::panic::set_hook(Box::new(|_| {}));

    // Scoped threads borrowing a slice.
    let data: Vec<u64> = (1..=100_000).collect();
    let chunk_sums: Vec<u64> = thread::scope(|s| {
        let hs: Vec<_> = data
            .chunks(12_500)
            .map(|c| s.spawn(move || c.iter().sum::<u64>()))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    println!(
        "scope: {} chunks, sums {:?}, total {}",
        chunk_sums.len(),
        &chunk_sums[..3],
        chunk_sums.iter().sum::<u64>()
    );

    // Arc<Mutex<..>> contended by 8 threads, and an atomic.
    let counter = Arc::new(Mutex::new(0u64));
    let atomic = Arc::new(AtomicU64::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let hs: Vec<_> = (0..8u64)
        .map(|i| {
            let (counter, atomic, seen) = (counter.clone(), atomic.clone(), seen.clone());
            thread::spawn(move || {
                for _ in 0..20_000 {
                    *counter.lock().unwrap() += 1;
                    atomic.fetch_add(1, Ordering::Relaxed);
                }
                seen.lock().unwrap().push(i);
                i * i
            })
        })
        .collect();
    let rets: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    println!(
        "mutex counter {}, atomic {}, threads seen {:?}, join values sum {}",
        counter.lock().unwrap(),
        atomic.load(Ordering::Relaxed),
        seen,
        rets
    );

    // mpsc: 4 producers, one consumer; then a rendezvous channel ping-pong.
    let (tx, rx) = mpsc::channel::<(u32, u32)>();
    for p in 0..4u32 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..2_500u32 {
                tx.send((p, i)).unwrap();
            }
        });
    }
    drop(tx);
    let mut per: BTreeMap<u32, (u32, u64, bool)> = BTreeMap::new();
    for (p, i) in rx {
        let e = per.entry(p).or_insert((0, 0, true));
        e.2 &= e.0 == i; // each producer's messages arrive in its order
        e.0 += 1;
        e.1 += i as u64;
    }
    println!("mpsc: per producer (count, sum, in order) {per:?}");
    let (to_w, w_rx) = mpsc::sync_channel::<u64>(0);
    let (to_m, m_rx) = mpsc::sync_channel::<u64>(0);
    let echo = thread::spawn(move || {
        let mut n = 0;
        for v in w_rx {
            to_m.send(v * 2).unwrap();
            n += 1;
        }
        n
    });
    let mut total = 0;
    for v in 0..1000 {
        to_w.send(v).unwrap();
        total += m_rx.recv().unwrap();
    }
    drop(to_w);
    println!(
        "sync_channel(0) ping-pong: {} round trips, total {}",
        echo.join().unwrap(),
        total
    );

    // Barrier: one leader per round.
    let barrier = Arc::new(Barrier::new(6));
    let leaders = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..6)
        .map(|_| {
            let (b, l) = (barrier.clone(), leaders.clone());
            thread::spawn(move || {
                for _ in 0..100 {
                    if b.wait().is_leader() {
                        l.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "barrier: 100 rounds of 6, leaders {}",
        leaders.load(Ordering::SeqCst)
    );

    // RwLock: writers keep a pair equal; readers must never see it torn.
    let pair = Arc::new(RwLock::new((0u64, 0u64)));
    let torn = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..6u64)
        .map(|id| {
            let (pair, torn) = (pair.clone(), torn.clone());
            thread::spawn(move || {
                for i in 0..5_000u64 {
                    if (i + id) % 5 == 0 {
                        let mut w = pair.write().unwrap();
                        w.0 += 1;
                        w.1 += 1;
                    } else {
                        let r = pair.read().unwrap();
                        if r.0 != r.1 {
                            torn.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    println!(
        "rwlock: pair {:?}, torn reads {}",
        *pair.read().unwrap(),
        torn.load(Ordering::Relaxed)
    );

    // Condvar: a timed wait that times out, then a handoff of 500 values.
    let pc = Arc::new((Mutex::new((0u32, false)), Condvar::new()));
    {
        let (m, c) = &*pc;
        let t0 = Instant::now();
        let (_g, res) = c
            .wait_timeout(m.lock().unwrap(), Duration::from_millis(50))
            .unwrap();
        println!(
            "condvar wait_timeout 50 ms: timed out {}, waited >= 45 ms {}",
            res.timed_out(),
            t0.elapsed() >= Duration::from_millis(45)
        );
    }
    let pc2 = pc.clone();
    let consumer = thread::spawn(move || {
        let (m, c) = &*pc2;
        let mut sum = 0u64;
        let mut g = m.lock().unwrap();
        loop {
            while !g.1 && g.0 == 0 {
                g = c.wait(g).unwrap();
            }
            if g.0 != 0 {
                sum += g.0 as u64;
                g.0 = 0;
                c.notify_all();
            } else if g.1 {
                return sum;
            }
        }
    });
    {
        let (m, c) = &*pc;
        for v in 1..=500u32 {
            let mut g = m.lock().unwrap();
            while g.0 != 0 {
                g = c.wait(g).unwrap();
            }
            g.0 = v;
            c.notify_all();
        }
        let mut g = m.lock().unwrap();
        while g.0 != 0 {
            g = c.wait(g).unwrap();
        }
        g.1 = true;
        c.notify_all();
    }
    println!("condvar handoff: sum {}", consumer.join().unwrap());

    // park/unpark.
    let flag = Arc::new(AtomicBool::new(false));
    let main_thread = thread::current();
    let f2 = flag.clone();
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        f2.store(true, Ordering::SeqCst);
        main_thread.unpark();
    });
    while !flag.load(Ordering::SeqCst) {
        thread::park();
    }
    h.join().unwrap();
    // A fresh thread has no unpark token: its park_timeout runs to the timeout.
    let waited = thread::spawn(|| {
        let t0 = Instant::now();
        thread::park_timeout(Duration::from_millis(30));
        t0.elapsed() >= Duration::from_millis(25)
    })
    .join()
    .unwrap();
    println!("park: unparked by another thread; park_timeout in a fresh thread lasted >= 25 ms: {waited}");

    // thread_local!: each thread starts from the initial value and keeps its own.
    let locals: Vec<(u64, u64)> = (0..4u64)
        .map(|i| {
            thread::spawn(move || {
                let first = LOCAL.with(|l| l.get());
                LOCAL.with(|l| l.set(100 + i));
                thread::sleep(Duration::from_millis(5));
                (first, LOCAL.with(|l| l.get()))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    LOCAL.with(|l| l.set(1));
    println!(
        "thread_local: {:?}; main's {}",
        locals,
        LOCAL.with(|l| l.get())
    );

    // OnceLock: exactly one initializer among 8 racing threads.
    static ONCE: OnceLock<u64> = OnceLock::new();
    let inits = Arc::new(AtomicUsize::new(0));
    let vals: Vec<u64> = (0..8u64)
        .map(|i| {
            let inits = inits.clone();
            thread::spawn(move || {
                *ONCE.get_or_init(|| {
                    inits.fetch_add(1, Ordering::SeqCst);
                    std::hint::black_box(i) * 0 + 1000 // every candidate value is the same
                })
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    println!(
        "OnceLock: initializers run {}, values {:?}",
        inits.load(Ordering::SeqCst),
        vals
    );

    // Named thread with a given stack size.
    let h = thread::Builder::new()
        .name("worker-7".into())
        .stack_size(256 * 1024)
        .spawn(|| {
            fn deep(n: u32) -> u64 {
                let pad = [n as u8; 256];
                if n == 0 {
                    return pad[0] as u64;
                }
                deep(n - 1) + std::hint::black_box(pad)[255] as u64 + 1
            }
            (thread::current().name().map(str::to_string), deep(200))
        })
        .unwrap();
    println!("named thread with 256 KiB stack: {:?}", h.join().unwrap());

    // A panicking thread; a mutex poisoned by one.
    let r = thread::spawn(|| -> u32 { panic!("boom in a thread") }).join();
    let msg = r
        .as_ref()
        .err()
        .and_then(|e| e.downcast_ref::<&str>())
        .copied();
    println!(
        "panicking thread: join is_err {}, payload {:?}",
        r.is_err(),
        msg
    );
    let m = Arc::new(Mutex::new(5));
    let m2 = m.clone();
    let _ = thread::spawn(move || {
        let _g = m2.lock().unwrap();
        panic!("poison");
    })
    .join();
    println!(
        "mutex poisoned by a panicking holder: {}, value still {}",
        m.is_poisoned(),
        *m.lock().unwrap_or_else(|e| e.into_inner())
    );

    // Concurrent sleeps overlap.
    let t0 = Instant::now();
    let hs: Vec<_> = (0..8)
        .map(|_| thread::spawn(|| thread::sleep(Duration::from_millis(200))))
        .collect();
    hs.into_iter().for_each(|h| h.join().unwrap());
    let took = t0.elapsed();
    println!(
        "8 threads slept 200 ms at the same time: >= 195 ms {}, < 1.2 s {}",
        took >= Duration::from_millis(195),
        took < Duration::from_millis(1200)
    );

    let par = thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    println!("available_parallelism > 0: {}", par > 0);
    println!("done");
}
