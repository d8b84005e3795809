//! The work on untrusted mail this service added for issues 21 and 22, at the sizes a hostile
//! or a heavy sender reaches (the receiver takes 25 MB): taking the attachments out, wrapping
//! the text we send, telling the writer's language, and reading a mail to the company desk
//! (its commands, and a yes or a no). Each must stay linear in its input.
//!
//! ```text
//! cargo bench --bench mail_text
//! ```

use std::time::Instant;

use base64::Engine as _;
use nonono::config::Language;
use nonono::domain::desk;
use nonono::domain::language::detect;
use nonono::mail::{attachments, wrap};

/// Runs `f` `n` times and prints the median and the slowest run, in milliseconds.
fn time(what: &str, n: usize, mut f: impl FnMut()) {
    let mut runs: Vec<f64> = (0..n)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    println!("| {what} | {:.1} ms | {:.1} ms |", runs[n / 2], runs[n - 1]);
}

/// A multipart message with `files` attachments of `size` bytes each, base64 as clients send.
fn with_files(files: usize, size: usize) -> Vec<u8> {
    let body = base64::engine::general_purpose::STANDARD.encode(vec![0x5a; size]);
    let mut m = b"From: a@example.fi\r\nSubject: [Elisa] x\r\nContent-Type: multipart/mixed; \
        boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nHei, liitteet.\r\n"
        .to_vec();
    for i in 0..files {
        m.extend_from_slice(
            format!(
                "--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; \
                 filename=\"lasku-{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            )
            .as_bytes(),
        );
        for line in body.as_bytes().chunks(76) {
            m.extend_from_slice(line);
            m.extend_from_slice(b"\r\n");
        }
    }
    m.extend_from_slice(b"--b--\r\n");
    m
}

fn main() {
    println!("| work | median | slowest |");
    println!("|---|---|---|");
    let twenty = with_files(20, 900_000);
    time(
        &format!(
            "attachments of a {} MB mail, 20 files",
            twenty.len() / 1_000_000
        ),
        5,
        || {
            let got = attachments::take(&twenty, 7_000_000);
            assert_eq!(got.carried.len() + got.left_out.len(), 20);
        },
    );
    let tiny = with_files(100_000, 1);
    time(
        &format!(
            "attachments of a {} MB mail, 100,000 files",
            tiny.len() / 1_000_000
        ),
        3,
        || {
            let got = attachments::take(&tiny, 7_000_000);
            assert_eq!(got.carried.len(), attachments::MAX_CARRIED);
        },
    );
    let indented = format!("Hei.\n{}{}\n", " ".repeat(45_000), "a ".repeat(27_000));
    time("wrap of 99 KB with 45,000 spaces of indentation", 5, || {
        assert!(wrap(&indented, 72).len() < 2 * indented.len());
    });
    let prose =
        "Hej, fakturan för november kom två gånger och jag har betalat den. ".repeat(380_000);
    time(
        &format!("wrap of {} MB of prose", prose.len() / 1_000_000),
        3,
        || {
            wrap(&prose, 72);
        },
    );
    time(
        &format!("language of {} MB of prose", prose.len() / 1_000_000),
        5,
        || {
            assert!(detect(&prose).is_some());
        },
    );
    let one_line = "reitti lisää a@elisa.example ".repeat(850_000);
    time(
        &format!("desk commands of a {} MB line", one_line.len() / 1_000_000),
        5,
        || {
            assert!(desk::parse(&one_line).commands.is_empty());
        },
    );
    let blank = format!("{}reitti lisää a@elisa.example\n", "\n".repeat(25_000_000));
    time("desk commands after 25 MB of empty lines", 5, || {
        assert!(desk::parse(&blank).commands.is_empty());
    });
    let lines = "reitti lisää a@elisa.example\n".repeat(850_000);
    time(
        &format!(
            "desk commands of {} MB of command lines",
            lines.len() / 1_000_000
        ),
        5,
        || {
            assert_eq!(desk::parse(&lines).commands.len(), desk::MOST_COMMANDS);
        },
    );
    time(
        &format!("desk yes or no of a {} MB line", one_line.len() / 1_000_000),
        5,
        || {
            assert_eq!(desk::answer(&one_line, Language::Fi), desk::Answer::Unclear);
        },
    );
}
