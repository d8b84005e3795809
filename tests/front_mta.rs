//! Behind a front MTA every session comes from the front MTA's address. A trusted relay names
//! the original client with Postfix's XFORWARD (or XCLIENT), so that the limits, SPF and logs
//! use the client, not the relay; from anyone else the commands are refused.

mod common;

use common::{Conversation, TestApp};
use nonono::config::Config;

/// The service with this machine as a trusted relay, and `adjust` applied.
async fn behind_a_relay(adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::start_with(|c| {
        c.smtp.trusted_relays = vec!["127.0.0.0/8".into()];
        adjust(c);
    })
    .await
}

/// One feedback sent through `c`, as the client `addr` (HELO `helo`) per XFORWARD; returns
/// the reply to its end of data.
async fn relayed(c: &mut Conversation, addr: &str, helo: &str, n: usize) -> String {
    let said = c
        .command(&format!(
            "XFORWARD NAME=[UNAVAILABLE] ADDR={addr} PROTO=ESMTP HELO={helo}"
        ))
        .await;
    assert!(said.starts_with("250 "), "{said}");
    feedback(c, n).await
}

/// Feedback `n` sent through `c`; the reply to its end of data, or to RCPT when that refused.
async fn feedback(c: &mut Conversation, n: usize) -> String {
    let from = format!("lahettaja{n}@example.fi");
    assert!(
        c.command(&format!("MAIL FROM:<{from}>"))
            .await
            .starts_with("250")
    );
    let rcpt = c.command("RCPT TO:<palaute@nonono.localhost>").await;
    if !rcpt.starts_with("250") {
        c.command("RSET").await;
        return rcpt;
    }
    assert!(c.command("DATA").await.starts_with("354"));
    c.command(&format!(
        "From: <{from}>\r\nSubject: [Elisa] Lasku {n}\r\nMessage-ID: <m{n}@example.fi>\r\n\r\nLasku tuli kahdesti.\r\n."
    ))
    .await
}

fn journal_id(reply: &str) -> i64 {
    reply
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("{reply}"))
}

#[tokio::test]
async fn a_trusted_relay_names_the_client_the_message_came_from() {
    let app = behind_a_relay(|_| {}).await;
    let mut c = app.conversation().await;
    let ehlo = c.command("EHLO mx-front.example.fi").await;
    assert!(ehlo.contains("250-XFORWARD NAME ADDR"), "{ehlo}");
    assert!(
        ehlo.ends_with("250 XCLIENT NAME ADDR PORT PROTO HELO LOGIN\r\n"),
        "{ehlo}"
    );
    let accepted = relayed(&mut c, "IPV6:2001:db8::55", "mail.example.fi", 1).await;
    assert!(accepted.starts_with("250 "), "{accepted}");
    app.wait_processed().await;
    let raw = app
        .store()
        .journal_raw(journal_id(&accepted))
        .unwrap()
        .unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.starts_with("Received: from mail.example.fi ([2001:db8::55])"),
        "{raw}"
    );

    // The next transaction is the relay's own again, unless named anew.
    assert!(
        c.command("MAIL FROM:<a@example.fi>")
            .await
            .starts_with("250")
    );
    let late = c.command("XFORWARD ADDR=192.0.2.9").await;
    assert!(late.starts_with("503 "), "inside a transaction: {late}");
}

#[tokio::test]
async fn xforward_from_an_untrusted_peer_is_refused_and_the_session_goes_on() {
    let app = TestApp::start().await;
    let mut c = app.conversation().await;
    let ehlo = c.command("EHLO client.example.fi").await;
    assert!(!ehlo.contains("XFORWARD"), "{ehlo}");
    let refused = c.command("XFORWARD ADDR=192.0.2.55 HELO=forged").await;
    assert!(refused.starts_with("550 5.7.0 "), "{refused}");
    let refused = c.command("XCLIENT ADDR=192.0.2.55").await;
    assert!(refused.starts_with("550 5.7.0 "), "{refused}");
    assert!(
        c.command("MAIL FROM:<a@example.fi>")
            .await
            .starts_with("250")
    );
    let rcpt = c.command("RCPT TO:<palaute@nonono.localhost>").await;
    assert!(rcpt.starts_with("250"), "{rcpt}");
}

/// 55 writers through one front MTA are 55 clients to the limits, not one: the per-address
/// limit counts each, and sessions are not capped per client for the relay.
#[tokio::test]
async fn limits_count_the_original_clients_not_the_relay() {
    let app = behind_a_relay(|c| {
        c.limits.new_threads_per_ip_per_hour = 3;
        c.smtp.max_sessions_per_client = 1;
    })
    .await;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        let mut c = app.conversation().await;
        assert!(
            c.command("EHLO mx-front.example.fi")
                .await
                .starts_with("250")
        );
        sessions.push(c);
    }
    for (n, c) in sessions.iter_mut().enumerate() {
        let reply = relayed(c, &format!("192.0.2.{}", 10 + n), "mail.example.fi", n).await;
        assert!(reply.starts_with("250 "), "client {n}: {reply}");
    }
    // One client past its own limit is refused, though the relay's address is the same.
    let c = &mut sessions[0];
    let mut replies = Vec::new();
    for n in 10..14 {
        replies.push(relayed(c, "198.51.100.7", "busy.example.fi", n).await);
    }
    assert!(
        replies[..3].iter().all(|r| r.starts_with("250 ")),
        "{replies:?}"
    );
    assert!(
        replies[3].starts_with("4") || replies[3].starts_with("5"),
        "{replies:?}"
    );
}

#[tokio::test]
async fn xclient_starts_the_session_over_as_the_named_client() {
    let app = behind_a_relay(|_| {}).await;
    let mut c = app.conversation().await;
    c.command("EHLO proxy.example.fi").await;
    let greeting = c
        .command("XCLIENT ADDR=192.0.2.77 HELO=client.example.fi")
        .await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(c.command("EHLO client.example.fi").await.starts_with("250"));
    let accepted = feedback(&mut c, 1).await;
    app.wait_processed().await;
    let raw = app
        .store()
        .journal_raw(journal_id(&accepted))
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&raw)
            .starts_with("Received: from client.example.fi ([192.0.2.77])"),
        "{}",
        String::from_utf8_lossy(&raw)
    );
}

#[tokio::test]
async fn a_bad_attribute_is_named() {
    let app = behind_a_relay(|_| {}).await;
    let mut c = app.conversation().await;
    c.command("EHLO mx-front.example.fi").await;
    let bad = c.command("XFORWARD ADDR=not-an-address").await;
    assert!(bad.starts_with("501 5.5.4 XFORWARD: ADDR"), "{bad}");
    let bad = c.command("XFORWARD LOGIN=x").await;
    assert!(
        bad.starts_with("501 5.5.4 XFORWARD: unknown attribute LOGIN"),
        "{bad}"
    );
    assert!(
        c.command("NOOP").await.starts_with("250"),
        "the session goes on"
    );
}
