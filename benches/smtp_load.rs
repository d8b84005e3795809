//! An SMTP load client that measures accept latency: the time from the end of DATA (`.`) to the
//! server's `250`, the moment a sender may forget its copy. `bench/smtp.sh` runs it against
//! nonono, Postfix and smtp-sink side by side (smtp-source gives their rates; it has no
//! latency figures).
//!
//! ```text
//! cargo bench --bench smtp_load -- ADDR SESSIONS BYTES (MESSAGES | SECONDSs) [RCPT] [--rate N]
//! ```
//! Each message has its own sender, so a gateway does its whole work for every one. Without
//! `--rate` every session sends its next message as soon as the last is taken (a flood); with
//! it the sessions together offer N messages a second, evenly spaced, as steady traffic does
//! (a session that falls behind its schedule sends at once until it has caught up).
//! prints `sent=N secs=S rate=R p50_ms=.. p99_ms=.. max_ms=.. errors=E`.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// How long the run goes on: a number of messages or a span of time.
#[derive(Clone, Copy)]
enum Amount {
    Messages(usize),
    For(Duration),
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rate: Option<f64> = args.iter().position(|a| a == "--rate").map(|at| {
        let rate = args.get(at + 1).and_then(|r| r.parse().ok());
        args.drain(at..(at + 2).min(args.len()));
        rate.filter(|r| *r > 0.0)
            .expect("--rate takes messages a second, over 0")
    });
    let [addr, sessions, bytes, amount, rest @ ..] = args.as_slice() else {
        eprintln!("usage: smtp_load ADDR SESSIONS BYTES (MESSAGES | SECONDSs) [RCPT] [--rate N]");
        std::process::exit(2);
    };
    let sessions: usize = sessions.parse().expect("SESSIONS");
    let bytes: usize = bytes.parse().expect("BYTES");
    let amount = match amount.strip_suffix('s') {
        Some(secs) => Amount::For(Duration::from_secs(secs.parse().expect("SECONDS"))),
        None => Amount::Messages(amount.parse().expect("MESSAGES")),
    };
    let rcpt = rest
        .first()
        .cloned()
        .unwrap_or_else(|| "feedback@gw.example".into());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for session in 0..sessions {
        let share = match amount {
            Amount::Messages(n) => {
                Amount::Messages(n / sessions + usize::from(session < n % sessions))
            }
            other => other,
        };
        // Session s sends its k-th message at (k * sessions + s) / rate seconds.
        let pace = rate.map(|r| Pace {
            first: Duration::from_secs_f64(session as f64 / r),
            every: Duration::from_secs_f64(sessions as f64 / r),
        });
        let (addr, rcpt) = (addr.clone(), rcpt.clone());
        tasks.push(tokio::spawn(async move {
            run_session(session, &addr, &rcpt, bytes, share, pace, started).await
        }));
    }
    let (mut latencies, mut errors) = (Vec::new(), 0usize);
    for task in tasks {
        let (l, e) = task.await.expect("session task");
        latencies.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d: &Duration| d.as_secs_f64() * 1000.0)
    };
    println!(
        "sent={} secs={secs:.1} rate={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} errors={errors}",
        latencies.len(),
        latencies.len() as f64 / secs,
        pct(0.50),
        pct(0.99),
        pct(1.0),
    );
}

/// When a paced session sends: its first message after `first`, then one every `every`.
#[derive(Clone, Copy)]
struct Pace {
    first: Duration,
    every: Duration,
}

/// One connection sending its share, message after message (on its schedule, if paced).
/// Returns each accept latency and how many messages were refused or lost with the connection
/// (it reconnects after those).
async fn run_session(
    session: usize,
    addr: &str,
    rcpt: &str,
    bytes: usize,
    amount: Amount,
    pace: Option<Pace>,
    started: Instant,
) -> (Vec<Duration>, usize) {
    let (mut latencies, mut errors) = (Vec::new(), 0);
    let more = |sent: usize| match amount {
        Amount::Messages(n) => sent < n,
        Amount::For(d) => started.elapsed() < d,
    };
    'connect: while more(latencies.len()) {
        let Ok(stream) = TcpStream::connect(addr).await else {
            errors += 1;
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        // Without it, Nagle's algorithm holds the final "." back for a delayed ACK (~40 ms).
        let _ = stream.set_nodelay(true);
        let mut s = BufReader::new(stream);
        if reply(&mut s).await.is_none() || command(&mut s, "EHLO load.example").await.is_none() {
            errors += 1;
            continue;
        }
        while more(latencies.len()) {
            if let Some(pace) = pace {
                let due = pace.first + pace.every * (latencies.len() + errors) as u32;
                tokio::time::sleep_until((started + due).into()).await;
                if !more(latencies.len()) {
                    break;
                }
            }
            // Every message from its own writer, so the receiving side does all its work for
            // each (a gateway holds a sender that writes faster than a person).
            let sender = format!("load-{session}-{}@client.example", latencies.len() + errors);
            let message = message(&sender, bytes);
            let ok = async {
                command(&mut s, &format!("MAIL FROM:<{sender}>")).await?;
                command(&mut s, &format!("RCPT TO:<{rcpt}>")).await?;
                let go = command(&mut s, "DATA").await?;
                if !go.starts_with("354") {
                    return None;
                }
                // The message and its final "." in one write, as MTAs send them.
                let mut data = message.clone();
                data.extend_from_slice(b".\r\n");
                let at = Instant::now();
                s.get_mut().write_all(&data).await.ok()?;
                let done = reply(&mut s).await?;
                done.starts_with("250").then(|| at.elapsed())
            }
            .await;
            match ok {
                Some(latency) => latencies.push(latency),
                None => {
                    errors += 1;
                    continue 'connect;
                }
            }
        }
        let _ = command(&mut s, "QUIT").await;
    }
    (latencies, errors)
}

/// A plain feedback message about Elisa from `sender`, of about `bytes` bytes, dot-safe.
fn message(sender: &str, bytes: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Load <{sender}>\r\nTo: feedback@gw.example\r\n\
         Subject: [Elisa] bench feedback\r\nDate: Tue, 24 Nov 2026 10:00:00 +0200\r\n\
         Message-ID: <{sender}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    let line =
        "Palautetta kuormitustestistä: lasku tuli kahdesti ja asiakaspalvelu ei vastannut.\r\n";
    while m.len() + line.len() <= bytes {
        m.push_str(line);
    }
    m.into_bytes()
}

async fn command(s: &mut BufReader<TcpStream>, line: &str) -> Option<String> {
    s.get_mut()
        .write_all(format!("{line}\r\n").as_bytes())
        .await
        .ok()?;
    let answer = reply(s).await?;
    (answer.starts_with('2') || answer.starts_with('3')).then_some(answer)
}

/// One whole reply, multi-line replies joined.
async fn reply(s: &mut BufReader<TcpStream>) -> Option<String> {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        all.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            return Some(all);
        }
    }
}
