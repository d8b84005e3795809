//! Feedback held for its writer: a first message from a new address (with
//! `require_confirmation`) and a text with personal data go public, and reach the company, only
//! after the writer replies; unconfirmed feedback is purged.

mod common;

use common::TestApp;

const CONSUMER: &str = "matti.meikalainen@example.fi";

async fn confirming_app() -> TestApp {
    TestApp::start_with(|c| c.trust.require_confirmation = true).await
}

#[tokio::test]
async fn a_new_address_confirms_by_replying_and_only_then_is_anything_forwarded() {
    let mut app = confirming_app().await;
    app.send_fixture(
        CONSUMER,
        "palaute@nonono.localhost",
        "new-feedback-tagged.eml",
    )
    .await;
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
    app.send_fixture(
        CONSUMER,
        "palaute@nonono.localhost",
        "new-feedback-tagged.eml",
    )
    .await;
    app.wait_outbound(1).await;
    app.wait_processed().await;
    app.stop().await;
    let mut store = nonono::store::Store::open(&nonono::app::store_path(&app.config)).unwrap();
    let now = nonono::clock::now();
    assert_eq!(
        store
            .purge_held(now - nonono::pipeline::scheduler::HELD_FOR)
            .unwrap(),
        0,
        "not yet"
    );
    assert_eq!(store.purge_held(now + 1).unwrap(), 1);
    assert!(
        store.journal_raw(1).unwrap().unwrap().is_empty(),
        "the writer's words are gone"
    );
    assert_eq!(store.queue_listing().unwrap().len(), 0);
    let db = rusqlite::Connection::open(nonono::app::store_path(&app.config)).unwrap();
    let mail_kept: i64 = db
        .query_row("SELECT count(*) FROM outbox_raw", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mail_kept, 0, "nor the mail that quoted them");
}

#[tokio::test]
async fn the_writer_erases_their_feedback_by_mail_and_only_the_writer_can() {
    let mut app = TestApp::filled().await;
    let out = app.outbound();
    let ack = out
        .iter()
        .find(|m| m.to == CONSUMER && m.text.contains("https://nonono.test/t/1"))
        .unwrap();
    let erase = ack
        .text
        .split_whitespace()
        .find(|w| w.starts_with("e+"))
        .expect("the acknowledgement says how to erase")
        .to_owned();
    let request = "From: eve@example.com\r\nSubject: poista\r\n\r\npoista\r\n";
    app.send("eve@example.com", &erase, request.as_bytes())
        .await
        .unwrap();
    app.wait_processed().await;
    assert!(
        app.get("/t/1").await.1.contains("sain marraskuun laskun"),
        "someone else cannot erase"
    );

    let request = format!("From: {CONSUMER}\r\nSubject: poista\r\n\r\npoista\r\n");
    app.send(CONSUMER, &erase, request.as_bytes())
        .await
        .unwrap();
    app.wait_processed().await;
    let (_, page) = app.get("/t/1").await;
    assert!(!page.contains("sain marraskuun laskun"), "text gone");
    assert!(!page.contains("Lasku tuli kahdesti"), "title gone");
    assert!(
        page.contains("Kirjoittaja poisti viestinsä"),
        "tombstone:\n{page}"
    );
    assert!(page.contains("Palautamme"), "the company's answer stays");
    let store = app.store();
    assert!(
        store.journal_raw(1).unwrap().unwrap().is_empty(),
        "raw mail purged"
    );
    assert!(store.search("marraskuun", 5, 0).unwrap().is_empty());
    assert!(
        store.search("kahdesti", 5, 0).unwrap().is_empty(),
        "the old title finds nothing, not even through the company's answer"
    );
    assert_eq!(
        store.search("palautamme", 5, 0).unwrap().len(),
        1,
        "the answer is still found by its own words"
    );
    let trail = store.audit_trail().unwrap();
    assert_eq!(
        (trail[0].actor.as_str(), trail[0].action.as_str()),
        ("writer", "erase")
    );
    app.stop().await;
}

#[tokio::test]
async fn the_operator_hides_with_a_public_reason_and_a_tombstone() {
    let mut app = TestApp::filled().await;
    app.stop().await;
    let config = app.cli_config();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nonono"))
            .args(args)
            .args(["--config", config.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let refused = run(&["moderate", "post", "4", "--reason", " "]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--reason"));
    assert!(
        run(&["moderate", "post", "4", "--reason", "Uhkaava sisältö"])
            .status
            .success()
    );
    assert!(
        run(&["moderate", "thread", "2", "--reason", "Väärä yritys"])
            .status
            .success()
    );
    let audit = String::from_utf8_lossy(&run(&["moderate", "audit"]).stdout).into_owned();
    assert!(
        audit.contains("hide post")
            && audit.contains("Uhkaava sisältö")
            && audit.contains("hide thread"),
        "{audit}"
    );

    app.restart(|_| {}).await;
    let (_, hostile) = app.get("/t/3").await;
    assert!(
        hostile.contains("Ylläpito poisti tämän") && hostile.contains("Syy: Uhkaava sisältö"),
        "{hostile}"
    );
    assert!(!hostile.contains("Äänestyslippu"));
    let (status, hidden) = app.get("/t/2").await;
    assert_eq!(status, 200, "a tombstone, not a 404");
    assert!(hidden.contains("Poistettu ketju") && hidden.contains("Väärä yritys"));
    assert!(!hidden.contains("Kotiverkko"));
    let (_, company) = app.get("/p/elisa").await;
    assert!(
        !company.contains("/t/2\""),
        "hidden threads leave the lists"
    );
    let export = app.get("/export.jsonl").await.1;
    assert!(export.contains("\"removed\":\"operator\"") && !export.contains("Kotiverkko"));
    app.stop().await;

    // A reprocess after a parser fix leaves what was hidden hidden: its text stays out of the
    // store (it once came back from the raw mail).
    assert!(run(&["reprocess"]).status.success());
    let hidden_text = |app: &TestApp| app.store().posts(2).unwrap()[0].body.clone();
    assert_eq!(hidden_text(&app), "");

    // Issue 21: a moderation is undone, with a reason the audit trail keeps; the text comes
    // back from the raw mail, in the page and in search.
    let undo = run(&[
        "moderate",
        "restore",
        "thread",
        "2",
        "--reason",
        "Väärin poistettu",
    ]);
    assert!(
        undo.status.success(),
        "{}",
        String::from_utf8_lossy(&undo.stderr)
    );
    assert!(
        !run(&[
            "moderate",
            "restore",
            "thread",
            "2",
            "--reason",
            "uudestaan"
        ])
        .status
        .success()
    );
    let audit = String::from_utf8_lossy(&run(&["moderate", "audit"]).stdout).into_owned();
    assert!(
        audit.contains("restore thread") && audit.contains("Väärin poistettu"),
        "{audit}"
    );
    app.restart(|_| {}).await;
    let (_, shown) = app.get("/t/2").await;
    assert!(
        shown.contains("Kotiverkko") && !shown.contains("Poistettu ketju"),
        "{shown}"
    );
    assert_eq!(app.store().search("kotiverkko", 5, 0).unwrap().len(), 1);
    app.stop().await;
}

/// A new address is asked to confirm once a day however often it is written (anyone can
/// write it); when the writer confirms one text, each other text of theirs that waited is
/// asked about at once.
#[tokio::test]
async fn a_writers_other_waiting_texts_are_asked_about_once_they_confirm_one() {
    let app = TestApp::start_with(|c| {
        common::no_limits(c);
        c.trust.require_confirmation = true;
    })
    .await;
    for subject in ["[Elisa] Ensimmäinen", "[VR] Toinen"] {
        let raw = format!("From: {CONSUMER}\r\nSubject: {subject}\r\n\r\nHei.\r\n");
        app.send(CONSUMER, "palaute@nonono.localhost", raw.as_bytes())
            .await
            .unwrap();
    }
    app.wait_delivered().await;
    let requests = app.outbound();
    assert_eq!(requests.len(), 1, "one request a day: {requests:#?}");
    let yes = format!("From: {CONSUMER}\r\nSubject: Re\r\n\r\nKyllä.\r\n");
    app.send(CONSUMER, &requests[0].from, yes.as_bytes())
        .await
        .unwrap();
    app.wait_delivered().await;
    let asked: Vec<_> = app
        .outbound()
        .into_iter()
        .filter(|m| m.to == CONSUMER && m.from.starts_with("c+"))
        .collect();
    assert_eq!(asked.len(), 2, "the second text is asked about now");
    assert!(asked[1].subject.contains("Toinen"), "{}", asked[1].subject);
    assert_ne!(asked[0].from, asked[1].from);
}
