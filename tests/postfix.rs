//! A real Postfix (Debian's, installed by `.ci/run`) in front of nonono, set up as README's
//! production section says: it relays with XFORWARD, so many writers through one front MTA
//! are many clients to nonono's limits; and it queues while nonono is down, as a backup MX
//! does, delivering when nonono is back; a company's DKIM-signed mail to the company desk still
//! verifies after it. And one behind it, as its smarthost: delivering the company's mail into
//! a Maildir, it reports the delivery nonono asked it to.

mod common;

use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use common::signing::Key;
use common::{Conversation, TestApp, root};

/// A Postfix instance of its own, relaying nonono.localhost to 127.0.0.1:`back`.
struct Postfix {
    dir: tempfile::TempDir,
    front: u16,
}

/// A port no one listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Postfix {
    fn start(back: u16) -> Postfix {
        Self::start_as(free_port(), back, &[])
    }

    /// Postfix on `front`, relaying nonono.localhost to `back`, with `postfix.sh`'s switches.
    fn start_as(front: u16, back: u16, switches: &[(&str, &str)]) -> Postfix {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(root().join("tests/verify/postfix.sh"))
            .arg("start")
            .arg(dir.path())
            .args([front.to_string(), back.to_string()])
            .envs(switches.iter().copied())
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "Postfix did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Postfix { dir, front }
    }

    /// Delivers what waits in the queue now, as an operator's `postqueue -f` does once the
    /// next hop is back: Postfix's own retry is seconds away unloaded, but on a busy machine
    /// its dead-destination backoff once outlasted the test's wait.
    fn flush(&self) {
        let _ = Command::new(root().join("tests/verify/postfix.sh"))
            .arg("flush")
            .arg(self.dir.path())
            .status();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("maillog")).unwrap_or_default()
    }

    /// `raw` from `from` to `to`, handed to Postfix from 127.0.0.2; Postfix's reply to its
    /// data.
    async fn hand(&self, from: &str, to: &str, raw: &str) -> String {
        let mut c = Conversation::connect_from(IpAddr::from([127, 0, 0, 2]), self.front).await;
        assert!(c.command("EHLO mail.acme.example").await.starts_with("250"));
        assert!(
            c.command(&format!("MAIL FROM:<{from}>"))
                .await
                .starts_with("250")
        );
        let rcpt = c.command(&format!("RCPT TO:<{to}>")).await;
        assert!(rcpt.starts_with("250"), "{rcpt}");
        assert!(c.command("DATA").await.starts_with("354"));
        let reply = c.command(&format!("{raw}.")).await;
        c.command("QUIT").await;
        reply
    }

    /// Feedback from writer `n`, who connects from 127.0.0.`n`; Postfix's reply to its data.
    async fn send(&self, n: u8) -> String {
        let mut c = Conversation::connect_from(IpAddr::from([127, 0, 0, n]), self.front).await;
        assert!(c.command("EHLO writer.example.fi").await.starts_with("250"));
        let from = format!("kirjoittaja{n}@example.fi");
        assert!(
            c.command(&format!("MAIL FROM:<{from}>"))
                .await
                .starts_with("250")
        );
        let rcpt = c.command("RCPT TO:<palaute@nonono.localhost>").await;
        assert!(rcpt.starts_with("250"), "{rcpt}");
        assert!(c.command("DATA").await.starts_with("354"));
        let reply = c
            .command(&format!(
                "From: <{from}>\r\nTo: <palaute@nonono.localhost>\r\nSubject: [Elisa] Lasku {n}\r\nMessage-ID: <lasku{n}@example.fi>\r\n\r\nLasku tuli kahdesti.\r\n."
            ))
            .await;
        c.command("QUIT").await;
        reply
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new(root().join("tests/verify/postfix.sh"))
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// Waits until nonono holds `n` threads, and returns the client address each message's
/// Received line names.
async fn clients_of(app: &TestApp, n: usize, postfix: &Postfix) -> Vec<String> {
    for _ in 0..600 {
        if app.store().latest_threads(100).unwrap().len() >= n {
            app.wait_processed().await;
            let store = app.store();
            return (1..=n as i64)
                .map(|id| {
                    let raw = store.journal_raw(id).unwrap().unwrap_or_default();
                    let raw = String::from_utf8_lossy(&raw).into_owned();
                    let first = raw.lines().next().unwrap_or("").to_owned();
                    first
                        .split(['[', ']'])
                        .nth(1)
                        .unwrap_or_else(|| panic!("{first}"))
                        .to_owned()
                })
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "nonono has {} threads, not {n}; Postfix's log:\n{}",
        app.store().latest_threads(100).unwrap().len(),
        postfix.log()
    );
}

/// Eight writers through one Postfix: with a limit of three new threads per client address and
/// two sessions per client, all eight are taken, each known by its own address.
#[tokio::test]
async fn through_postfix_each_writer_is_a_client_of_its_own() {
    let app = TestApp::start_with(|c| {
        c.smtp.trusted_relays = vec!["127.0.0.1".into()];
        c.limits.new_threads_per_ip_per_hour = 3;
        c.smtp.max_sessions_per_client = 2;
    })
    .await;
    let postfix = Postfix::start(app.smtp_port());
    for n in 2..10 {
        let queued = postfix.send(n).await;
        assert!(queued.starts_with("250"), "{queued}");
    }
    let mut clients = clients_of(&app, 8, &postfix).await;
    clients.sort();
    let expected: Vec<String> = (2..10).map(|n| format!("127.0.0.{n}")).collect();
    assert_eq!(clients, expected, "{}", postfix.log());
}

/// nonono down: Postfix, as its backup MX, takes the mail and queues it; nonono back on the
/// same port: the mail arrives and its thread is there.
#[tokio::test]
async fn postfix_holds_mail_while_nonono_is_down_and_delivers_it_after() {
    let mut app = TestApp::start_with(|c| c.smtp.trusted_relays = vec!["127.0.0.1".into()]).await;
    let port = app.smtp_port();
    let postfix = Postfix::start(port);
    app.stop().await;
    let queued = postfix.send(7).await;
    assert!(
        queued.starts_with("250"),
        "Postfix takes it while nonono is down: {queued}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        postfix.log().contains("Connection refused"),
        "{}",
        postfix.log()
    );
    app.restart(|c| c.smtp.listen = format!("127.0.0.1:{port}"))
        .await;
    postfix.flush();
    assert_eq!(clients_of(&app, 1, &postfix).await, ["127.0.0.7"]);
}

/// Issue 22: Postfix as the smarthost delivers the forward into Elisa's Maildir and sends the
/// success report nonono asked for (NOTIFY=SUCCESS); the thread shows that the company's
/// server took the feedback.
#[tokio::test]
async fn a_postfix_smarthost_reports_the_delivery_and_the_thread_shows_it() {
    let smarthost = free_port();
    let app = TestApp::start_with(|c| {
        c.outbound.transport = nonono::config::Transport::Smtp;
        c.outbound.smtp_host = "127.0.0.1".into();
        c.outbound.smtp_port = smarthost;
    })
    .await;
    let postfix = Postfix::start_as(smarthost, app.smtp_port(), &[("MAILDIR", "1")]);
    app.send_feedback().await;
    let delivered = "Palaute toimitettiin yrityksen postipalvelimelle";
    for round in 0..300 {
        if app.get("/t/1").await.1.contains(delivered) {
            let maildir = postfix.dir.path().join("mail/elisa/new");
            let forwards = std::fs::read_dir(&maildir).map_or(0, |d| d.count());
            assert_eq!(forwards, 1, "the forward is in Elisa's Maildir");
            let events = app.store().events(1).unwrap();
            let event = events
                .iter()
                .find(|e| e.kind.as_str() == "delivered")
                .unwrap();
            assert!(event.detail.starts_with("delivered 2.0.0"), "{event:?}");
            // The operator reads the server's answer beside the route.
            let shown = Command::new(env!("CARGO_BIN_EXE_nonono"))
                .args(["providers", "show", "elisa", "--config"])
                .arg(app.cli_config())
                .output()
                .unwrap();
            let shown = String::from_utf8_lossy(&shown.stdout);
            assert!(
                shown.contains("their server reported") && shown.contains("delivered 2.0.0"),
                "{shown}"
            );
            return;
        }
        if round % 40 == 39 {
            postfix.flush();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no delivery report on the thread; Postfix's log:\n{}",
        postfix.log()
    );
}

/// A company's signed mail to the company desk through Postfix in front: Postfix adds its
/// Received line and relays; the signature still verifies, and the desk answers.
#[tokio::test]
async fn a_company_s_signed_mail_reaches_the_desk_through_postfix() {
    let key = Key::new();
    let record = key.record.clone();
    let app = TestApp::start_with(|c| {
        c.smtp.trusted_relays = vec!["127.0.0.1".into()];
        c.trust.dns_records = [("s1._domainkey.acme.example".to_owned(), record)].into();
    })
    .await;
    app.add_acme(&[]).await;
    let postfix = Postfix::start(app.smtp_port());
    let anna = "anna@acme.example";
    let raw = format!(
        "From: Anna <{anna}>\r\nTo: yritys@nonono.localhost\r\nSubject: ohje\r\n\
         Message-ID: <ohje@acme.example>\r\nDate: {}\r\n\r\nohje\r\n",
        nonono::domain::calendar::rfc5322(nonono::clock::now())
    );
    let signed = String::from_utf8(key.sign(raw.as_bytes(), "acme.example")).unwrap();
    let queued = postfix.hand(anna, "yritys@nonono.localhost", &signed).await;
    assert!(queued.starts_with("250"), "{queued}");
    for _ in 0..600 {
        if let Some(help) = app.outbound().into_iter().find(|m| m.to == anna) {
            assert_eq!(help.subject, "Yrityksen Acme Oy asetukset", "{}", help.text);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no answer from the desk; Postfix's log:\n{}", postfix.log());
}
