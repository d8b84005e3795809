//! The company desk: a company claims its page and keeps it current by mail alone, through the
//! real SMTP path. Only mail DKIM-signed by the From address's own domain counts; the keys are
//! pinned in `[trust] dns_records`, so everything runs offline. The development default
//! (`verify_sender_auth = false`) is kept on purpose: the desk checks signatures regardless.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::signing::Key;
use common::{Outbound, TestApp, fixture};

const OPERATOR: &str = "operaattori@nonono.test";
const DESK: &str = "yritys@nonono.localhost";
const ANNA: &str = "anna.asiakas@acme.example";

struct World {
    app: TestApp,
    acme: Key,
    other: Key,
    gmail: Key,
}

/// Acme publishes its DKIM key and DMARC; `other.example` and `gmail.com` have keys of their
/// own. Elisa, Kierrätyskeskus and VR are registered by the default config.
async fn world() -> World {
    let (acme, other, gmail) = (Key::new(), Key::new(), Key::new());
    let records: BTreeMap<String, String> = [
        ("s1._domainkey.acme.example", acme.record.as_str()),
        ("_dmarc.acme.example", "v=DMARC1; p=reject"),
        ("s1._domainkey.other.example", other.record.as_str()),
        ("s1._domainkey.gmail.com", gmail.record.as_str()),
        ("s1._domainkey.elisa.example", other.record.as_str()),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    let app = TestApp::start_with(|c| {
        c.trust.dns_records = records;
        c.operator_address = Some(OPERATOR.into());
    })
    .await;
    World {
        app,
        acme,
        other,
        gmail,
    }
}

/// Waits (up to 10 s: the relay looks every 5 s when idle) for the `n`th mail to `to`.
async fn nth_mail_to(app: &TestApp, to: &str, n: usize) -> Outbound {
    for _ in 0..400 {
        if let Some(m) = app.outbound().into_iter().filter(|m| m.to == to).nth(n - 1) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no mail {n} to {to}");
}

fn mails_to(app: &TestApp, to: &str) -> Vec<Outbound> {
    app.outbound().into_iter().filter(|m| m.to == to).collect()
}

async fn send(app: &TestApp, from: &str, to: &str, raw: &[u8]) {
    app.send(from, to, raw).await.unwrap();
    app.wait_processed().await;
    app.wait_delivered().await;
}

/// `Date:` as a mail written now has it: the desk takes no old signed mail.
fn now_date() -> String {
    nonono::domain::calendar::rfc5322(nonono::clock::now())
}

/// A fixture of `fixtures/inbound/`, written now.
fn written_now(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let date = now_date();
    let mut fill = fill.to_vec();
    fill.push(("date", &date));
    fixture(name, &fill)
}

/// A plain mail as a script or a quick client writes it, now.
fn plain(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    static SENT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <plain-{n}@test>\r\n\
         Date: {}\r\n\r\n{}\r\n",
        now_date(),
        body.replace('\n', "\r\n")
    )
    .into_bytes()
}

/// The company's record as the registry keeps it.
/// The record of `slug` once it holds `text` (a change applies as its yes is processed).
async fn wait_for_record(app: &TestApp, slug: &str, text: &str) -> String {
    for _ in 0..100 {
        let now = record(app, slug).unwrap_or_default();
        if now.contains(text) {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{slug} never held {text}: {:?}", record(app, slug));
}

/// A consumer's feedback with the subject `tag` (Message-ID number `n`), for a company not
/// registered: it waits under the tag's name.
async fn feedback_waits(app: &TestApp, n: u32, tag: &str) {
    let mail = String::from_utf8(fixture("new-feedback-unknown-tag.eml", &[]))
        .unwrap()
        .replace("[Acme Oy] Paketti hukassa", tag)
        .replace("feedback-4@", &format!("feedback-{n}@"));
    app.send(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        mail.as_bytes(),
    )
    .await
    .unwrap();
    app.wait_processed().await;
}

fn record(app: &TestApp, slug: &str) -> Option<String> {
    app.store().company(slug).unwrap().map(|c| c.record)
}

#[tokio::test]
async fn a_company_claims_its_page_is_approved_and_keeps_it_current_by_mail() {
    let w = world().await;
    let app = &w.app;
    // Feedback about Acme waits: nobody has registered it. Writers name it as they like.
    app.send_fixture(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-unknown-tag.eml",
    )
    .await;
    feedback_waits(app, 44, "[ACME] Toinen paketti").await;

    // Anna claims it from Outlook, signed by acme.example.
    let claim = w
        .acme
        .sign(&written_now("desk-claim-outlook.eml", &[]), "acme.example");
    send(app, ANNA, DESK, &claim).await;
    let received = nth_mail_to(app, ANNA, 1).await;
    assert_eq!(received.from, DESK);
    assert_eq!(received.subject, "Pyyntönne on vastaanotettu: Acme Oy");
    let text = received.flat_text();
    assert!(
        text.contains("Yritystä koskevaa palautetta odottaa välitystä: 2."),
        "{text}"
    );
    assert!(text.contains("Ylläpito tarkistaa"), "{text}");
    assert!(text.contains("ilmoitus (maksuton)"), "{text}");
    assert!(
        received
            .text
            .contains("\n  - asiakaspalvelu@acme.example\n")
    );
    assert!(received.text.contains("\n  - acme.example\n"));
    let told = nth_mail_to(app, OPERATOR, 1).await;
    assert_eq!(told.subject, "Yrityssivun pyyntö 1: Acme Oy");
    assert!(
        told.text.contains("nonono providers approve 1"),
        "{}",
        told.text
    );
    assert!(record(app, "acme-oy").is_none(), "nothing registered yet");

    let pending = app.cli_ok(&["providers", "pending"]);
    assert!(pending.contains("claim 1"), "{pending}");
    assert!(pending.contains(ANNA), "{pending}");
    assert!(
        pending.contains("DKIM signature of acme.example, DMARC pass"),
        "{pending}"
    );

    // The operator approves: the company is registered, what waited goes to its route, Anna
    // is welcomed.
    let approved = app.cli_ok(&["providers", "approve", "1", "--plan", "notice"]);
    assert!(
        approved.contains("registered Acme Oy (acme-oy)"),
        "{approved}"
    );
    assert!(
        approved.contains("2 waiting threads forwarded"),
        "{approved}"
    );
    let waited = nth_mail_to(app, "asiakaspalvelu@acme.example", 1).await;
    assert!(waited.text.contains("Paketti"), "{}", waited.text);
    let welcome = nth_mail_to(app, ANNA, 2).await;
    assert_eq!(welcome.subject, "Tervetuloa: Acme Oy on nyt palvelussa");
    let (again, _, err) = app.cli(&["providers", "approve", "1"]);
    assert!(
        !again && err.contains("claim 1 is approved already"),
        "{err}"
    );

    // Anna changes a route, a representative domain and the response time from Gmail: the
    // desk answers with the change as it would be, from an address for her "yes".
    let commands = w
        .acme
        .sign(&written_now("desk-commands-gmail.eml", &[]), "acme.example");
    send(app, ANNA, DESK, &commands).await;
    let confirm = nth_mail_to(app, ANNA, 3).await;
    assert_eq!(confirm.subject, "Vahvistatteko muutoksen? Acme Oy");
    assert!(confirm.from.starts_with("k+"), "{}", confirm.from);
    assert_eq!(confirm.reply_to, confirm.from);
    let text = &confirm.text;
    for line in [
        "  - reitti lisää laskutus@acme.example",
        "  - edustaja lisää acme.zendesk.com",
        "  - vastausaika 2",
        "  > Hei,",
    ] {
        assert!(text.contains(line), "{line}: {text}");
    }
    let before = record(app, "acme-oy").unwrap();
    assert!(!before.contains("laskutus@acme.example"), "{before}");
    let show = app.cli_ok(&["providers", "show", "acme-oy"]);
    assert!(
        show.contains("route add laskutus@acme.example; representative add acme.zendesk.com"),
        "{show}"
    );

    // Her "Kyllä" from the iPhone, signed again, applies it.
    let yes = written_now(
        "desk-yes-iphone.eml",
        &[
            ("to", &confirm.from),
            ("in_reply_to", &confirm.message_id),
            ("subject", &confirm.subject),
        ],
    );
    send(app, ANNA, &confirm.from, &w.acme.sign(&yes, "acme.example")).await;
    let after = record(app, "acme-oy").unwrap();
    assert!(after.contains("laskutus@acme.example"), "{after}");
    assert!(after.contains("acme.zendesk.com"), "{after}");
    assert!(after.contains("response_days = 2"), "{after}");
    assert!(after.contains("plan = \"notice\""), "{after}");
    let done = nth_mail_to(app, ANNA, 4).await;
    assert_eq!(done.subject, "Muutokset tehty: Acme Oy");
    // Every other address of the company hears of it: a mailbox taken over changes nothing
    // quietly.
    let announced = nth_mail_to(app, "asiakaspalvelu@acme.example", 3).await;
    assert_eq!(announced.subject, "Yrityksen Acme Oy tietoja muutettiin");
    assert!(announced.flat_text().contains(ANNA), "{}", announced.text);
    assert!(announced.flat_text().contains("abuse@nonono.localhost"));
    assert_eq!(mails_to(app, "laskutus@acme.example").len(), 1);
    // The audit trail names who changed it, and how.
    let show = app.cli_ok(&["providers", "show", "acme-oy"]);
    assert!(show.contains(&format!("mail:{ANNA}")), "{show}");
    assert!(show.contains("claimed by mail:"), "{show}");

    // The helpdesk domain she added answers the waiting feedback as the company, once the
    // running service goes by the change (within seconds).
    app.registry_seen().await;
    let answer = String::from_utf8(fixture(
        "provider-reply-official.eml",
        &[("to", &waited.from), ("in_reply_to", &waited.message_id)],
    ))
    .unwrap()
    .replace("anna@elisa.example", "agentti@acme.zendesk.com");
    send(
        app,
        "agentti@acme.zendesk.com",
        &waited.from,
        answer.as_bytes(),
    )
    .await;
    let posts = app.store().posts(1).unwrap();
    assert_eq!(posts.last().unwrap().kind.as_str(), "official");

    // A second "yes" to the same request changes nothing more.
    let count = app.outbound().len();
    let yes_again = w.acme.sign(&yes, "acme.example");
    send(app, ANNA, &confirm.from, &yes_again).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.outbound().len(), count);

    // "ohje" mails the settings as they are now, and the commands.
    let help = w.acme.sign(&plain(ANNA, DESK, "ohje", ""), "acme.example");
    send(app, ANNA, DESK, &help).await;
    let settings = nth_mail_to(app, ANNA, 5).await;
    assert_eq!(settings.subject, "Yrityksen Acme Oy asetukset");
    let text = &settings.text;
    assert!(text.contains("Luvattu vastausaika: 2 arkipäivää"), "{text}");
    assert!(text.contains("  - laskutus@acme.example"), "{text}");
    assert!(text.contains("reitti poista vanha@yritys.fi"), "{text}");
}

/// The same command mail, as each kind of sender that must not change anything.
#[tokio::test]
async fn an_unsigned_or_misaligned_command_changes_nothing_and_says_why() {
    let w = world().await;
    let app = &w.app;
    let elisa_before = record(app, "elisa").unwrap();
    let commands = |from: &str, _: &str| -> Vec<u8> {
        plain(
            from,
            DESK,
            "Muutos",
            "reitti lisää kaappaaja@evil.example\nreitti poista asiakaspalvelu@elisa.example",
        )
    };
    let sender = "anna@elisa.example";
    // Unsigned.
    send(app, sender, DESK, &commands(sender, "a")).await;
    let why = nth_mail_to(app, sender, 1).await;
    assert_eq!(why.subject, "Viestiänne ei käsitelty");
    assert!(
        why.flat_text()
            .contains("viestissä ei ollut DKIM-allekirjoitusta."),
        "{}",
        why.text
    );
    // Signed by another domain: told once a day, not again (anyone can write this From).
    let foreign = w.other.sign(&commands(sender, "b"), "other.example");
    send(app, sender, DESK, &foreign).await;
    assert_eq!(mails_to(app, sender).len(), 1);
    // Each reads its own reason, to a sender not yet told today.
    let carl = "carl@elisa.example";
    send(
        app,
        carl,
        DESK,
        &w.other.sign(&commands(carl, "c"), "other.example"),
    )
    .await;
    let why = nth_mail_to(app, carl, 1).await;
    assert!(
        why.flat_text()
            .contains("viestin allekirjoitti other.example, ei lähettäjän osoitteen"),
        "{}",
        why.text
    );
    // Signed by Elisa's domain, then changed on the way.
    let dora = "dora@elisa.example";
    let tampered = String::from_utf8(w.other.sign(&commands(dora, "d"), "elisa.example"))
        .unwrap()
        .replace("kaappaaja@evil", "toinen@evil")
        .into_bytes();
    send(app, dora, DESK, &tampered).await;
    let why = nth_mail_to(app, dora, 1).await;
    assert!(
        why.flat_text()
            .contains("verkkotunnuksen elisa.example allekirjoitus ei täsmää"),
        "{}",
        why.text
    );
    assert_eq!(record(app, "elisa").unwrap(), elisa_before);

    // A claim from a public mail domain, signed by it: anyone can have that address.
    let gmail = "acme.oy@gmail.com";
    let claim = w.gmail.sign(
        &plain(gmail, "company@nonono.localhost", "[Acme] claim", "Hello"),
        "gmail.com",
    );
    send(app, gmail, "company@nonono.localhost", &claim).await;
    let why = nth_mail_to(app, gmail, 1).await;
    assert!(
        why.flat_text()
            .contains("osoitteen gmail.com voi saada kuka tahansa"),
        "{}",
        why.text
    );
    assert!(app.store().pending_claims().unwrap().is_empty());
    assert!(mails_to(app, OPERATOR).is_empty());
}

/// A change's "yes" counts only from the address that asked, signed again: the confirmation
/// address alone, read over a shoulder or forwarded, applies nothing.
#[tokio::test]
async fn only_the_asker_signed_again_confirms_a_change() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&[]).await;
    let commands = w
        .acme
        .sign(&written_now("desk-commands-gmail.eml", &[]), "acme.example");
    send(app, ANNA, DESK, &commands).await;
    let confirm = nth_mail_to(app, ANNA, 1).await;
    assert!(confirm.from.starts_with("k+"), "{}", confirm.subject);
    let yes = |from: &str| {
        String::from_utf8(written_now(
            "desk-yes-iphone.eml",
            &[
                ("to", &confirm.from),
                ("in_reply_to", &confirm.message_id),
                ("subject", &confirm.subject),
            ],
        ))
        .unwrap()
        .replace(ANNA, from)
        .into_bytes()
    };
    let before = record(app, "acme").unwrap();
    // Another representative of the same company, signed: not the asker.
    let bob = "bob@acme.example";
    send(
        app,
        bob,
        &confirm.from,
        &w.acme.sign(&yes(bob), "acme.example"),
    )
    .await;
    // The asker's address, unsigned: she is told why.
    send(app, ANNA, &confirm.from, &yes(ANNA)).await;
    assert_eq!(record(app, "acme").unwrap(), before);
    let unsigned = nth_mail_to(app, ANNA, 2).await;
    assert_eq!(unsigned.subject, "Viestiänne ei käsitelty");
    // Helper-11: "ja" ("and") on an answer's first line applied the change. Now an answer
    // that opens with neither yes nor no settles nothing, and says so.
    let answer = |text: &str| {
        String::from_utf8(yes(ANNA))
            .unwrap()
            .replace("Kyll=C3=A4=20", text)
            .into_bytes()
    };
    let later = answer("Tarkistan asian kollegalta ja palaan huomenna.");
    send(
        app,
        ANNA,
        &confirm.from,
        &w.acme.sign(&later, "acme.example"),
    )
    .await;
    assert_eq!(record(app, "acme").unwrap(), before);
    let unclear = nth_mail_to(app, ANNA, 3).await;
    assert_eq!(unclear.subject, "Vahvistatteko muutoksen? Acme Oy");
    assert!(
        unclear.flat_text().contains("Vastauksestanne ei selvinnyt"),
        "{}",
        unclear.text
    );
    // "Ei" cancels it; a later "kyllä" finds nothing to apply.
    let no = answer("Ei, en pyyt=C3=A4nyt t=C3=A4t=C3=A4");
    send(app, ANNA, &confirm.from, &w.acme.sign(&no, "acme.example")).await;
    let cancelled = nth_mail_to(app, ANNA, 4).await;
    assert_eq!(cancelled.subject, "Muutoksia ei tehty: Acme Oy");
    send(
        app,
        ANNA,
        &confirm.from,
        &w.acme.sign(&yes(ANNA), "acme.example"),
    )
    .await;
    assert_eq!(record(app, "acme").unwrap(), before);
}

#[tokio::test]
async fn a_refused_claim_tells_its_writer_why() {
    let w = world().await;
    let app = &w.app;
    let claim = w.acme.sign(
        &plain(
            ANNA,
            "company@nonono.localhost",
            "Our page",
            "Hello, we would like to answer our customers here.\nname Acme Corporation\n\
             route add support@acme.example\n\nBest regards\nAnna",
        ),
        "acme.example",
    );
    send(app, ANNA, "company@nonono.localhost", &claim).await;
    let received = nth_mail_to(app, ANNA, 1).await;
    assert_eq!(
        received.subject,
        "We received your request: Acme Corporation"
    );
    assert!(
        received.text.contains("support@acme.example"),
        "{}",
        received.text
    );
    let (refused, _, err) = app.cli(&["providers", "refuse", "1", "--reason", ""]);
    assert!(!refused && err.contains("--reason must say why"), "{err}");
    // Helper-14: the reason went into the letter raw, escapes, direction overrides and a
    // signature line as written.
    for (reason, said) in [
        ("Ei\u{1b}[31m", "U+001B"),
        ("Ei \u{202E}kiitos", "U+202E"),
        ("Ei.\n-- \nYlläpito", "\"-- \""),
    ] {
        let (refused, _, err) = app.cli(&["providers", "refuse", "1", "--reason", reason]);
        assert!(!refused && err.contains(said), "{err}");
    }
    let out = app.cli_ok(&[
        "providers",
        "refuse",
        "1",
        "--reason",
        "Acme Corporation is not the company at acme.example.",
    ]);
    assert!(
        out.contains("Claim 1 for acme-corporation refused"),
        "{out}"
    );
    let decision = nth_mail_to(app, ANNA, 2).await;
    assert_eq!(
        decision.subject,
        "Your request was not approved: Acme Corporation"
    );
    assert!(
        decision
            .flat_text()
            .contains("The reason: Acme Corporation is not the company at acme.example."),
        "{}",
        decision.text
    );
    assert!(record(app, "acme-corporation").is_none());
    assert!(
        app.cli_ok(&["providers", "pending"])
            .contains("No claims wait")
    );
}

/// Sends `commands` signed by `key` for `domain` from `from`, and answers the desk's
/// confirmation with `answer`, signed the same way. Returns the confirmation.
async fn ask_and_answer(
    app: &TestApp,
    (key, domain): (&Key, &str),
    from: &str,
    commands: &str,
    answer: Option<&str>,
) -> Outbound {
    let before = mails_to(app, from).len();
    send(
        app,
        from,
        DESK,
        &key.sign(&plain(from, DESK, "Muutos", commands), domain),
    )
    .await;
    let confirm = nth_mail_to(app, from, before + 1).await;
    assert!(confirm.from.starts_with("k+"), "{}", confirm.text);
    if let Some(answer) = answer {
        let reply = plain(
            from,
            &confirm.from,
            &format!("Re: {}", confirm.subject),
            answer,
        );
        send(app, from, &confirm.from, &key.sign(&reply, domain)).await;
    }
    confirm
}

/// Helper-11: a representative removed since could still confirm the change they had asked
/// for, and took the company over.
#[tokio::test]
async fn a_representative_removed_since_cannot_confirm_what_they_asked() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&["ext@other.example"]).await;
    let ext = "ext@other.example";
    let takeover = "reitti lisää rogue@other.example\nreitti poista asiakaspalvelu@acme.example";
    let pending = ask_and_answer(app, (&w.other, "other.example"), ext, takeover, None).await;
    // Anna removes the outside representative; his pending change goes with him.
    ask_and_answer(
        app,
        (&w.acme, "acme.example"),
        ANNA,
        "edustaja poista ext@other.example",
        Some("Kyllä"),
    )
    .await;
    let before = record(app, "acme").unwrap();
    assert!(!before.contains("ext@other.example"), "{before}");
    let yes = plain(ext, &pending.from, "Re: muutos", "Kyllä");
    send(
        app,
        ext,
        &pending.from,
        &w.other.sign(&yes, "other.example"),
    )
    .await;
    assert_eq!(record(app, "acme").unwrap(), before);
}

/// Helper-11: the change applied was the English form of the commands read again, cut at the
/// line bound: a topic of many words lost the end of its address.
#[tokio::test]
async fn what_is_applied_is_what_was_confirmed_and_a_greeting_comes_first() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&[]).await;
    let words: Vec<String> = (0..69)
        .map(|i| format!("a{}", (b'a' + (i % 26) as u8) as char))
        .collect();
    let topic = format!("aihe lisää {} x@acme.example", words.join(","));
    // Most Finnish mail opens with a greeting: the yes is on the line after it.
    ask_and_answer(
        app,
        (&w.acme, "acme.example"),
        ANNA,
        &topic,
        Some("Hei,\n\nkyllä, tehkää muutos.\n\nYstävällisin terveisin\nAnna"),
    )
    .await;
    let after = record(app, "acme").unwrap();
    assert!(after.contains("route = \"x@acme.example\""), "{after}");
    // A line too long to be a command is quoted back short.
    let long = format!("Hei, {}", "pitkä rivi ".repeat(500));
    send(
        app,
        ANNA,
        DESK,
        &w.acme
            .sign(&plain(ANNA, DESK, "ohje", &long), "acme.example"),
    )
    .await;
    let help = mails_to(app, ANNA).pop().unwrap();
    assert!(help.raw.len() < 8_000, "{} bytes", help.raw.len());
    // `providers show` names the mail as the change's writer.
    let show = app.cli_ok(&["providers", "show", "acme"]);
    assert!(show.contains("written by mail"), "{show}");
}

/// Helper-11: anyone who received a company's signed mail (a newsletter) could send it on to
/// the desk as a claim, or an old one again.
#[tokio::test]
async fn a_signed_mail_meant_for_someone_else_or_long_ago_asks_nothing() {
    let w = world().await;
    let app = &w.app;
    let newsletter = plain(
        ANNA,
        "asiakas@kuluttaja.example",
        "Uutiskirje joulukuu",
        "Hei!",
    );
    send(app, ANNA, DESK, &w.acme.sign(&newsletter, "acme.example")).await;
    let old = String::from_utf8(plain(ANNA, DESK, "[Acme] sivu", "Hei"))
        .unwrap()
        .replace(&now_date(), "Thu, 01 Jan 2015 10:00:00 +0000")
        .into_bytes();
    send(app, ANNA, DESK, &w.acme.sign(&old, "acme.example")).await;
    assert!(app.store().pending_claims().unwrap().is_empty());
    assert!(mails_to(app, ANNA).is_empty());
    assert!(mails_to(app, OPERATOR).is_empty());
}

/// Helper-11: 30 claims from one domain made 30 operator mails.
#[tokio::test]
async fn claims_from_one_domain_are_few_and_the_operator_hears_once() {
    let w = world().await;
    let app = &w.app;
    // Helper-12: subdomains' addresses, signed by the parent, counted apart.
    for n in 1..=4 {
        let from = format!("u{n}@s{n}.acme.example");
        let claim = plain(&from, DESK, &format!("[Firma {n}] sivu"), "Hei");
        send(app, &from, DESK, &w.acme.sign(&claim, "acme.example")).await;
    }
    assert_eq!(app.store().pending_claims().unwrap().len(), 3);
    assert_eq!(mails_to(app, OPERATOR).len(), 1);
    let fourth = nth_mail_to(app, "u4@s4.acme.example", 1).await;
    assert_eq!(fourth.subject, "Viestiänne ei käsitelty");
}

/// Helper-11: a company could take another's route or domain by mail, and approving a claim
/// for a new company made its writer a representative of one registered since.
#[tokio::test]
async fn no_company_takes_another_companys_addresses() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&[]).await;
    let elisa = record(app, "elisa").unwrap();
    for taking in [
        "reitti lisää asiakaspalvelu@elisa.example",
        "edustaja lisää elisa.example",
        "edustaja lisää hotmail.se",
    ] {
        let before = mails_to(app, ANNA).len();
        send(
            app,
            ANNA,
            DESK,
            &w.acme
                .sign(&plain(ANNA, DESK, "Muutos", taking), "acme.example"),
        )
        .await;
        let refused = nth_mail_to(app, ANNA, before + 1).await;
        assert_eq!(refused.subject, "Muutoksia ei tehty: Acme Oy", "{taking}");
    }
    assert_eq!(record(app, "elisa").unwrap(), elisa);

    let claim = plain("u@other.example", DESK, "[Firma Kaksi] sivu", "Hei");
    send(
        app,
        "u@other.example",
        DESK,
        &w.other.sign(&claim, "other.example"),
    )
    .await;
    app.cli_ok(&[
        "providers",
        "add",
        "firma-kaksi",
        "--name",
        "Firma Kaksi",
        "--route",
        "real@firma2.example",
    ]);
    let (approved, _, err) = app.cli(&["providers", "approve", "1"]);
    assert!(!approved && err.contains("registered since"), "{err}");
    assert!(
        !record(app, "firma-kaksi")
            .unwrap()
            .contains("other.example")
    );
}

/// Helper-12: a company took an unregistered company's domain as its representative by mail
/// (whose people then wrote commands for it instead of claiming their own page); a claim
/// took other companies' routes and domains unchecked, also when approved later; a writer at
/// a registered company's domain made a claim for a new company.
#[tokio::test]
async fn a_claim_or_a_change_takes_nothing_that_is_not_its_own() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&["pr@other.example"]).await;
    // What the record cannot be is said in the writer's language.
    for (commands, said) in [
        (
            "reitti poista asiakaspalvelu@acme.example",
            "vähintään yksi reitti",
        ),
        ("vastausaika 400", "vastausaika on 1–250 arkipäivää"),
        (
            "edustaja lisää gmail.com",
            "verkkotunnukseen gmail.com voi kuka tahansa saada osoitteen",
        ),
    ] {
        let refused = ask_refused(app, &w, commands).await;
        assert!(refused.flat_text().contains(said), "{}", refused.text);
        // One reason, not two that disagree on who may add it.
        assert!(
            !refused.flat_text().contains("vain ylläpito"),
            "{}",
            refused.text
        );
    }
    let refused = ask_refused(app, &w, "edustaja lisää beta.example").await;
    assert!(
        refused
            .flat_text()
            .contains("beta.example ei ole yrityksenne omassa"),
        "{}",
        refused.text
    );

    // From other.example, where Acme has a representative's address: a join, not a new
    // company.
    let x = "x@other.example";
    // A join asks for the writer's domain only: its other lines are not applied, and do not
    // keep it from being asked.
    let claim = plain(x, DESK, "Sivu", "nimi Other Oy\nalias lisää Gigantti");
    send(app, x, DESK, &w.other.sign(&claim, "other.example")).await;
    let pending = app.store().pending_claims().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].slug, "acme");
    assert_eq!(pending[0].kind, nonono::store::desk::RequestKind::Join);
    app.cli_ok(&[
        "providers",
        "refuse",
        &pending[0].id.to_string(),
        "--reason",
        "Ei.",
    ]);

    // A new company's claim that names Elisa's route.
    let y = "y@gamma.other.example";
    let claim = plain(
        y,
        DESK,
        "[Gamma Oy] sivu",
        "reitti lisää asiakaspalvelu@elisa.example",
    );
    app.cli_ok(&["providers", "remove", "acme"]);
    app.registry_seen().await;
    send(app, y, DESK, &w.other.sign(&claim, "other.example")).await;
    let why = nth_mail_to(app, y, 1).await;
    assert!(
        why.flat_text()
            .contains("asiakaspalvelu@elisa.example kuuluu toiselle yritykselle"),
        "{}",
        why.text
    );

    // A claim fine when made, taken by a company registered before it is approved.
    let claim = plain(y, DESK, "[Gamma Oy] sivu", "Hei");
    send(app, y, DESK, &w.other.sign(&claim, "other.example")).await;
    let id = app.store().pending_claims().unwrap()[0].id.to_string();
    app.cli_ok(&[
        "providers",
        "add",
        "vendor",
        "--name",
        "Vendor",
        "--route",
        "info@gamma.other.example",
    ]);
    let (approved, _, err) = app.cli(&["providers", "approve", &id]);
    assert!(!approved && err.contains("another company has"), "{err}");
}

/// Helper-12: a Date the signature does not cover could be rewritten by whoever sends a
/// company's old signed mail on.
#[tokio::test]
async fn a_date_outside_the_signature_makes_no_request() {
    let w = world().await;
    let app = &w.app;
    let claim = plain(ANNA, DESK, "[Acme Oy] sivu", "Hei");
    let signed = w.acme.sign_headers(
        &claim,
        "acme.example",
        &["From", "To", "Subject", "Message-ID"],
    );
    send(app, ANNA, DESK, &signed).await;
    assert!(app.store().pending_claims().unwrap().is_empty());
    assert!(mails_to(app, ANNA).is_empty());
}

/// A change asked of the desk that it refuses: the refusal.
async fn ask_refused(app: &TestApp, w: &World, commands: &str) -> Outbound {
    let before = mails_to(app, ANNA).len();
    let mail = w
        .acme
        .sign(&plain(ANNA, DESK, "Muutos", commands), "acme.example");
    send(app, ANNA, DESK, &mail).await;
    let refused = nth_mail_to(app, ANNA, before + 1).await;
    assert_eq!(refused.subject, "Muutoksia ei tehty: Acme Oy", "{commands}");
    refused
}

/// Whatever a change would leave the record unable to be is said in the language the
/// commands were written in: a Finnish letter used to quote the registry's English for a name
/// another company has, a route off the internet or at our own domain.
#[tokio::test]
async fn what_the_record_cannot_be_is_said_in_the_writers_language() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&[]).await;
    let before = record(app, "acme").unwrap();
    for (commands, said, not_said) in [
        (
            "alias lisää Elisa",
            "nimi Elisa on jo yrityksen Elisa käytössä",
            "is also",
        ),
        (
            "reitti lisää palvelu@acme.local",
            "osoitteen palvelu@acme.local verkkotunnusta ei ole internetissä",
            "names no domain",
        ),
        (
            "reitti lisää palaute@nonono.localhost",
            "palaute@nonono.localhost on palvelumme oma osoite",
            "our own domain",
        ),
        (
            "aihe lisää lasku -> laskut@acme.local Laskutus",
            "osoitteen laskut@acme.local verkkotunnusta ei ole internetissä",
            "rules[0]",
        ),
    ] {
        let refused = ask_refused(app, &w, commands).await;
        let text = refused.flat_text();
        assert!(text.contains(said), "{commands}: {}", refused.text);
        assert!(!text.contains(not_said), "{commands}: {}", refused.text);
    }
    // In Swedish and English alike.
    for (commands, said) in [
        (
            "rutt lägg till palvelu@acme.local",
            "domänen i palvelu@acme.local finns inte på internet",
        ),
        (
            "alias add Kierratyskeskus",
            "the name Kierratyskeskus is already used by Kierrätyskeskus",
        ),
    ] {
        let before = mails_to(app, ANNA).len();
        let mail = w
            .acme
            .sign(&plain(ANNA, DESK, "Change", commands), "acme.example");
        send(app, ANNA, DESK, &mail).await;
        let refused = nth_mail_to(app, ANNA, before + 1).await;
        assert!(
            refused.flat_text().contains(said),
            "{commands}: {}",
            refused.text
        );
    }
    assert_eq!(record(app, "acme").unwrap(), before);
}

/// Helper-13: a registered company took by mail the name feedback waited under for another
/// company (`alias lisää Sonera`), was forwarded that feedback and every later `[Sonera]`
/// mail, and kept the real Sonera from registering; our own addresses' names and labels of
/// any length were taken too, though we show them in our own words to every writer.
#[tokio::test]
async fn a_company_takes_by_mail_no_name_that_waits_for_another() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&[]).await;
    feedback_waits(app, 41, "[Sonera] Lasku on sekaisin").await;
    feedback_waits(app, 42, "[Acme Suomi] Paketti").await;
    let before = record(app, "acme").unwrap();
    let long = "L".repeat(61);
    let refused = ask_refused(app, &w, "alias lisää Sonera").await;
    assert!(
        refused
            .flat_text()
            .contains("nimellä Sonera odottaa palautetta yritykselle, jota ei ole rekisteröity"),
        "{}",
        refused.text
    );
    // Several in one mail: each is listed.
    let commands = format!(
        "alias lisää Postmaster\nalias lisää Palaute\nalias lisää Telia\nalias lisää {long}\n\
         aihe lisää lasku -> laskutus@acme.example {long}"
    );
    let refused = ask_refused(app, &w, &commands).await;
    assert!(
        refused.text.contains("ongelmia:\n  - nimi Postmaster"),
        "{}",
        refused.text
    );
    for said in [
        "nimi Postmaster on palvelun omassa käytössä",
        "nimi Palaute on palvelun omassa käytössä",
        "nimi Telia ei ole yrityksenne nimen tai verkkotunnuksen muoto",
        "LLLL on liian pitkä: enintään 60 merkkiä",
    ] {
        assert!(
            refused.flat_text().contains(said),
            "{said}: {}",
            refused.text
        );
    }
    assert_eq!(refused.text.matches("enintään 60 merkkiä").count(), 2);
    assert_eq!(record(app, "acme").unwrap(), before);
    // Feedback waits under a form of its own name: the operator gives that too.
    let refused = ask_refused(app, &w, "alias lisää Acme Suomi").await;
    assert!(
        refused
            .flat_text()
            .contains("nimellä Acme Suomi odottaa palautetta"),
        "{}",
        refused.text
    );
    // Helper-14: a subdomain or a helpdesk tenant named after another company, added by mail,
    // makes no name of that company the asker's own.
    ask_and_answer(
        app,
        (&w.acme, "acme.example"),
        ANNA,
        "edustaja lisää sonera.acme.example\nedustaja lisää telia.zendesk.com",
        Some("Kyllä"),
    )
    .await;
    wait_for_record(app, "acme", "telia.zendesk.com").await;
    let refused = ask_refused(app, &w, "alias lisää Sonera\nalias lisää Telia").await;
    let text = refused.flat_text();
    assert!(text.contains("nimellä Sonera odottaa"), "{}", refused.text);
    assert!(
        text.contains("nimi Telia ei ole yrityksenne nimen"),
        "{}",
        refused.text
    );
    // A form of its name nobody waits under is the company's to take.
    ask_and_answer(
        app,
        (&w.acme, "acme.example"),
        ANNA,
        "alias lisää Acme Finland",
        Some("Kyllä"),
    )
    .await;
    let after = wait_for_record(app, "acme", "Acme Finland").await;
    assert!(
        !after.contains("Acme Suomi") && !after.contains("Sonera"),
        "{after}"
    );
}

/// Helper-13: a claim refused for its record was answered once a day, as mail whose From may
/// be forged is, though it was signed: the company fixing its claim heard nothing of the
/// second try. The letter explained DKIM, which was not the fault, and ran the problems
/// together on one line.
#[tokio::test]
async fn a_signed_claim_hears_of_each_problem_in_a_list() {
    let w = world().await;
    let app = &w.app;
    let y = "y@other.example";
    for (n, (subject, body, said)) in [
        (
            "[www] sivu",
            "Hei",
            "tunnus www on varattu palvelun omaan käyttöön",
        ),
        (
            "[Uusi Oy] sivu",
            "alias lisää Elisa\nreitti lisää palvelu@uusi.local",
            "nimi Elisa on jo yrityksen Elisa käytössä",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        send(
            app,
            y,
            DESK,
            &w.other
                .sign(&plain(y, DESK, subject, body), "other.example"),
        )
        .await;
        let refused = nth_mail_to(app, y, n + 1).await;
        let text = refused.flat_text();
        assert!(text.contains(said), "{}", refused.text);
        assert!(!text.contains("DKIM"), "{}", refused.text);
        assert!(!text.contains(".;"), "{}", refused.text);
    }
    let second = nth_mail_to(app, y, 2).await;
    assert!(
        second.text.contains("ongelmia:\n  - ")
            && second.text.contains("\n  - osoitteen palvelu@uusi.local"),
        "{}",
        second.text
    );
    assert!(app.store().pending_claims().unwrap().is_empty());

    // Helper-14: a claim took any alias (a name feedback waits under, our own addresses'
    // names, another brand), and the operator's approval registered them.
    feedback_waits(app, 43, "[DNA] Liittymä ei toimi").await;
    let claim = plain(
        y,
        DESK,
        "[Evil Oy] sivu",
        "alias lisää DNA\nalias lisää Postmaster\nalias lisää Gigantti",
    );
    send(app, y, DESK, &w.other.sign(&claim, "other.example")).await;
    let refused = nth_mail_to(app, y, 3).await;
    let text = refused.flat_text();
    for said in [
        "nimellä DNA odottaa palautetta",
        "nimi Postmaster on palvelun omassa käytössä",
        "nimi Gigantti ei ole yrityksenne nimen",
    ] {
        assert!(text.contains(said), "{said}: {}", refused.text);
    }
    assert!(app.store().pending_claims().unwrap().is_empty());
    // Nor does the operator give one of our addresses' names by mistake.
    let (edited, _, err) = app.cli(&["providers", "edit", "elisa", "--add-alias", "Yritys"]);
    assert!(!edited && err.contains("\"Yritys\" is reserved"), "{err}");
}

/// Helper-13: our help letter pasted back without a quote's marks (no "wrote:" line, no `>`)
/// asked to apply its examples: `reitti lisää laskutus@yritys.fi`, `edustaja lisää
/// yritys.zendesk.com` and the rest.
#[tokio::test]
async fn our_examples_pasted_back_are_not_commands() {
    let w = world().await;
    let app = &w.app;
    app.add_acme(&[]).await;
    let help = plain(ANNA, DESK, "Ohje", "ohje");
    send(app, ANNA, DESK, &w.acme.sign(&help, "acme.example")).await;
    let letter = nth_mail_to(app, ANNA, 1).await;
    assert!(
        letter.text.contains("reitti lisää laskutus@yritys.fi"),
        "{}",
        letter.text
    );
    let confirm = ask_and_answer(
        app,
        (&w.acme, "acme.example"),
        ANNA,
        &format!("vastausaika 4\n\nKiitos!\n\n{}", letter.text),
        None,
    )
    .await;
    let text = confirm.flat_text();
    assert!(text.contains("vastausaika 4"), "{}", confirm.text);
    assert!(!text.contains("yritys.fi"), "{}", confirm.text);
    // Helper-14: a client that turned the heading's spaces into no-break ones.
    let nbsp = letter.text.replace(
        "Komennot, yksi riville,",
        "Komennot,\u{a0}yksi\u{a0}riville,",
    );
    let confirm = ask_and_answer(
        app,
        (&w.acme, "acme.example"),
        ANNA,
        &format!("vastausaika 5\n\n{nbsp}"),
        None,
    )
    .await;
    let text = confirm.flat_text();
    assert!(text.contains("vastausaika 5"), "{}", confirm.text);
    assert!(!text.contains("yritys.fi"), "{}", confirm.text);
    assert!(!text.contains("yritys.zendesk.com"), "{}", confirm.text);
}

/// Helper-14: unsigned mail to the desk from 80 forged addresses was answered 80 times, once
/// a day each: a flood of forged Froms made us a sender of backscatter. A few an hour in all.
#[tokio::test]
async fn forged_senders_get_a_few_refusals_an_hour_in_all() {
    let w = world().await;
    let app = &w.app;
    for n in 0..25 {
        let from = format!("victim{n}@somewhere.example");
        app.send(
            &from,
            DESK,
            &plain(&from, DESK, "Muutos", "reitti lisää x@y.example"),
        )
        .await
        .unwrap();
    }
    app.wait_processed().await;
    app.wait_delivered().await;
    let told = app
        .outbound()
        .iter()
        .filter(|m| m.to.starts_with("victim"))
        .count();
    assert_eq!(told, 20);
}
