//! The signal frame a handler returns over, which the program may have rewritten: rt_sigreturn's
//! reading of its ucontext (`sigframe::ucontext`) and of its FPU state (`sigframe::fpstate`),
//! the alternate stack it restores, and the sigcontext and siginfo layouts, from any bytes.
//! Nothing may panic; a frame is accepted exactly when its rip and rsp are canonical, its cs
//! (and, strictly, ss) are the 64-bit user selectors and its fpstate is 64-byte aligned, and
//! then it resumes ring 3 with the user selectors and only the flags a program may set (IF on,
//! IOPL 0, no TF/NT/RF/VM); an accepted FPU state has no reserved MXCSR bits, no component
//! outside XCR0 and a zero (standard-format) XSAVE header; the frames mvm writes itself come
//! back as they were written.
//!
//! Input: the ucontext (`UC_SIZE` bytes), a control byte, XCR0 (8 bytes), then the bytes at
//! fpstate.
#![no_main]

use kvm_bindings::kvm_regs;
use libfuzzer_sys::fuzz_target;
use vmm::layout::{USER_CS, USER_DS};
use vmm::sys::sigframe::{self, reg, SigContext, SigInfo, MCONTEXT, UC_SIZE};
use vmm::sys::signal::SignalState;

/// The flags a program sets (CF, PF, AF, ZF, SF, DF, OF, AC) and those ring 3 always has (IF,
/// the reserved bit 1).
const USER_FLAGS: u64 = 0x4_0cd5;
const ALWAYS: u64 = 0x202;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;
const MINSIGSTKSZ: u64 = 2048;

fn take<'a>(d: &mut &'a [u8], n: usize) -> &'a [u8] {
    let (a, b) = d.split_at(n.min(d.len()));
    *d = b;
    a
}

fn word(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    let b = b.get(at..).unwrap_or_default();
    let n = b.len().min(8);
    w[..n].copy_from_slice(&b[..n]);
    u64::from_le_bytes(w)
}

fn regs_of(sc: &SigContext) -> kvm_regs {
    let g = &sc.gp;
    kvm_regs {
        r8: g[0],
        r9: g[1],
        r10: g[2],
        r11: g[3],
        r12: g[4],
        r13: g[5],
        r14: g[6],
        r15: g[7],
        rdi: g[8],
        rsi: g[9],
        rbp: g[10],
        rbx: g[11],
        rdx: g[12],
        rax: g[13],
        rcx: g[14],
        rsp: g[15],
        rip: g[16],
        rflags: g[17],
    }
}

/// The ucontext checks, and the alternate stack rt_sigreturn restores from it.
fn check_ucontext(uc: &[u8; UC_SIZE], ctl: u8) {
    let mc = MCONTEXT as usize;
    let raw = &uc[mc..mc + 256];
    let sc = SigContext::from_bytes(raw);
    // The sigcontext round-trips: its 24 words as they were, the reserved words zero.
    let back = sc.to_bytes();
    assert_eq!(back[..192], raw[..192], "sigcontext words changed");
    assert!(back[192..].iter().all(|&b| b == 0), "reserved words set");
    assert_eq!(SigContext::from_bytes(&back), sc);
    // restore_into writes the general registers, not rip, rsp or the flags.
    let mut r = kvm_regs {
        rip: 0x1111,
        rsp: 0x2222,
        rflags: 0x3333,
        ..Default::default()
    };
    sc.restore_into(&mut r);
    let want = kvm_regs {
        rip: 0x1111,
        rsp: 0x2222,
        rflags: 0x3333,
        ..regs_of(&sc)
    };
    assert_eq!(format!("{r:?}"), format!("{want:?}"), "restore_into");

    let (rip, rsp, flags) = (sc.gp[reg::RIP], sc.gp[reg::RSP], sc.gp[reg::EFLAGS]);
    let uc_flags = word(uc, 0);
    let cs_ok = (sc.segs & 0xffff) | 3 == USER_CS as u64;
    let ss_ok = (sc.segs >> 48) | 3 == USER_DS as u64;
    let strict = uc_flags & sigframe::UC_STRICT_RESTORE_SS != 0;
    let accept = rip < 1 << 47
        && rsp < 1 << 47
        && cs_ok
        && (ss_ok || !strict)
        && sc.fpstate.is_multiple_of(64);
    let got = sigframe::ucontext(uc);
    assert_eq!(
        got.is_ok(),
        accept,
        "{got:?} for {sc:x?}, uc_flags {uc_flags:#x}"
    );
    let Ok(r) = got else { return };
    assert_eq!(r.sc, sc);
    assert_eq!(r.mask, word(uc, mc + 256));
    let f = r.resume;
    assert_eq!((f.rip, f.rsp), (rip, rsp));
    assert_eq!(
        (f.cs, f.ss),
        (USER_CS as u64, USER_DS as u64),
        "not user selectors"
    );
    assert_eq!(
        f.rflags & !USER_FLAGS,
        ALWAYS,
        "privileged flags: {:#x}",
        f.rflags
    );
    assert_eq!(
        f.rflags & USER_FLAGS,
        flags & USER_FLAGS,
        "the program's flags lost"
    );

    // uc_stack goes to sigaltstack: what it leaves is disabled or a usable stack; a refused
    // one changes nothing (an alternate stack in use is not replaced).
    let mut st = SignalState::default();
    if ctl & 1 != 0 {
        st.altstack = (rsp.wrapping_sub(0x100), 0, 0x1000);
    }
    let before = st.altstack;
    match st.set_altstack(rsp, r.altstack) {
        Ok(()) => {
            let (sp, fl, size) = st.altstack;
            assert!(
                st.altstack == (0, SS_DISABLE, 0)
                    || (sp == r.altstack.0 && fl & !SS_AUTODISARM == 0 && size >= MINSIGSTKSZ),
                "altstack {:?} from {:?}",
                st.altstack,
                r.altstack
            );
        }
        Err(_) => assert_eq!(st.altstack, before, "a refused altstack changed it"),
    }
}

/// The FPU state at fpstate, as read whole or in part, and the extended frame mvm writes.
fn check_fpstate(fp: &[u8], ctl: u8, xcr0: u64) {
    let xcr0 = xcr0 | 3;
    let xsize = sigframe::xstate_size(xcr0);
    assert!((576..=4096).contains(&xsize), "xstate_size {xsize}");
    let mut buf = fp.to_vec();
    buf.resize(xsize + 4, 0);
    let whole = ctl & 2 != 0;
    if let Ok(x) = sigframe::fpstate(buf.clone(), whole, xcr0, xsize) {
        let b = sigframe::xsave_bytes(&x);
        assert_eq!(word(&b, 24) & 0xffff_0000, 0, "reserved MXCSR bits");
        let bv = word(&b, 512);
        assert_eq!(bv & !xcr0, 0, "components outside XCR0: {bv:#x}");
        assert!(b[520..576].iter().all(|&c| c == 0), "XSAVE header not zero");
        assert!(b[xsize.max(576)..].iter().all(|&c| c == 0), "past the area");
        assert_eq!(b[..512], buf[..512], "the legacy area changed");
        if !whole {
            assert_eq!(bv, 3, "a partly read frame gives more than x87 and SSE");
            assert!(b[576..].iter().all(|&c| c == 0), "unread bytes used");
        }
    }

    // The extended frame mvm's signal delivery writes (its MXCSR and header valid): accepted,
    // with the components both its header and xfeatures name.
    let sw = sigframe::SW_BYTES;
    let mut area = buf;
    area[26..28].fill(0);
    let bv = word(&area, 512) & xcr0;
    let xfeatures = word(&area, sw + 8);
    area[512..576].fill(0);
    area[512..520].copy_from_slice(&bv.to_le_bytes());
    area[sw..sw + 4].copy_from_slice(&sigframe::FP_XSTATE_MAGIC1.to_le_bytes());
    area[sw + 4..sw + 8].copy_from_slice(&(xsize as u32 + 4).to_le_bytes());
    area[sw + 16..sw + 20].copy_from_slice(&(xsize as u32).to_le_bytes());
    area[xsize..xsize + 4].copy_from_slice(&sigframe::FP_XSTATE_MAGIC2.to_le_bytes());
    let x = sigframe::fpstate(area.clone(), true, xcr0, xsize)
        .unwrap_or_else(|e| panic!("a well-formed frame refused: {e}"));
    let b = sigframe::xsave_bytes(&x);
    let mut want = area[..xsize].to_vec();
    want[512..520].copy_from_slice(&(bv & xfeatures).to_le_bytes());
    assert_eq!(
        b[..xsize],
        want[..],
        "the FPU state changed on the way back"
    );
    assert!(b[xsize..].iter().all(|&c| c == 0));
}

/// The frame mvm builds for a handler (its registers captured, the user selectors): read back
/// as it was.
fn check_own_frame(uc: &[u8; UC_SIZE]) {
    let mc = MCONTEXT as usize;
    let mut sc = SigContext::from_bytes(&uc[mc..mc + 256]);
    sc.gp[reg::RIP] &= (1 << 47) - 1;
    sc.gp[reg::RSP] &= (1 << 47) - 1;
    let regs = regs_of(&sc);
    let mut own = SigContext::capture(&regs, regs.rip, regs.rsp, regs.rflags);
    own.segs = USER_CS as u64 | (USER_DS as u64) << 48;
    own.fpstate = sc.fpstate & !63;
    let mut f = *uc;
    let uc_flags =
        sigframe::UC_FP_XSTATE | sigframe::UC_SIGCONTEXT_SS | sigframe::UC_STRICT_RESTORE_SS;
    f[..8].copy_from_slice(&uc_flags.to_le_bytes());
    f[mc..mc + 256].copy_from_slice(&own.to_bytes());
    let r = sigframe::ucontext(&f).unwrap_or_else(|e| panic!("mvm's own frame refused: {e}"));
    assert_eq!(r.sc, own);
    let mut back = kvm_regs::default();
    r.sc.restore_into(&mut back);
    back.rip = r.resume.rip;
    back.rsp = r.resume.rsp;
    back.rflags = regs.rflags;
    assert_eq!(format!("{back:?}"), format!("{regs:?}"), "registers lost");
}

/// siginfo as the program reads it, and as the trace shows it.
fn check_siginfo(b: &[u8]) {
    let w = |i: usize| word(b, 4 * i) as u32;
    let info = SigInfo {
        signo: w(0) as i32 % 80,
        code: w(1) as i32,
        pid: w(2) as i32,
        uid: w(3),
        addr: word(b, 16),
        from_host: w(6) & 1 != 0,
        status: w(7) as i32,
        value: word(b, 32),
    };
    let bytes = info.to_bytes();
    assert_eq!(word(&bytes, 0) as u32 as i32, info.signo);
    assert_eq!(word(&bytes, 8) as u32 as i32, info.code);
    assert_eq!(word(&bytes, 4) as u32, 0, "si_errno");
    assert!(
        bytes[32..].iter().all(|&c| c == 0),
        "past the union's fields"
    );
    let shown = vmm::sys::trace::siginfo(&info);
    assert!(shown.len() < 512, "{shown}");
    let child = SigInfo::child(info.pid, info.uid, info.status);
    assert_eq!(child.signo, libc::SIGCHLD);
    assert!(matches!(child.code, 1 | 2 | 5 | 6), "{child:?}");
}

fuzz_target!(|data: &[u8]| {
    let mut d = data;
    let mut uc = [0u8; UC_SIZE];
    let u = take(&mut d, UC_SIZE);
    uc[..u.len()].copy_from_slice(u);
    let ctl = take(&mut d, 1).first().copied().unwrap_or(0);
    let xcr0 = word(take(&mut d, 8), 0);
    check_ucontext(&uc, ctl);
    check_own_frame(&uc);
    check_fpstate(d, ctl, xcr0);
    check_siginfo(d);
});
