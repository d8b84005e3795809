//! The official badge cannot be forged: with `verify_sender_auth`, an answer from a
//! representative's address counts only when its From domain authenticates (DKIM or SPF aligned,
//! as DMARC evaluates). Messages are signed for real with mail-auth's signer; DNS is pinned in the
//! config, so everything runs offline. And what we send is DKIM-signed with our own key.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::signing::Key;
use common::{Outbound, TestApp, fixture};
use nonono::config::TrustConfig;
use nonono::mail::Envelope;
use nonono::pipeline::auth::Authenticator;

const OPERATOR: &str = "operator@nonono.test";

struct World {
    app: TestApp,
    elisa: Key,
    other: Key,
}

/// Elisa signs with `s1`, publishes SPF that no test client matches and DMARC p=reject; its
/// bulk-mail subdomain has SPF for this machine. `other.example` has a key of its own.
async fn world() -> World {
    let (elisa, other) = (Key::new(), Key::new());
    let records: BTreeMap<String, String> = [
        ("s1._domainkey.elisa.example", elisa.record.as_str()),
        ("elisa.example", "v=spf1 ip4:192.0.2.1 -all"),
        ("mail.elisa.example", "v=spf1 ip4:127.0.0.1 -all"),
        ("_dmarc.elisa.example", "v=DMARC1; p=reject"),
        ("s1._domainkey.other.example", other.record.as_str()),
        ("other.example", "v=spf1 ip4:127.0.0.1 -all"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    let app = TestApp::start_with(|c| {
        c.trust.verify_sender_auth = true;
        c.trust.dns_records = records;
        c.operator_address = Some(OPERATOR.into());
    })
    .await;
    World { app, elisa, other }
}

/// Starts a thread, sends the company's answer as `raw` from `mail_from`, and returns the kind
/// and the evidence line of the published answer, and the mail the operator got.
async fn answer(
    w: &World,
    mail_from: &str,
    make: impl FnOnce(Vec<u8>) -> Vec<u8>,
) -> (String, String, Vec<Outbound>) {
    let before = w.app.outbound().len();
    let (forward, _) = w.app.new_thread().await;
    let raw = fixture(
        "provider-reply-official.eml",
        &[("to", &forward.from), ("in_reply_to", &forward.message_id)],
    );
    w.app
        .send(mail_from, &forward.from, &make(raw))
        .await
        .unwrap();
    w.app.wait_delivered().await;
    let store = w.app.store();
    let thread = store.latest_threads(1).unwrap().remove(0);
    let posts = store.posts(thread.id).unwrap();
    let post = posts.last().unwrap();
    let (_, page) = w.app.get(&format!("/t/{}", thread.id)).await;
    // The plain sentence, then the technical details behind a click, as text.
    let evidence = page
        .split(r#"<div class="evidence" data-evidence="auth">"#)
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .unwrap_or_default()
        .replace("<details><summary>", " [")
        .replace("</summary>", ": ")
        .replace("</details>", "]")
        .replace("<p>", "")
        .replace("</p>", "")
        .replace("&#183;", "·");
    let operator = w.app.outbound()[before..]
        .iter()
        .filter(|m| m.to == OPERATOR)
        .cloned()
        .collect();
    (post.kind.as_str().to_owned(), evidence, operator)
}

#[tokio::test]
async fn a_signature_of_the_company_makes_the_answer_official_with_its_evidence() {
    let w = world().await;
    let (kind, evidence, operator) = answer(&w, "anna@elisa.example", |raw| {
        w.elisa.sign(&raw, "elisa.example")
    })
    .await;
    assert_eq!(kind, "official");
    assert_eq!(
        evidence,
        "Elisa allekirjoitti tämän viestin sähköisesti (DKIM). [Tekniset tiedot: DKIM: \
         kelvollinen allekirjoitus, elisa.example · Todennettu verkkotunnus: elisa.example \
         (DKIM) · DMARC: pass]"
    );
    assert!(operator.is_empty());
    let figures = w
        .app
        .store()
        .figures("elisa", nonono::clock::now())
        .unwrap();
    assert_eq!(figures.answered, 1);
}

#[tokio::test]
async fn spf_of_an_aligned_subdomain_is_enough_without_a_signature() {
    let w = world().await;
    let (kind, evidence, _) = answer(&w, "bounces@mail.elisa.example", |raw| raw).await;
    assert_eq!(kind, "official");
    assert_eq!(
        evidence,
        "Viesti lähetettiin palvelimelta, jonka Elisa on valtuuttanut lähettämään postiaan \
         (SPF). [Tekniset tiedot: DKIM: ei allekirjoitusta · Todennettu verkkotunnus: \
         mail.elisa.example (SPF) · DMARC: pass]"
    );
}

#[tokio::test]
async fn a_forged_from_is_unverified_uncounted_and_reported() {
    let w = world().await;
    // SPF passes, but for the forger's own domain, which does not align with From.
    let (kind, evidence, operator) = answer(&w, "x@other.example", |raw| raw).await;
    assert_eq!(kind, "unverified");
    assert_eq!(
        evidence,
        "Emme voineet varmistaa, että viesti tuli yritykseltä Elisa. Viestissä ei ollut \
         yrityksen sähköistä allekirjoitusta, eikä se tullut yrityksen postipalvelimelta. \
         [Tekniset tiedot: DKIM: ei allekirjoitusta · Todennettu verkkotunnus: ei mikään · \
         DMARC: fail]"
    );
    assert_eq!(operator.len(), 1, "the operator is told");
    assert!(operator[0].subject.contains("Vahvistamaton vastaus: Elisa"));
    assert!(
        operator[0]
            .flat_text()
            .contains("no aligned dkim or spf pass (dkim: no signature), dmarc=fail"),
        "{}",
        operator[0].text
    );
    let figures = w
        .app
        .store()
        .figures("elisa", nonono::clock::now())
        .unwrap();
    assert_eq!(
        figures.answered, 0,
        "never counted in the company's figures"
    );
}

/// The attack of issue 17: the forger's own From first (SPF passes for it), a line that is
/// not a field, then the company's From. Sender authentication read the first, the pipeline
/// the second, and the answer was published as official.
#[tokio::test]
async fn a_second_from_behind_a_broken_header_line_speaks_for_no_one() {
    let w = world().await;
    for head in [
        "From: Mallory <x@other.example>\r\nthis line is not a field\r\n",
        "From: Mallory <x@other.example>\r\n",
    ] {
        let (kind, _, _) = answer(&w, "x@other.example", |raw| {
            let mut forged = head.as_bytes().to_vec();
            forged.extend_from_slice(&raw);
            forged
        })
        .await;
        assert_eq!(kind, "consumer", "{head:?}: no answer is published");
        let store = w.app.store();
        let thread = store.latest_threads(1).unwrap().remove(0);
        let (_, page) = w.app.get(&format!("/t/{}", thread.id)).await;
        assert!(!page.contains(r#"data-kind="official""#), "{page}");
        assert!(!page.contains(r#"data-kind="unverified""#), "{page}");
    }
    let figures = w
        .app
        .store()
        .figures("elisa", nonono::clock::now())
        .unwrap();
    assert_eq!(figures.answered, 0);
}

/// A signed answer with its words changed after signing: the signature no longer verifies.
fn changed_on_the_way(signed: Vec<u8>) -> Vec<u8> {
    String::from_utf8(signed)
        .unwrap()
        .replace("toisen veloituksen", "kaikki veloitukset")
        .into_bytes()
}

/// Helper-11: a signature that leaves From out of what it signs (RFC 6376 requires it)
/// counted as the company's.
#[tokio::test]
async fn a_signature_that_does_not_cover_from_proves_nothing() {
    let w = world().await;
    let (kind, evidence, _) = answer(&w, "anna@elisa.example", |raw| {
        w.elisa
            .sign_headers(&raw, "elisa.example", &["To", "Subject", "Date"])
    })
    .await;
    assert_eq!(kind, "unverified", "{evidence}");
}

#[tokio::test]
async fn a_broken_signature_is_unverified() {
    let w = world().await;
    let (kind, evidence, operator) = answer(&w, "anna@elisa.example", |raw| {
        changed_on_the_way(w.elisa.sign(&raw, "elisa.example"))
    })
    .await;
    assert_eq!(kind, "unverified");
    assert!(
        evidence.starts_with(
            "Emme voineet varmistaa, että viesti tuli yritykseltä Elisa. Yrityksen sähköinen \
             allekirjoitus ei täsmää viestiin: sitä on muutettu allekirjoittamisen jälkeen."
        ),
        "{evidence}"
    );
    assert!(evidence.contains("DKIM: allekirjoitus ei täsmää, elisa.example"));
    assert_eq!(operator.len(), 1);
    assert!(
        operator[0]
            .flat_text()
            .contains("the signature of elisa.example does not verify"),
        "{}",
        operator[0].text
    );
}

#[tokio::test]
async fn a_valid_signature_of_another_domain_is_unverified() {
    let w = world().await;
    let (kind, evidence, _) = answer(&w, "anna@elisa.example", |raw| {
        w.other.sign(&raw, "other.example")
    })
    .await;
    assert_eq!(kind, "unverified");
    assert!(
        evidence.contains(
            "Viestin oli allekirjoittanut other.example, joka ei ole yrityksen verkkotunnus."
        ),
        "{evidence}"
    );
    assert!(evidence.ends_with("DMARC: fail]"), "{evidence}");
}

/// Found by breaking it (issue 21): another domain's signature that does not verify read as
/// "the company's signature does not match", and a `d=` that is no domain went on the page.
#[tokio::test]
async fn a_broken_signature_of_another_domain_is_no_signature_of_the_company() {
    let w = world().await;
    let (kind, evidence, _) = answer(&w, "anna@elisa.example", |raw| {
        changed_on_the_way(w.other.sign(&raw, "other.example"))
    })
    .await;
    assert_eq!(kind, "unverified");
    assert!(
        evidence.contains("Viestissä ei ollut yrityksen sähköistä allekirjoitusta"),
        "{evidence}"
    );
    let (_, evidence, _) = answer(&w, "anna@elisa.example", |raw| {
        let mut forged = "DKIM-Signature: v=1; a=rsa-sha256; d=elisa.example\u{202e}<b>x</b>; \
                          s=s1; h=from; bh=AAAA; b=AAAA\r\n"
            .as_bytes()
            .to_vec();
        forged.extend_from_slice(&raw);
        forged
    })
    .await;
    assert!(
        !evidence.contains('\u{202e}') && !evidence.contains("&lt;b"),
        "{evidence}"
    );
}

#[tokio::test]
async fn dkim_keygen_prints_the_record_and_everything_we_send_is_signed_with_it() {
    let app = TestApp::start().await;
    let config = app.cli_config();
    let out = Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(["dkim-keygen", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let line = printed
        .lines()
        .find(|l| l.starts_with("nonono._domainkey.nonono.localhost. IN TXT "))
        .unwrap_or_else(|| panic!("{printed}"));
    // Zone files take at most 255 characters a string: the record comes in pieces.
    let record: String = line
        .split('"')
        .skip(1)
        .step_by(2)
        .inspect(|piece| assert!(piece.len() <= 255))
        .collect();
    assert!(record.starts_with("v=DKIM1; k=rsa; p="), "{record}");
    let key = app.dir.path().join("dkim.key");
    assert!(printed.contains("dkim_key = \"dkim.key\""), "{printed}");
    let again = Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(["dkim-keygen", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "an existing key is never overwritten"
    );
    let printed_again = Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(["dkim-keygen", "--print-record", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let printed_again = String::from_utf8(printed_again.stdout).unwrap();
    let again_record: String = printed_again
        .lines()
        .find(|l| l.starts_with("nonono._domainkey.nonono.localhost. IN TXT "))
        .unwrap_or_else(|| panic!("{printed_again}"))
        .split('"')
        .skip(1)
        .step_by(2)
        .collect();
    assert_eq!(
        again_record, record,
        "the existing key's record, printed again"
    );

    let mut app = app;
    app.restart(|c| c.outbound.dkim_key = Some(key)).await;
    let (forward, ack) = app.new_thread().await;
    let signed = [forward.raw.clone(), ack.raw.clone()];
    let trust = TrustConfig {
        verify_sender_auth: true,
        require_confirmation: false,
        dns_records: [(
            "nonono._domainkey.nonono.localhost".to_owned(),
            record.clone(),
        )]
        .into(),
    };
    let auth = tokio::task::spawn_blocking(move || {
        let auth = Authenticator::new(&trust, "receiver.example").unwrap();
        let envelope = Envelope {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            peer: "192.0.2.9".into(),
            helo: "nonono.localhost".into(),
        };
        [forward, ack].map(|m| {
            assert!(m.raw.contains("DKIM-Signature: "), "{}", m.raw);
            let from = nonono::mail::parse(m.raw.as_bytes()).from.unwrap().address;
            auth.check(m.raw.as_bytes(), &envelope, &from)
        })
    })
    .await
    .unwrap();
    for evidence in auth {
        assert_eq!(evidence.method.as_deref(), Some("dkim"), "{evidence:?}");
        assert_eq!(evidence.domain.as_deref(), Some("nonono.localhost"));
        assert!(evidence.verified);
    }
    // A second verifier we did not write: dkimpy, behind dkimpy-milter at many receivers.
    for raw in signed {
        assert_eq!(
            dkimpy(&raw, "nonono._domainkey.nonono.localhost", &record),
            "pass"
        );
    }
}

/// What dkimpy (PyPI `dkimpy`, installed by `.ci/run`) says of the signature of `raw`, with
/// `name` answering `record`: `pass`, or its log and `fail`.
fn dkimpy(raw: &str, name: &str, record: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.eml");
    std::fs::write(&file, raw).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/verify/dkim_verify.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(&file)
        .args([name, record])
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("No module named 'dkim'"),
        "dkimpy is missing: python3 -m pip install dkimpy"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        stdout.lines().last().unwrap_or("").to_owned()
    } else {
        format!("{stdout}{stderr}")
    }
}

/// With sender authentication on, a consumer's reply speaks for the consumer only when its
/// From authenticates too: the token and a matching From are not enough.
#[tokio::test]
async fn a_consumers_reply_that_does_not_authenticate_is_held() {
    let w = world().await;
    let (_, ack) = w.app.new_thread().await;
    let raw =
        "From: Matti <matti.meikalainen@example.fi>\r\nSubject: Re\r\n\r\nLisätietoa laskusta.\r\n";
    w.app
        .send("matti.meikalainen@example.fi", &ack.from, raw.as_bytes())
        .await
        .unwrap();
    w.app.wait_processed().await;
    let store = w.app.store();
    let thread = store.latest_threads(1).unwrap().remove(0);
    let posts = store.posts(thread.id).unwrap();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let outcome = store.journal_outcome(2).unwrap().unwrap();
    assert_eq!(
        outcome.outcome.as_deref(),
        Some("reply in thread 1 held: From did not authenticate")
    );
}

/// An answer sent to `elisa@` with no ids of our mail finds its thread by its subject only when
/// it authenticated as Elisa's: titles are public, and anyone can write Elisa's address.
#[tokio::test]
async fn a_subject_finds_the_thread_only_for_an_authenticated_answer() {
    let w = world().await;
    w.app.new_thread().await;
    let answer = |n: u32| {
        format!(
            "From: Anna <anna@elisa.example>\r\nTo: elisa@nonono.localhost\r\nSubject: VS: Palaute: Lasku tuli kahdesti\r\nMessage-ID: <s{n}@elisa.example>\r\nDate: Tue, 24 Nov 2026 09:00:00 +0200\r\n\r\nPalautamme veloituksen.\r\n"
        )
        .into_bytes()
    };
    w.app
        .send("anna@elisa.example", "elisa@nonono.localhost", &answer(1))
        .await
        .unwrap();
    w.app.wait_processed().await;
    assert_eq!(w.app.store().posts(1).unwrap().len(), 1, "forgeable: held");
    let signed = w.elisa.sign(&answer(2), "elisa.example");
    w.app
        .send("anna@elisa.example", "elisa@nonono.localhost", &signed)
        .await
        .unwrap();
    w.app.wait_processed().await;
    let posts = w.app.store().posts(1).unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[1].kind.as_str(), "official");
    assert_eq!(w.app.store().latest_threads(10).unwrap().len(), 1);
}
