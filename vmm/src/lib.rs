//! mvm: run one Linux program in its own KVM micro-VM.
//!
//! The program runs natively in guest ring 3; each syscall enters a two-instruction ring-0 stub
//! that exits to mvm, whose syscall server (`sys`) serves it on the host. See DESIGN.md.

pub mod bench;
pub mod boot;
pub mod cli;
pub mod isolate;
pub mod layout;
pub mod mm;
pub mod policy;
pub mod runner;
pub mod seccomp;
pub mod spec;
pub mod sys;
pub mod task;
pub mod terminal;
pub mod throttle;
pub mod tmpfs;
pub mod vdso;
pub mod vstate;
