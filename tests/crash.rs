//! Crash tests: clients send feedback with unique markers while the real `nonono serve` process
//! is killed with SIGKILL at random points and started again. Every message that got `250` must
//! end up stored and processed, and every outbound message must reach a real SMTP smarthost at
//! least once, with duplicates bounded by what was in flight at the kills. The same holds with
//! the smarthost down, slow, answering 4xx (delivered after it recovers) and answering 5xx
//! (recorded as failed, never dropped).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::time::{Duration, Instant};

use common::root;
use common::sink::Sink;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// Messages per run, sent by `SENDERS` clients side by side.
const MESSAGES: usize = 40;
const SENDERS: usize = 4;
/// Kills per run at most; each lands at a random moment while clients send.
const KILLS: usize = 6;

/// The service as a child process on a data folder that outlives it.
struct Service {
    dir: tempfile::TempDir,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    starts: usize,
    smtp_port: Arc<AtomicU16>,
}

impl Service {
    /// A config from the shipped defaults: ephemeral ports, no abuse limits, SMTP delivery to
    /// the smarthost at `relay_port`.
    fn new(relay_port: u16) -> Service {
        let dir = tempfile::tempdir().unwrap();
        let defaults = std::fs::read_to_string(root().join("config/default.toml")).unwrap();
        let config_text = defaults
            .replace(
                "data_dir = \"data\"",
                &format!("data_dir = {:?}", dir.path()),
            )
            .replace("listen = \"127.0.0.1:2525\"", "listen = \"127.0.0.1:0\"")
            .replace("listen = \"127.0.0.1:8080\"", "listen = \"127.0.0.1:0\"")
            .replace("transport = \"file\"", "transport = \"smtp\"")
            .replace("smtp_port = 25", &format!("smtp_port = {relay_port}"))
            .replace("_per_hour = 10", "_per_hour = 0")
            .replace("_per_hour = 60", "_per_hour = 0")
            .replace("_per_day = 50", "_per_day = 0");
        let config = dir.path().join("crash.toml");
        std::fs::write(&config, config_text).unwrap();
        let log = dir.path().join("serve.log");
        Service {
            dir,
            config,
            log,
            child: None,
            starts: 0,
            smtp_port: Arc::new(AtomicU16::new(0)),
        }
    }

    /// Starts the process and waits until it says where it listens.
    async fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_nonono"))
            .args(["serve", "--config", self.config.to_str().unwrap()])
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.starts += 1;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&self.log).unwrap_or_default();
            let addresses: Vec<&str> = text
                .lines()
                .filter_map(|l| l.split("smtp listening on ").nth(1))
                .filter_map(|rest| rest.split_whitespace().next())
                .collect();
            if addresses.len() == self.starts {
                let port = addresses[self.starts - 1].rsplit(':').next().unwrap();
                self.smtp_port
                    .store(port.parse().unwrap(), Ordering::SeqCst);
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not start:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn cli(&self, args: &[&str]) {
        let out = Command::new(env!("CARGO_BIN_EXE_nonono"))
            .args(args)
            .args(["--config", self.config.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The store, read-only, with the intake beside it attached as `intake`.
    fn db(&self) -> rusqlite::Connection {
        let db = rusqlite::Connection::open_with_flags(
            self.dir.path().join("nonono.sqlite3"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .unwrap();
        let intake = self.dir.path().join("intake.sqlite3");
        db.execute("ATTACH DATABASE ?1 AS intake", [intake.to_str().unwrap()])
            .unwrap();
        db
    }

    fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Waits until the pipeline has processed everything and the outbox holds nothing due.
    /// What was accepted last may still wait in the intake (the pipeline moves it after a lull
    /// in receiving), not in the journal yet.
    async fn wait_settled(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let pending = self.count(
                "SELECT (SELECT count(*) FROM journal WHERE state = 'pending')
                      + (SELECT count(*) FROM intake.intake)",
            );
            let outbox = self.count("SELECT count(*) FROM outbox WHERE state = 'pending'");
            if pending == 0 && outbox == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not settled: {pending} messages to process, {outbox} to deliver"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

fn marker(i: usize) -> String {
    format!("crashmarker{i:04}x")
}

fn feedback(i: usize) -> Vec<u8> {
    let m = marker(i);
    format!(
        "From: Kirjoittaja {i} <writer{i}@example.fi>\r\n\
         To: palaute@nonono.localhost\r\n\
         Subject: [Elisa] Lasku {m}\r\n\
         Message-ID: <{m}@example.fi>\r\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0200\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Hei, lasku tuli kahdesti. Merkki {m}.\r\n"
    )
    .into_bytes()
}

/// Sends message `i` until some server answers `250`, as a patient MTA would.
async fn send_until_accepted(port: &AtomicU16, i: usize) {
    let envelope = Envelope::new(
        Some(format!("writer{i}@example.fi").parse().unwrap()),
        vec!["palaute@nonono.localhost".parse().unwrap()],
    )
    .unwrap();
    let raw = feedback(i);
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(port.load(Ordering::SeqCst))
            .timeout(Some(Duration::from_secs(5)))
            .build();
        if transport.send_raw(&envelope, &raw).await.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "message {i} never accepted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A small xorshift, seeded from the clock and printed, so a failing run can be replayed.
struct Dice(u64);

impl Dice {
    fn new() -> Dice {
        let seed = std::env::var("CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                ((nonono::clock::now() as u64) << 20) ^ u64::from(std::process::id()) | 1
            });
        eprintln!("crash test seed: CRASH_SEED={seed}");
        Dice(seed)
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(from + self.0 % (to - from))
    }
}

/// Sends every message while killing and restarting the service; returns the kill count.
async fn send_through_kills(service: &mut Service) -> usize {
    let done = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for sender in 0..SENDERS {
        let port = service.smtp_port.clone();
        clients.spawn(async move {
            for i in (sender..MESSAGES).step_by(SENDERS) {
                send_until_accepted(&port, i).await;
                // Paced, so the kills land among the messages rather than after them.
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        });
    }
    let finished = done.clone();
    let all_sent = tokio::spawn(async move {
        while let Some(r) = clients.join_next().await {
            r.unwrap();
        }
        finished.store(true, Ordering::SeqCst);
    });
    let mut dice = Dice::new();
    let mut kills = 0;
    while kills < KILLS && !done.load(Ordering::SeqCst) {
        tokio::time::sleep(dice.millis(100, 500)).await;
        service.kill();
        kills += 1;
        tokio::time::sleep(dice.millis(0, 200)).await;
        service.start().await;
    }
    all_sent.await.unwrap();
    assert!(kills >= 3, "only {kills} kills landed while sending");
    kills
}

/// A service on the smarthost at `relay_port` that clients sent everything to while it was
/// killed and restarted; with the number of kills.
async fn through_kills(relay_port: u16) -> (Service, usize) {
    let mut service = Service::new(relay_port);
    service.start().await;
    let kills = send_through_kills(&mut service).await;
    (service, kills)
}

/// Waits until the service has processed and delivered everything, then checks that nothing
/// was lost on either side.
async fn settles_with_everything_delivered(service: &Service, sink: &Sink, kills: usize) {
    service.wait_settled().await;
    assert_everything_accepted_was_kept(service, kills);
    assert_every_outbound_delivered(service, sink, kills);
}

/// Checks that every message is stored, processed once or a bounded few times, and public.
fn assert_everything_accepted_was_kept(service: &Service, kills: usize) {
    let db = service.db();
    let mut stmt = db
        .prepare(
            "SELECT raw, state FROM journal JOIN journal_raw USING (id)
             WHERE rcpt_to LIKE '%palaute@%'",
        )
        .unwrap();
    let mut copies: HashMap<String, usize> = HashMap::new();
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?))
        })
        .unwrap();
    for row in rows {
        let (raw, state) = row.unwrap();
        assert_eq!(state, "done");
        let raw = String::from_utf8(raw).unwrap();
        let m = raw.split("Merkki ").nth(1).unwrap()[..marker(0).len()].to_owned();
        *copies.entry(m).or_default() += 1;
    }
    for i in 0..MESSAGES {
        assert!(copies.contains_key(&marker(i)), "{} was lost", marker(i));
        let published: i64 = db
            .query_row(
                "SELECT count(*) FROM threads WHERE title LIKE '%' || ?1 || '%'",
                [marker(i)],
                |r| r.get(0),
            )
            .unwrap();
        assert!(published >= 1, "{} has no thread", marker(i));
    }
    // A message can be stored twice only when the kill came between our commit and the client
    // reading `250`: at most one message per client per kill.
    let extra = copies.values().sum::<usize>() - MESSAGES;
    assert!(
        extra <= kills * SENDERS,
        "{extra} duplicates after {kills} kills"
    );
}

/// Every outbox row was delivered to the sink at least once; deliveries beyond one per row are
/// bounded by what the relay had in flight at the kills (at most 16 deliveries at a time).
fn assert_every_outbound_delivered(service: &Service, sink: &Sink, kills: usize) {
    let db = service.db();
    let mut stmt = db.prepare("SELECT message_id, state FROM outbox").unwrap();
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // An acknowledgement and a forward for every thread, at least.
    assert!(
        rows.len() >= 2 * MESSAGES,
        "only {} outbox rows",
        rows.len()
    );
    let mut delivered: HashMap<String, usize> = HashMap::new();
    for m in sink.received() {
        let id = m
            .data
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .map(|v| v.trim().trim_matches(|c| c == '<' || c == '>').to_owned())
            .expect("every message has a Message-ID");
        *delivered.entry(id).or_default() += 1;
    }
    for (id, state) in &rows {
        assert_eq!(state, "sent", "{id}");
        let id = id.trim_matches(|c| c == '<' || c == '>');
        assert!(
            delivered.contains_key(id),
            "{id} never reached the smarthost"
        );
    }
    let extra = delivered.values().sum::<usize>() - delivered.len();
    assert!(
        extra <= kills * 16,
        "{extra} duplicate deliveries after {kills} kills"
    );
    let forwards: BTreeSet<String> = sink
        .received()
        .iter()
        .filter(|m| m.rcpt_to.iter().any(|r| r.ends_with("@elisa.example")))
        .filter_map(|m| {
            m.data
                .split("Merkki ")
                .nth(1)
                .map(|s| s[..marker(0).len()].to_owned())
        })
        .collect();
    assert_eq!(
        forwards.len(),
        MESSAGES,
        "every feedback reached the company"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing_that_got_250() {
    let sink = Sink::start("250 2.0.0 OK").await;
    let (service, kills) = through_kills(sink.port).await;
    settles_with_everything_delivered(&service, &sink, kills).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_slow_smarthost_kills_land_mid_delivery_and_nothing_is_lost() {
    let sink = Sink::start("250 2.0.0 OK").await;
    sink.set_delay(Duration::from_millis(100));
    let (service, kills) = through_kills(sink.port).await;
    settles_with_everything_delivered(&service, &sink, kills).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_smarthost_down_mail_waits_and_goes_out_when_it_is_back() {
    // Keep a port with nothing on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (service, kills) = through_kills(port).await;
    let sink = Sink::start_on(port, "250 2.0.0 OK").await;
    // As an operator would after fixing the smarthost: retry now instead of at the backoff.
    service.cli(&["queue", "--flush"]);
    settles_with_everything_delivered(&service, &sink, kills).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_smarthost_answering_4xx_mail_is_retried_until_it_accepts() {
    let sink = Sink::start("451 4.3.0 Try again later").await;
    let (service, kills) = through_kills(sink.port).await;
    assert_eq!(
        service.count("SELECT count(*) FROM outbox WHERE state != 'pending'"),
        0,
        "a 4xx is temporary: nothing is given up"
    );
    sink.set_reply("250 2.0.0 OK");
    service.cli(&["queue", "--flush"]);
    settles_with_everything_delivered(&service, &sink, kills).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_smarthost_answering_5xx_every_message_is_recorded_as_failed() {
    let sink = Sink::start("550 5.1.1 No such user").await;
    let (service, kills) = through_kills(sink.port).await;
    service.wait_settled().await;
    assert_everything_accepted_was_kept(&service, kills);
    let db = service.db();
    let (rows, failed): (i64, i64) = db
        .query_row(
            "SELECT count(*), sum(state = 'failed' AND last_error LIKE '%550%') FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(rows >= 2 * MESSAGES as i64);
    assert_eq!(
        failed, rows,
        "every row is failed with the smarthost's answer"
    );
}
