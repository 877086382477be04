//! A static Rust program using std: prints its args and an env var.
use std::collections::HashMap;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("hello from rust, args: {:?}", args);
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in args.iter().flat_map(|a| a.chars()) {
        *counts.entry(c).or_insert(0) += 1;
    }
    let mut counts: Vec<(char, usize)> = counts.into_iter().collect();
    counts.sort();
    let summary: Vec<String> = counts.iter().map(|(c, n)| format!("{c}:{n}")).collect();
    println!("chars: {}", summary.join(" "));
    match std::env::var("MVM_GREETING") {
        Ok(v) => println!("MVM_GREETING={v}"),
        Err(_) => println!("MVM_GREETING unset"),
    }
    let big: Vec<u64> = (0..100_000u64).map(|i| i * i).collect();
    println!("sum of squares: {}", big.iter().sum::<u64>());
}
