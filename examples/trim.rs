//! Prints the answer nonono would publish from a plain-text reply body, and what it would trim:
//! `cargo run --example trim -- reply.txt`. Handy when a corpus case or a bug report disagrees.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: cargo run --example trim -- FILE");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("trim: {path}: {e}");
            std::process::exit(1);
        }
    };
    let answer = nonono::mail::reply::extract_answer(&String::from_utf8_lossy(&bytes), &[]);
    println!("{}", answer.text);
    if !answer.trimmed.is_empty() {
        println!("\n--- trimmed ---\n{}", answer.trimmed);
    }
}
