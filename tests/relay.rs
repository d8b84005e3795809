//! Outbound delivery through the `smtp` transport to a real SMTP server: delivery, temporary
//! failures retried across a restart, permanent failures recorded.

mod common;

use common::sink::Sink;
use common::{Conversation, TestApp};
use nonono::config::{Config, Transport};
use nonono::relay::{Delivery, Envelope, Smarthost};

async fn app_with_smarthost(sink: &Sink) -> TestApp {
    app_with_smarthost_and(sink, |_| {}).await
}

/// The service delivering to `sink`, with more of its config adjusted by `adjust`.
async fn app_with_smarthost_and(sink: &Sink, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let port = sink.port;
    TestApp::start_with(move |c| {
        c.outbound.transport = Transport::Smtp;
        c.outbound.smtp_host = "127.0.0.1".into();
        c.outbound.smtp_port = port;
        adjust(c);
    })
    .await
}

/// What an operator does once the smarthost is back: restart the service with every waiting
/// message due at once. Returns how many were made due.
async fn restart_and_flush(app: &mut TestApp) -> usize {
    app.stop().await;
    let store = nonono::store::Store::open(&nonono::app::store_path(&app.config)).unwrap();
    let flushed = store.outbound_retry_now(nonono::clock::now()).unwrap();
    drop(store);
    app.restart(|_| {}).await;
    flushed
}

#[tokio::test]
async fn mail_is_delivered_to_the_smarthost_with_our_envelope() {
    let sink = Sink::start("250 2.0.0 OK").await;
    let mut app = app_with_smarthost(&sink).await;
    app.send_feedback().await;
    let got = sink.wait(2).await;
    let forward = got
        .iter()
        .find(|m| m.rcpt_to == ["laskutus@elisa.example"])
        .expect("forward");
    assert!(
        forward.mail_from.starts_with("b+") && forward.mail_from.ends_with("@nonono.localhost"),
        "a bounce address of its own: {}",
        forward.mail_from
    );
    assert!(forward.data.contains("via nonono"));
    // Issue 22: feedback to a company asks for delivery reports, of success too, under an
    // envelope id of its own (RFC 3461); other mail does not.
    assert!(
        forward
            .mail_parameters
            .starts_with("RET=HDRS ENVID=nonono-"),
        "{}",
        forward.mail_parameters
    );
    assert_eq!(
        forward.rcpt_parameters,
        "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;laskutus@elisa.example"
    );
    let ack = got
        .iter()
        .find(|m| m.rcpt_to == ["matti.meikalainen@example.fi"])
        .expect("acknowledgement");
    assert_eq!(
        (ack.mail_parameters.as_str(), ack.rcpt_parameters.as_str()),
        ("", "")
    );
    app.wait_queue(|rows| rows.is_empty()).await;
    app.stop().await;
}

/// Issue 22: a smarthost without DSN (RFC 3461) is asked for no delivery reports.
#[tokio::test]
async fn a_smarthost_without_dsn_is_asked_for_no_reports() {
    let sink = Sink::start("250 2.0.0 OK").await;
    sink.state
        .no_dsn
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let mut app = app_with_smarthost(&sink).await;
    app.send_feedback().await;
    let got = sink.wait(2).await;
    assert!(got.iter().all(|m| m.rcpt_parameters.is_empty()), "{got:?}");
    app.stop().await;
}

fn envelope(to: &str) -> Envelope {
    Envelope::new("b+test@nonono.localhost", to).unwrap()
}

const LETTER: &[u8] = b"From: <b+test@nonono.localhost>\r\nSubject: hei\r\n\r\nKiitos.\r\n";

/// Delivers `n` letters one after another through one smarthost client: all must go out.
async fn deliver_in_turn(sink: &Sink, n: usize) {
    let smarthost = Smarthost::new("127.0.0.1", sink.port, "nonono.localhost", 4);
    for i in 0..n {
        let to = format!("vastaanottaja{i}@example.fi");
        assert_eq!(
            smarthost.deliver(&envelope(&to), LETTER).await,
            Delivery::Sent
        );
    }
    assert_eq!(sink.received().len(), n);
}

#[tokio::test]
async fn deliveries_share_one_connection_to_the_smarthost() {
    let sink = Sink::start("250 2.0.0 OK").await;
    deliver_in_turn(&sink, 20).await;
    assert_eq!(sink.connections(), 1, "one connection, reused");
}

#[tokio::test]
async fn a_smarthost_that_does_not_pipeline_gets_one_command_at_a_time() {
    let sink = Sink::start("250 2.0.0 OK").await;
    sink.set_pipelining(false);
    deliver_in_turn(&sink, 3).await;
    assert_eq!(sink.connections(), 1);
}

#[tokio::test]
async fn a_connection_the_smarthost_closed_is_replaced_without_losing_the_message() {
    let sink = Sink::start("250 2.0.0 OK").await;
    sink.set_hang_up_after_message(true);
    deliver_in_turn(&sink, 5).await;
    assert_eq!(sink.connections(), 5, "a new connection for each message");
}

#[tokio::test]
async fn smarthost_answers_decide_between_retry_and_failure() {
    let sink = Sink::start("451 4.3.0 Try again later").await;
    let smarthost = Smarthost::new("127.0.0.1", sink.port, "nonono.localhost", 4);
    let to = envelope("matti@example.fi");
    assert!(
        matches!(smarthost.deliver(&to, LETTER).await, Delivery::Temporary(e) if e.contains("Try again later"))
    );
    sink.set_reply("550 5.1.1 No such user");
    assert!(
        matches!(smarthost.deliver(&to, LETTER).await, Delivery::Permanent(e) if e.contains("No such user"))
    );
}

#[tokio::test]
async fn temporary_failures_wait_and_are_delivered_after_a_restart() {
    let sink = Sink::start("451 4.3.0 Try again later").await;
    let mut app = app_with_smarthost(&sink).await;
    app.send_feedback().await;
    let rows = app
        .wait_queue(|rows| rows.len() == 2 && rows.iter().all(|r| r.attempts == 1))
        .await;
    for r in &rows {
        assert_eq!(r.state, "pending");
        assert!(
            r.last_error.as_deref().unwrap_or("").contains("451"),
            "{r:?}"
        );
        assert!(
            r.next_attempt_at > nonono::clock::now(),
            "backoff, not a hot loop"
        );
    }
    // The smarthost recovers; the operator restarts the service and flushes the queue.
    sink.set_reply("250 2.0.0 OK");
    assert_eq!(restart_and_flush(&mut app).await, 2);
    sink.wait(2).await;
    app.wait_queue(|rows| rows.is_empty()).await;
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_refusal_is_recorded_on_the_thread_and_not_retried() {
    let sink = Sink::start("550 5.1.1 No such user").await;
    let mut app = app_with_smarthost_and(&sink, |c| {
        c.operator_address = Some("operator@example.org".into());
    })
    .await;
    app.send_feedback().await;
    // The forward and the acknowledgement fail; each failure queues a notice to the operator,
    // which fails at the same smarthost and is only logged: four rows, no loop.
    let rows = app
        .wait_queue(|rows| rows.len() == 4 && rows.iter().all(|r| r.state == "failed"))
        .await;
    assert!(
        rows.iter()
            .all(|r| r.attempts == 1 && r.last_error.as_deref().unwrap().contains("550"))
    );
    assert_eq!(rows.iter().filter(|r| r.purpose == "operator").count(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.store().queue_listing().unwrap().len(),
        4,
        "no notice about a notice"
    );
    let (_, page) = app.get("/t/1").await;
    // Issue 21: two bounces, two different lines: which mail, to whom.
    assert!(
        page.contains("Palautetta ei voitu toimittaa yritykselle")
            && page.contains("Viestiä ei voitu toimittaa kirjoittajalle"),
        "{page}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_smarthost_is_a_temporary_failure() {
    // Bind and drop to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut app = TestApp::start_with(move |c| {
        c.outbound.transport = Transport::Smtp;
        c.outbound.smtp_port = port;
    })
    .await;
    app.send_feedback().await;
    let rows = app
        .wait_queue(|rows| rows.len() == 2 && rows.iter().all(|r| r.attempts == 1))
        .await;
    assert!(rows.iter().all(|r| r.state == "pending"));
    app.stop().await;
}

#[tokio::test]
async fn a_round_larger_than_the_parallel_deliveries_is_recorded_whole() {
    // 12 messages wait for the smarthost: 24 rows, due at once after the flush, more than the
    // 16 the relay delivers at a time. Each must go out once and be recorded as sent.
    let sink = Sink::start("451 4.3.0 Try again later").await;
    let mut app = app_with_smarthost_and(&sink, common::no_limits).await;
    let letter = String::from_utf8(common::fixture("new-feedback-tagged.eml", &[])).unwrap();
    for i in 0..12 {
        // Each from a writer of its own: one writer's flood would be held back.
        let writer = format!("kirjoittaja{i}@example.fi");
        let raw = letter.replace("matti.meikalainen@example.fi", &writer);
        app.send(&writer, "palaute@nonono.localhost", raw.as_bytes())
            .await
            .expect("250");
    }
    app.wait_queue(|rows| rows.len() == 24 && rows.iter().all(|r| r.attempts == 1))
        .await;
    sink.set_reply("250 2.0.0 OK");
    assert_eq!(restart_and_flush(&mut app).await, 24);
    app.wait_queue(|rows| rows.is_empty()).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.received().len(), 24, "each row delivered once");
    app.stop().await;
}

/// A writer whose address has letters beyond ASCII (RFC 6531).
const JYRKI: &str = "jyrki.mäkelä@esimerkki.fi";

/// Jyrki's feedback as his client writes it: UTF-8 in the header, as RFC 6532 allows.
fn feedback_from_jyrki() -> String {
    format!(
        "From: Jyrki Mäkelä <{JYRKI}>\r\nTo: palaute@nonono.localhost\r\nSubject: [Elisa] Lasku tuli kahdesti\r\nMessage-ID: <jyrki-1@esimerkki.fi>\r\nDate: Mon, 23 Nov 2026 20:00:00 +0200\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nHei,\r\n\r\nmarraskuun lasku tuli kahdesti, ja molemmat veloitettiin tililtäni.\r\n\r\nJyrki\r\n"
    )
}

/// Issue 18, case 4: `MAIL FROM:<jyrki.mäkelä@…> SMTPUTF8` got 250, then the pipeline could not
/// write the address in a header and the feedback vanished: no thread, no acknowledgement.
#[tokio::test]
async fn feedback_from_an_internationalised_address_opens_a_thread_and_is_acknowledged() {
    let sink = Sink::start("250 2.0.0 OK").await;
    let mut app = app_with_smarthost(&sink).await;
    let mut c = Conversation::connect(app.smtp_port()).await;
    assert!(
        c.command("EHLO mail.esimerkki.fi")
            .await
            .contains("SMTPUTF8")
    );
    let without = c.command(&format!("MAIL FROM:<{JYRKI}>")).await;
    assert!(
        without.starts_with("553 5.6.7"),
        "no SMTPUTF8 asked: {without}"
    );
    let with = c.command(&format!("MAIL FROM:<{JYRKI}> SMTPUTF8")).await;
    assert!(with.starts_with("250"), "{with}");
    assert!(
        c.command("RCPT TO:<palaute@nonono.localhost>")
            .await
            .starts_with("250")
    );
    assert!(c.command("DATA").await.starts_with("354"));
    let accepted = c.command(&format!("{}.", feedback_from_jyrki())).await;
    assert!(accepted.starts_with("250"), "{accepted}");
    c.command("QUIT").await;

    let got = sink.wait(2).await;
    let forward = got
        .iter()
        .find(|m| m.rcpt_to == ["laskutus@elisa.example"])
        .expect("the feedback is forwarded to the company");
    assert!(
        !forward.data.contains("jyrki.m") && !forward.data.contains("esimerkki.fi>"),
        "the writer's address is never shown to the company:\n{}",
        forward.data
    );
    let ack = got
        .iter()
        .find(|m| m.rcpt_to == [JYRKI])
        .expect("the writer is acknowledged at his own address");
    assert!(ack.smtputf8, "an address beyond ASCII goes with SMTPUTF8");
    assert!(ack.data.contains(&format!("To: {JYRKI}")), "{}", ack.data);
    let (_, front) = app.get("/").await;
    assert!(
        front.contains("Lasku tuli kahdesti"),
        "the thread is public"
    );
    assert!(!front.contains("jyrki.m"));
    app.wait_queue(|rows| rows.is_empty()).await;
    app.stop().await;
}

/// Issue 18, case 4: where the next hop cannot take such an address, the operator learns why
/// from the failed delivery, and the next writer from SMTP, before anything is accepted.
#[tokio::test]
async fn a_smarthost_without_smtputf8_is_named_to_the_operator_and_the_writer() {
    let sink = Sink::start("250 2.0.0 OK").await;
    sink.set_smtputf8(false);
    let mut app = app_with_smarthost_and(&sink, |c| {
        c.operator_address = Some("operator@example.org".into());
        c.providers.edit(|ps| {
            let elisa = ps.iter_mut().find(|p| p.slug == "elisa").unwrap();
            for rule in &mut elisa.rules {
                rule.route = "laskutus.åsa@elisa.example".into();
            }
        });
    })
    .await;
    app.send_feedback().await;
    let notice = sink.wait(2).await;
    let notice = notice
        .iter()
        .find(|m| m.rcpt_to == ["operator@example.org"])
        .expect("the operator is told");
    assert!(notice.data.contains("SMTPUTF8"), "{}", notice.data);

    let mut c = Conversation::connect(app.smtp_port()).await;
    c.command("EHLO mail.esimerkki.fi").await;
    let refused = c.command(&format!("MAIL FROM:<{JYRKI}> SMTPUTF8")).await;
    assert!(refused.starts_with("553 5.6.7"), "{refused}");
    assert!(
        refused.contains("ASCII"),
        "a sentence the writer can act on: {refused}"
    );
    assert!(
        c.command("MAIL FROM:<jyrki@esimerkki.fi>")
            .await
            .starts_with("250"),
        "an ASCII address still gets through"
    );
    app.stop().await;
}

/// Found from outside: an envelope sender with an invisible or direction character, or bytes
/// that are not UTF-8, got 250 and then sat in the holding pen with no word to anyone. It is
/// refused at MAIL FROM, with a sentence, before anything is accepted.
#[tokio::test]
async fn a_sender_address_we_could_not_write_back_to_is_refused_at_mail_from() {
    let sink = Sink::start("250 2.0.0 OK").await;
    let mut app = app_with_smarthost(&sink).await;
    let mut c = Conversation::connect(app.smtp_port()).await;
    c.command("EHLO mail.esimerkki.fi").await;
    for address in [
        "jyrki\u{200B}@esimerkki.fi",
        "jyrki\u{202E}@esimerkki.fi",
        "jyrki\u{85}@esimerkki.fi",
    ] {
        let reply = c.command(&format!("MAIL FROM:<{address}> SMTPUTF8")).await;
        assert!(reply.starts_with("553 5.1.7"), "{address:?}: {reply}");
    }
    c.write(b"MAIL FROM:<jyrki\xff\xfe@esimerkki.fi> SMTPUTF8\r\n")
        .await;
    let reply = c.reply().await;
    assert!(reply.starts_with('5'), "bytes that are no UTF-8: {reply}");
    assert!(
        c.command(&format!("MAIL FROM:<{JYRKI}> SMTPUTF8"))
            .await
            .starts_with("250"),
        "a writable address beyond ASCII is still taken"
    );
    app.stop().await;
}
