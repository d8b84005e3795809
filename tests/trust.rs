//! Feedback held for its writer: a first message from a new address (with
//! `require_confirmation`) and a text with personal data go public, and reach the company, only
//! after the writer replies; unconfirmed feedback is purged.

mod common;

use common::{TestApp, fixture};

const CONSUMER: &str = "matti.meikalainen@example.fi";

async fn confirming_app() -> TestApp {
    TestApp::start_with(|c| c.trust.require_confirmation = true).await
}

#[tokio::test]
async fn a_new_address_confirms_by_replying_and_only_then_is_anything_forwarded() {
    let mut app = confirming_app().await;
    app.send(
        CONSUMER,
        "palaute@nonono.localhost",
        &fixture("new-feedback-tagged.eml", &[]),
    )
    .await
    .unwrap();
    let out = app.wait_outbound(1).await;
    let request = &out[0];
    assert_eq!(request.to, CONSUMER);
    assert!(request.from.starts_with("c+"), "{}", request.from);
    assert!(
        request.text.contains("Vahvista se vastaamalla"),
        "{}",
        request.text
    );
    assert!(request.text.contains("7 päivän"));
    app.wait_processed().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        app.outbound().len(),
        1,
        "nothing forwarded before confirmation"
    );
    assert_eq!(app.get("/t/1").await.0, 404, "not public");
    assert!(!app.get("/").await.1.contains(r#"href="/t/1""#));
    assert!(app.get("/export.jsonl").await.1.is_empty());
    assert!(!app.get("/search?q=laskun").await.1.contains("/t/1"));

    // Someone else cannot confirm it.
    let other = "From: eve@example.com\r\nSubject: Re\r\n\r\nkyllä\r\n";
    app.send("eve@example.com", &request.from, other.as_bytes())
        .await
        .unwrap();
    app.wait_processed().await;
    assert_eq!(app.get("/t/1").await.0, 404);

    let yes = format!(
        "From: {CONSUMER}\r\nSubject: Re: {}\r\n\r\nKyllä, minä lähetin.\r\n",
        request.subject
    );
    app.send(CONSUMER, &request.from, yes.as_bytes())
        .await
        .unwrap();
    let out = app.wait_outbound(3).await;
    assert!(
        out.iter().any(|m| m.to == "laskutus@elisa.example"),
        "forwarded after confirmation"
    );
    let ack = out
        .iter()
        .find(|m| m.to == CONSUMER && m.text.contains("https://nonono.test/t/1"))
        .unwrap();
    assert!(ack.from.starts_with("t+"));
    assert_eq!(app.get("/t/1").await.0, 200);
    assert!(
        app.get("/search?q=laskun").await.1.contains("/t/1"),
        "searchable once public"
    );

    // A confirmed writer is not asked again.
    let again =
        "From: matti.meikalainen@example.fi\r\nSubject: [VR] Juna myöhässä\r\n\r\nTaas.\r\n";
    app.send(CONSUMER, "palaute@nonono.localhost", again.as_bytes())
        .await
        .unwrap();
    let out = app.wait_outbound(5).await;
    assert!(out.iter().any(|m| m.to == "asiakaspalvelu@vr.example"));
    app.stop().await;
}

#[tokio::test]
async fn personal_data_is_held_and_named_until_the_writer_says_publish() {
    let mut app = TestApp::start().await;
    let raw = "From: Liisa <liisa@example.fi>\r\nSubject: [Elisa] Laskutus\r\n\r\nHenkilötunnukseni on 131052-308T ja tilini FI21 1234 5600 0007 85.\r\n";
    app.send(
        "liisa@example.fi",
        "palaute@nonono.localhost",
        raw.as_bytes(),
    )
    .await
    .unwrap();
    let out = app.wait_outbound(1).await;
    let request = &out[0];
    assert!(
        request.text.contains("henkilötunnus") && request.text.contains("tilinumero (IBAN)"),
        "{}",
        request.text
    );
    assert_eq!(app.get("/t/1").await.0, 404);
    let yes = "From: liisa@example.fi\r\nSubject: Re\r\n\r\nJulkaise.\r\n";
    app.send("liisa@example.fi", &request.from, yes.as_bytes())
        .await
        .unwrap();
    app.wait_outbound(3).await;
    assert_eq!(app.get("/t/1").await.0, 200);
    app.stop().await;
}

#[tokio::test]
async fn unconfirmed_feedback_is_purged_after_seven_days() {
    let mut app = confirming_app().await;
    app.send(
        CONSUMER,
        "palaute@nonono.localhost",
        &fixture("new-feedback-tagged.eml", &[]),
    )
    .await
    .unwrap();
    app.wait_outbound(1).await;
    app.wait_processed().await;
    app.stop().await;
    let mut store = nonono::store::Store::open(&nonono::app::store_path(&app.config)).unwrap();
    let now = nonono::clock::now();
    assert_eq!(
        store.purge_held(now - nonono::app::HELD_FOR).unwrap(),
        0,
        "not yet"
    );
    assert_eq!(store.purge_held(now + 1).unwrap(), 1);
    assert!(
        store.journal_raw(1).unwrap().unwrap().is_empty(),
        "the writer's words are gone"
    );
    assert_eq!(store.queue_listing().unwrap().len(), 0);
}
