//! The whole loop over real SMTP and HTTP: consumer → company → consumer → company, and the
//! refusals that keep the gateway from being an open relay.

mod common;

use common::{TestApp, fixture, no_limits, without_support_address};

const CONSUMER: &str = "matti.meikalainen@example.fi";

fn assert_token_address(addr: &str) {
    let local = addr.strip_suffix("@nonono.localhost").expect("our domain");
    let token = local.strip_prefix("t+").expect("token address");
    assert!(
        !token.is_empty()
            && token
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{addr}"
    );
}

#[tokio::test]
async fn feedback_reaches_the_company_and_the_consumer_gets_a_public_link() {
    let mut app = TestApp::start().await;
    app.send_fixture(
        CONSUMER,
        "palaute@nonono.localhost",
        "new-feedback-tagged.eml",
    )
    .await;
    // 250 came after the commit: the raw message is in the store already.
    let counts = app.store().journal_counts().unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 1, "{counts:?}");
    let out = app.wait_outbound(2).await;
    let forward = out
        .iter()
        .find(|m| m.to.ends_with("@elisa.example"))
        .unwrap()
        .clone();
    let ack = out.iter().find(|m| m.to == CONSUMER).unwrap().clone();

    // The company's route (the billing rule matches "lasku") gets the feedback, from a token
    // address of ours, never with the consumer's address anywhere.
    assert_eq!(forward.to, "laskutus@elisa.example");
    assert_eq!(forward.from_name, "Matti M. via nonono");
    assert_token_address(&forward.from);
    assert_eq!(forward.reply_to, forward.from);
    assert!(forward.message_id.ends_with("@nonono.localhost"));
    assert!(forward.text.contains("sain marraskuun laskun kahdesti"));
    assert!(forward.text.contains("https://nonono.test/t/1"));
    assert!(
        !forward.raw.to_lowercase().contains("meikalainen"),
        "consumer address leaked:\n{}",
        forward.raw
    );
    assert!(
        forward.auto_submitted.is_none(),
        "a forward carries a person's words"
    );

    // The consumer hears, in Finnish, where it is public and which company and route got it.
    assert!(ack.text.contains("https://nonono.test/t/1"), "{}", ack.text);
    assert!(ack.text.contains("Elisa (Laskutus)"), "{}", ack.text);
    assert!(ack.text.contains("3 arkipäivän"));
    assert_eq!(ack.in_reply_to, vec!["feedback-1@example.fi"]);
    assert_eq!(ack.auto_submitted.as_deref(), Some("auto-replied"));
    assert_token_address(&ack.from);
    assert_ne!(ack.from, forward.from, "each side has its own token");
    assert!(
        !ack.raw.contains("laskutus@elisa.example"),
        "company address leaked"
    );

    // The thread page is served at the URL the consumer was given.
    let (status, page) = app.get("/t/1").await;
    assert_eq!(status, 200);
    assert!(page.contains("Lasku tuli kahdesti"));
    assert!(page.contains(r#"data-kind="consumer""#));
    assert!(
        !without_support_address(&page).contains('@'),
        "no address on the page:\n{page}"
    );
    app.stop().await;
}

#[tokio::test]
async fn company_answer_is_official_and_the_conversation_continues_both_ways() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;

    // The company replies from a representative address (domain elisa.example).
    app.answer_as_company(&forward).await;
    let out = app.wait_outbound(3).await;
    let relayed = &out[2];
    assert_eq!(relayed.to, CONSUMER);
    assert_eq!(relayed.from_name, "Elisa via nonono");
    assert_token_address(&relayed.from);
    assert!(relayed.text.contains("Palautamme"), "{}", relayed.text);
    assert!(relayed.text.contains("vahvistettu edustaja"));
    assert!(
        !relayed.raw.contains("anna@elisa.example"),
        "representative address leaked"
    );
    assert!(
        !relayed.text.contains("Anna Asiakaspalvelu | Elisa"),
        "signature relayed"
    );
    // Threaded under what the consumer already has.
    assert!(
        relayed
            .in_reply_to
            .iter()
            .any(|id| id.ends_with("@nonono.localhost"))
    );

    // The consumer replies to the company's message; it reaches the company's route.
    let followup = fixture(
        "consumer-followup.eml",
        &[("to", &relayed.from), ("in_reply_to", &relayed.message_id)],
    );
    app.send(CONSUMER, &relayed.from, &followup)
        .await
        .expect("250 for the follow-up");
    let out = app.wait_outbound(4).await;
    let to_company = &out[3];
    assert_eq!(to_company.to, "laskutus@elisa.example");
    assert_eq!(
        to_company.from, forward.from,
        "the company always sees the same address"
    );
    assert!(to_company.text.contains("Kiitos nopeasta vastauksesta"));
    assert!(
        !to_company
            .text
            .contains("Elisa (vahvistettu edustaja) kirjoitti"),
        "quote not cut"
    );
    assert!(
        to_company
            .in_reply_to
            .contains(&"answer-1@elisa.example".to_owned())
    );

    // The page shows every post with its kind; the official answer without its quote/signature.
    app.wait_processed().await;
    let (_, page) = app.get("/t/1").await;
    let kinds: Vec<&str> = page
        .match_indices("data-kind=\"")
        .map(|(i, _)| &page[i + 11..i + 11 + page[i + 11..].find('"').unwrap()])
        .collect();
    assert_eq!(kinds, ["consumer", "official", "consumer"]);
    assert!(page.contains("Palautamme"));
    let official = &page[page.find(r#"data-kind="official""#).unwrap()..];
    let official = &official[..official.find("</article>").unwrap()];
    // What was cut (our own mail, the quoted history, signatures) stays in the store: it is
    // not the writer's answer, it may hold our answering guide or a colleague's internal notes,
    // and none of it was screened for personal data (issue 18).
    assert!(
        !official.contains("<details>"),
        "cut text shown on the page"
    );
    assert!(
        official.contains("Palautamme") && !official.contains("Anna Asiakaspalvelu | Elisa"),
        "signature published"
    );
    assert!(
        !page.contains("Kirjoita vastauksesi") && !page.contains("Hyvä vastaus"),
        "our own text on the page"
    );
    assert!(
        !without_support_address(&page).contains('@'),
        "no address on the page"
    );

    // The export carries the same posts, with the contract's fields and no address.
    let mut export = Vec::new();
    app.store()
        .export(|row| {
            export.push(serde_json::to_value(&row).unwrap());
            Ok(())
        })
        .unwrap();
    assert_eq!(export.len(), 3);
    for field in [
        "thread",
        "post",
        "provider",
        "kind",
        "author",
        "title",
        "body",
        "created_at",
    ] {
        assert!(export[1].get(field).is_some(), "export lacks {field}");
    }
    assert_eq!(export[1]["kind"], "official");
    assert_eq!(export[1]["author"], "Elisa");
    assert_eq!(export[0]["author"], "Matti M.");
    assert!(!serde_json::to_string(&export).unwrap().contains('@'));
    app.stop().await;
}

#[tokio::test]
async fn an_answer_from_outside_the_representatives_is_published_as_unverified() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    let claim = fixture("provider-reply-unverified.eml", &[("to", &forward.from)]);
    app.send("someone@freemail.example", &forward.from, &claim)
        .await
        .unwrap();
    let out = app.wait_outbound(3).await;
    assert!(!out[2].text.contains("vahvistettu edustaja"));
    // Issue 21: the writer reads first, in plain words, that this may not be the company,
    // and what not to do because of it.
    let first = out[2]
        .text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("##"))
        .unwrap_or_default();
    assert!(
        first.starts_with("VAROITUS: emme voineet varmistaa, että tämä vastaus tuli yritykseltä"),
        "{}",
        out[2].text
    );
    assert!(
        out[2]
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("Älä anna sen perusteella henkilö-, tili- tai maksutietoja")
    );
    app.wait_processed().await;
    let (_, page) = app.get("/t/1").await;
    assert!(page.contains(r#"data-kind="unverified""#));
    assert!(!page.contains(r#"data-kind="official""#));
    // Issue 21: why, in words a reader understands, also as the badge's tooltip.
    let why = "Emme voineet varmistaa, että viesti tuli yritykseltä Elisa. Lähettäjän osoite ei \
               ole yrityksen ilmoittama edustaja.";
    assert!(page.contains(&format!("<p>{why}</p>")), "{page}");
    assert!(page.contains(&format!(r#"title="{why}""#)), "{page}");
    app.stop().await;
}

/// Matti's Gmail feedback with a photo, a spreadsheet and a program attached: (the forward to
/// Elisa, the acknowledgement to Matti).
async fn feedback_with_attachments(app: &TestApp) -> (common::Outbound, common::Outbound) {
    app.send(
        "matti.meikalainen@example.fi",
        "palaute@nonono.localhost",
        &fixture("new-feedback-gmail-attachments.eml", &[]),
    )
    .await
    .unwrap();
    let out = app.wait_outbound(2).await;
    let forward = out.iter().find(|m| m.to.ends_with("@elisa.example"));
    let ack = out.iter().find(|m| m.to.starts_with("matti"));
    (forward.unwrap().clone(), ack.unwrap().clone())
}

/// Issue 21: a consumer's photo and spreadsheet reach the company privately, a program never
/// does, the writer is told which went and that none is published; the company's PDF reaches
/// the consumer; the page says only how many were not published.
#[tokio::test]
async fn attachments_reach_the_other_side_privately_and_each_side_is_told() {
    let mut app = TestApp::start().await;
    let (forward, ack) = feedback_with_attachments(&app).await;
    let files = forward.attachments();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["väärä tuote.png", "veloitukset.csv"],
        "{}",
        forward.raw
    );
    assert!(
        files[0].1.starts_with(b"\x89PNG\r\n"),
        "the photo's bytes, decoded"
    );
    assert!(String::from_utf8_lossy(&files[1].1).contains("39,90"));
    let told = forward.flat_text();
    assert!(
        told.contains("Liitteet (2) on välitetty vain sinulle, eikä niitä julkaista: väärä tuote.png, veloitukset.csv"),
        "{told}"
    );
    assert!(
        told.contains("Näitä liitteitä ei välitetty: lasku.pdf.exe (ohjelmatiedosto"),
        "{told}"
    );
    let acked = ack.flat_text();
    assert!(
        acked.contains("Liitteesi on välitetty yritykselle Elisa, eikä niitä julkaista: väärä tuote.png, veloitukset.csv"),
        "{acked}"
    );
    assert!(acked.contains("lasku.pdf.exe (ohjelmatiedosto"), "{acked}");
    assert!(acked.contains("Liitteitä ei koskaan julkaista"), "{acked}");
    assert!(
        ack.attachments().is_empty(),
        "the writer is not sent their own files back"
    );

    let answer = fixture(
        "provider-reply-outlook-attachment.eml",
        &[("to", &forward.from), ("in_reply_to", &forward.message_id)],
    );
    app.send("anna@elisa.example", &forward.from, &answer)
        .await
        .unwrap();
    let out = app.wait_outbound(3).await;
    let relay = &out[2];
    assert_eq!(relay.to, "matti.meikalainen@example.fi");
    let files = relay.attachments();
    assert_eq!(files.len(), 1, "{}", relay.raw);
    assert_eq!(files[0].0, "Hyvityslasku 2026-12.pdf");
    assert!(files[0].1.starts_with(b"%PDF-1.4"));
    assert!(
        relay
            .flat_text()
            .contains("Liitteet (1) on välitetty vain sinulle")
    );
    // Found by breaking it: the photo sent again, smaller, with no words of its own, as the
    // acknowledgement advises, was held as "no text to publish" and reached no one.
    let photo_only = format!(
        "From: Matti <matti.meikalainen@example.fi>\r\nTo: {to}\r\nSubject: Re: x\r\n\
         In-Reply-To: <{id}>\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\n\r\n--b\r\nContent-Type: image/png\r\n\
         Content-Disposition: attachment; filename=\"pienempi.png\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n",
        to = ack.from,
        id = ack.message_id
    );
    app.send(
        "matti.meikalainen@example.fi",
        &ack.from,
        photo_only.as_bytes(),
    )
    .await
    .unwrap();
    let out = app.wait_outbound(4).await;
    assert_eq!(out[3].to, forward.to, "{:?}", out[3]);
    assert_eq!(out[3].attachments()[0].0, "pienempi.png");
    app.wait_processed().await;
    let (_, page) = app.get("/t/1").await;
    assert_eq!(
        page.matches("Julkaisemattomia liitteitä: 3").count(),
        1,
        "{page}"
    );
    assert_eq!(
        page.matches("Julkaisemattomia liitteitä: 1").count(),
        2,
        "{page}"
    );
    assert!(!page.contains("veloitukset.csv") && !page.contains("Hyvityslasku"));
    app.stop().await;
}

/// Issue 21: what does not fit the configured total is named, with how to ask for it, and
/// an answer that did not verify passes no file on.
#[tokio::test]
async fn attachments_over_the_limit_or_from_an_unverified_sender_are_named_not_sent() {
    let mut app = TestApp::start_with(|c| c.outbound.attachment_bytes = 150).await;
    let (forward, ack) = feedback_with_attachments(&app).await;
    let names: Vec<String> = forward.attachments().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["väärä tuote.png"],
        "the spreadsheet does not fit beside it"
    );
    let told = forward.flat_text();
    assert!(
        told.contains("veloitukset.csv (96 t, yhteensä yli 150 t)"),
        "{told}"
    );
    assert!(
        told.contains("pyydä lähettäjää lähettämään ne pienempinä vastaamalla tähän viestiin"),
        "{told}"
    );
    assert!(
        ack.flat_text()
            .contains("Voit lähettää ne pienempinä vastaamalla tähän viestiin."),
        "{}",
        ack.text
    );

    let claim = fixture(
        "provider-reply-outlook-attachment.eml",
        &[("to", &forward.from), ("in_reply_to", &forward.message_id)],
    );
    let claim = String::from_utf8(claim)
        .unwrap()
        .replace("anna@elisa.example", "anna@freemail.example");
    app.send("anna@freemail.example", &forward.from, claim.as_bytes())
        .await
        .unwrap();
    let out = app.wait_outbound(3).await;
    assert!(out[2].attachments().is_empty(), "{}", out[2].raw);
    assert!(
        out[2]
            .flat_text()
            .contains("Hyvityslasku 2026-12.pdf (lähettäjää ei voitu varmistaa)"),
        "{}",
        out[2].text
    );
    app.stop().await;
}

/// Issue 21: a writer who writes in Swedish or English gets the acknowledgement and the
/// company's answers in that language; the company's side stays in the service's language.
#[tokio::test]
async fn writers_are_answered_in_the_language_they_wrote_in() {
    let mut app = TestApp::start_with(common::no_limits).await;
    for (from, fixture_name, ack_opens, answer_says) in [
        (
            "anna.lindholm@example.fi",
            "new-feedback-swedish-outlook.eml",
            "Din respons är publicerad: Fakturan kom två gånger",
            "skrev i",
        ),
        (
            "john.smith@example.com",
            "new-feedback-english-iphone.eml",
            "Your feedback is public: Roaming charges after I cancelled",
            "wrote in",
        ),
    ] {
        let before = app.outbound().len();
        app.send(
            from,
            "palaute@nonono.localhost",
            &fixture(fixture_name, &[]),
        )
        .await
        .unwrap();
        let out = app.wait_outbound(before + 2).await;
        let new = &out[before..];
        let forward = new
            .iter()
            .find(|m| m.to.ends_with("@elisa.example"))
            .unwrap();
        let ack = new.iter().find(|m| m.to == from).unwrap();
        assert_eq!(ack.opening(), ack_opens, "{}", ack.text);
        assert!(
            forward.text.contains("Elisa on saanut julkista palautetta"),
            "the company reads the service's language: {}",
            forward.text
        );
        app.answer_as_company(forward).await;
        let out = app.wait_outbound(before + 3).await;
        let relay = &out[before + 2];
        assert_eq!(relay.to, from);
        assert!(relay.text.contains(answer_says), "{}", relay.text);
    }
    app.stop().await;
}

/// Issue 21: `language = "sv"` speaks Swedish on every page and in every refusal first.
#[tokio::test]
async fn a_swedish_service_speaks_swedish() {
    let mut app = TestApp::start_with(|c| c.language = nonono::config::Language::Sv).await;
    app.new_thread().await;
    let (_, home) = app.get("/").await;
    assert!(home.contains(r#"<html lang="sv">"#), "{home}");
    assert!(home.contains("Senaste respons"), "{home}");
    let (_, thread) = app.get("/t/1").await;
    assert!(
        thread.contains("Väntar på svar, skickades till företaget i dag"),
        "{thread}"
    );
    let (status, method) = app.get("/metod").await;
    assert_eq!(status, 200);
    assert!(method.contains("<h1>Hur siffrorna räknas</h1>"));
    let mut c = app.conversation().await;
    c.command("EHLO client.example").await;
    c.command("MAIL FROM:<x@example.fi>").await;
    let refused = c.command("RCPT TO:<nobody@nonono.localhost>").await;
    let lines: Vec<&str> = refused.lines().collect();
    assert_eq!(lines.len(), 3, "{refused}");
    assert!(
        lines[0].starts_with("550-5.1.1 Adressen finns inte."),
        "{refused}"
    );
    assert!(lines[1].contains("Osoitetta ei ole"), "{refused}");
    assert!(
        lines[2].starts_with("550 5.1.1 No such address here."),
        "{refused}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_out_of_office_reply_is_recorded_but_never_relayed() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    let ooo = fixture("auto-reply-ooo.eml", &[("to", &forward.from)]);
    app.send("anna@elisa.example", &forward.from, &ooo)
        .await
        .unwrap();
    app.wait_processed().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.outbound().len(), 2, "nothing relayed or answered");
    let (_, page) = app.get("/t/1").await;
    assert!(page.contains(r#"data-kind="auto""#) && page.contains("Automaattinen kuittaus"));
    assert!(
        !page.contains("Olen lomalla"),
        "auto-reply published as a post"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_company_address_works_without_a_tag_and_a_pseudonym_line_is_honoured() {
    let mut app = TestApp::start().await;
    app.send_fixture(
        "liisa@example.fi",
        "elisa@nonono.localhost",
        "new-feedback-provider-address.eml",
    )
    .await;
    let out = app.wait_outbound(2).await;
    let forward = out
        .iter()
        .find(|m| m.to == "asiakaspalvelu@elisa.example")
        .expect("default route");
    assert_eq!(forward.from_name, "Iltasurffaaja via nonono");
    assert!(!forward.text.contains("Nimimerkki:"));
    let ack = out.iter().find(|m| m.to == "liisa@example.fi").unwrap();
    assert!(ack.text.contains("\"Iltasurffaaja\""), "{}", ack.text);
    app.stop().await;
}

#[tokio::test]
async fn feedback_without_a_tag_gets_help_and_an_unregistered_company_waits_in_public() {
    let mut app = TestApp::start().await;
    app.send_fixture(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-no-tag.eml",
    )
    .await;
    app.send_fixture(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-unknown-tag.eml",
    )
    .await;
    let out = app.wait_outbound(2).await;
    assert!(
        out.iter().all(|m| m.to == "pekka@example.fi"),
        "nothing goes to any company"
    );
    assert!(
        out[0].text.contains("[Elisa]"),
        "help shows how to tag:\n{}",
        out[0].text
    );
    assert_eq!(out[0].auto_submitted.as_deref(), Some("auto-replied"));
    assert!(
        out[1]
            .text
            .contains("Yritys Acme Oy ei ole vielä palvelussa"),
        "{}",
        out[1].text
    );
    app.wait_processed().await;
    let store = app.store();
    let threads = store.latest_threads(10).unwrap();
    assert_eq!(threads.len(), 1, "a thread for the tagged feedback only");
    assert_eq!(threads[0].company, "Acme Oy");
    assert_eq!(threads[0].provider, None);
    let (_, page) = app.get(&format!("/t/{}", threads[0].id)).await;
    assert!(page.contains("Ei vielä toimitettu"), "{page}");
    assert_eq!(
        store.journal_counts().unwrap(),
        vec![("done".to_owned(), 2)],
        "raw messages kept"
    );
    app.stop().await;
}

#[tokio::test]
async fn recipients_are_refused_at_rcpt_with_a_sentence() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    let mut c = app.conversation().await;
    assert!(c.command("EHLO client.example").await.starts_with("250"));
    assert!(
        c.command("MAIL FROM:<x@example.fi>")
            .await
            .starts_with("250")
    );
    // Issue 21: the writer reads the refusal in the bounce their server sends, in Finnish,
    // Swedish and English, each naming where to write instead.
    let other_domain = c.command("RCPT TO:<someone@gmail.com>").await;
    assert!(
        other_domain
            .starts_with("550-5.7.1 Otamme postia vastaan vain osoitteisiin @nonono.localhost")
            && other_domain.contains("\r\n550 5.7.1 Relaying denied")
            && other_domain.matches("palaute@nonono.localhost").count() == 3,
        "{other_domain}"
    );
    let unknown = c.command("RCPT TO:<nobody@nonono.localhost>").await;
    assert!(
        unknown.starts_with(
            "550-5.1.1 Osoitetta ei ole. Kirjoita osoitteeseen palaute@nonono.localhost"
        ) && unknown
            .contains("\r\n550 5.1.1 No such address here. Write to palaute@nonono.localhost"),
        "{unknown}"
    );
    // Found by fuzzing: a token with non-ASCII letters once cut a character in two.
    let unicode = c
        .command(&format!(
            "RCPT TO:<t+aää{}@nonono.localhost>",
            "a".repeat(13)
        ))
        .await;
    assert!(unicode.starts_with("550-5.1.1"), "{unicode}");
    let mut forged = forward.from.clone();
    forged.replace_range(2..3, if &forged[2..3] == "a" { "b" } else { "a" });
    let bad_token = c.command(&format!("RCPT TO:<{forged}>")).await;
    assert!(
        bad_token.starts_with("550-5.1.1 Vastausosoite ei kelpaa")
            && bad_token.contains("reply address is not valid"),
        "{bad_token}"
    );
    assert!(
        c.command(&format!("RCPT TO:<{}>", forward.from.to_uppercase()))
            .await
            .starts_with("250"),
        "tokens survive upper-casing MTAs"
    );
    assert!(c.command("RCPT TO:<postmaster>").await.starts_with("250"));
    assert!(c.command("QUIT").await.starts_with("221"));
    app.stop().await;
}

#[tokio::test]
async fn ehlo_advertises_the_extensions_and_the_null_sender_is_accepted() {
    let mut app = TestApp::start().await;
    let mut c = app.conversation().await;
    let ehlo = c.command("EHLO client.example").await;
    for ext in [
        "SIZE 26214400",
        "8BITMIME",
        "SMTPUTF8",
        "PIPELINING",
        "ENHANCEDSTATUSCODES",
    ] {
        assert!(ehlo.contains(ext), "{ext} missing from {ehlo}");
    }
    assert!(
        c.command("MAIL FROM:<> SIZE=1000").await.starts_with("250"),
        "bounces come from <>"
    );
    assert!(
        c.command("RCPT TO:<palaute@nonono.localhost>")
            .await
            .starts_with("250")
    );
    assert!(c.command("DATA").await.starts_with("354"));
    let accepted = c.command("Subject: Undelivered\r\n\r\nbounce\r\n.").await;
    assert!(accepted.starts_with("250 2.0.0"), "{accepted}");
    app.wait_processed().await;
    let outcome = app.store().journal_outcome(1).unwrap().unwrap();
    assert_eq!(outcome.state, "done");
    assert!(
        outcome.outcome.unwrap().contains("held"),
        "automatic mail is never answered"
    );
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(app.outbound().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn pipelined_commands_get_their_answers_in_order() {
    let mut app = TestApp::start().await;
    let mut c = app.conversation().await;
    c.command("EHLO client.example").await;
    c.write(b"MAIL FROM:<a@example.fi>\r\nRCPT TO:<nobody@nonono.localhost>\r\nRCPT TO:<palaute@nonono.localhost>\r\nDATA\r\n").await;
    assert!(c.reply().await.starts_with("250"));
    assert!(c.reply().await.starts_with("550"));
    assert!(c.reply().await.starts_with("250"));
    assert!(c.reply().await.starts_with("354"));
    c.write(b"Subject: [Elisa] hei\r\n\r\nrivi\r\n.\r\nQUIT\r\n")
        .await;
    assert!(c.reply().await.starts_with("250"));
    assert!(c.reply().await.starts_with("221"));
    app.stop().await;
}

#[tokio::test]
async fn a_bare_lf_dot_does_not_end_the_message() {
    // Thirteen messages from one writer: more than the default abuse limits allow.
    let mut app = TestApp::start_with(no_limits).await;
    // The end-of-data shapes of the SMTP smuggling research: each must stay inside the data,
    // whole or cut into 7-byte segments, so the "second message" is never taken.
    let shapes: [&[u8]; 6] = [
        b"\n.\r\n",
        b"\n.\n",
        b"\r\n.\n",
        b"\r\n.\r\r\n",
        b"\r.\r\n",
        b"\r\n.\r",
    ];
    for (n, shape) in shapes.iter().enumerate() {
        for segment in [usize::MAX, 7] {
            let mut c = app.conversation().await;
            c.command("EHLO client.example").await;
            c.command("MAIL FROM:<a@example.fi>").await;
            c.command("RCPT TO:<palaute@nonono.localhost>").await;
            let go = c.command("DATA").await;
            assert!(go.starts_with("354"), "{go}");
            let mut data = format!("Subject: [Elisa] smuggling {n}\r\n\r\nfirst").into_bytes();
            data.extend_from_slice(shape);
            data.extend_from_slice(b"MAIL FROM:<evil@example.com>\r\nRCPT TO:<palaute@nonono.localhost>\r\nDATA\r\nSubject: [Elisa] smuggled\r\n\r\nstill data\r\n.\r\nQUIT\r\n");
            for piece in data.chunks(segment.min(data.len())) {
                c.write(piece).await;
                tokio::task::yield_now().await;
            }
            let reply = c.reply().await;
            assert!(reply.starts_with("250 "), "{shape:?} in {segment}: {reply}");
            let bye = c.reply().await;
            assert!(
                bye.starts_with("221 "),
                "{shape:?}: one message only, then QUIT: {bye}"
            );
        }
    }
    // An empty message ends at once too.
    let mut c = app.conversation().await;
    c.command("EHLO client.example").await;
    c.command("MAIL FROM:<a@example.fi>").await;
    c.command("RCPT TO:<palaute@nonono.localhost>").await;
    c.command("DATA").await;
    assert!(c.command(".").await.starts_with("250 "));
    app.wait_processed().await;
    assert_eq!(
        app.store().journal_counts().unwrap(),
        vec![("done".to_owned(), 2 * shapes.len() as i64 + 1)]
    );
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_message_gets_552_and_the_session_goes_on() {
    let mut app = TestApp::start_with(|c| c.smtp.max_message_bytes = 2048).await;
    let mut c = app.conversation().await;
    assert!(c.command("EHLO client.example").await.contains("SIZE 2048"));
    for size in ["99999", "99999999999999999999999"] {
        let reply = c
            .command(&format!("MAIL FROM:<a@example.fi> SIZE={size}"))
            .await;
        assert!(reply.starts_with("552"), "SIZE={size}: {reply}");
    }
    c.command("MAIL FROM:<a@example.fi>").await;
    c.command("RCPT TO:<palaute@nonono.localhost>").await;
    c.command("DATA").await;
    let big = format!("Subject: [Elisa] iso\r\n\r\n{}\r\n.", "x".repeat(5000));
    let reply = c.command(&big).await;
    assert!(reply.starts_with("552-5.3.4"), "{reply}");
    c.command("MAIL FROM:<a@example.fi>").await;
    c.command("RCPT TO:<palaute@nonono.localhost>").await;
    c.command("DATA").await;
    assert!(
        c.command("Subject: [Elisa] pieni\r\n\r\nok\r\n.")
            .await
            .starts_with("250")
    );
    app.stop().await;
}

#[tokio::test]
async fn an_overlong_line_is_refused_without_reading_it_all() {
    let mut app = TestApp::start().await;
    let mut c = app.conversation().await;
    let reply = c.command(&format!("EHLO {}", "a".repeat(100_000))).await;
    assert!(reply.starts_with("500 5.5.2"), "{reply}");
    assert!(
        c.command("NOOP").await.starts_with("250"),
        "the session survives"
    );
    app.stop().await;
}

#[tokio::test]
async fn healthz_answers_ok() {
    let mut app = TestApp::start().await;
    let (status, body) = app.get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (status, _) = app.get("/t/999").await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn accepted_mail_is_processed_after_a_restart() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    app.restart(|_| {}).await;
    // Tokens and threads survive: the secret and the store are in data_dir.
    app.answer_as_company(&forward).await;
    let out = app.wait_outbound(3).await;
    assert_eq!(out[2].to, CONSUMER);
    app.stop().await;
}

#[tokio::test]
async fn an_idle_client_is_disconnected() {
    let mut app = TestApp::start_with(|c| c.smtp.idle_timeout_secs = 1).await;
    let mut c = app.conversation().await;
    let reply = c.reply().await;
    assert!(reply.starts_with("421 4.4.2"), "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_tells_open_sessions_to_come_back_later() {
    let mut app = TestApp::start().await;
    let mut c = app.conversation().await;
    c.command("EHLO client.example").await;
    let stopping = tokio::spawn(async move {
        app.stop().await;
        app
    });
    let reply = c.reply().await;
    assert!(reply.starts_with("421 4.3.2"), "{reply}");
    stopping.await.unwrap();
}

#[tokio::test]
async fn a_bounce_is_traced_to_its_thread_marks_the_route_and_tells_the_operator() {
    let mut app =
        TestApp::start_with(|c| c.operator_address = Some("operator@example.org".into())).await;
    let (forward, _) = app.new_thread().await;
    // Every message has its own bounce address, naming it.
    assert!(
        forward.return_path.starts_with("b+"),
        "{}",
        forward.return_path
    );
    assert_token_address(&forward.return_path.replacen("b+", "t+", 1));
    let dsn = fixture("bounce-dsn.eml", &[("to", &forward.return_path)]);
    app.send("", &forward.return_path, &dsn)
        .await
        .expect("250 for a bounce from <>");
    let out = app.wait_outbound(3).await;
    let notice = &out[2];
    assert_eq!(notice.to, "operator@example.org");
    assert_eq!(notice.auto_submitted.as_deref(), Some("auto-generated"));
    assert!(
        notice.text.contains("https://nonono.test/t/1"),
        "{}",
        notice.text
    );
    assert_eq!(
        notice.return_path, "",
        "a notice is sent with the null sender"
    );
    let (_, page) = app.get("/t/1").await;
    assert!(
        page.contains("Palautetta ei voitu toimittaa yritykselle"),
        "{page}"
    );
    assert!(!page.contains("Undelivered"), "the report is not published");
    let mut c = app.conversation().await;
    c.command("EHLO x").await;
    c.command("MAIL FROM:<>").await;
    let forged = c
        .command("RCPT TO:<b+1aaaaaaaaaaaaaaaa@nonono.localhost>")
        .await;
    assert!(forged.starts_with("550"), "{forged}");
    app.stop().await;
}

/// A bounce after the smarthost took the mail is listed with its reason, the route heals when
/// later mail to it gets through (the stopped clock starts again, and the page says so), and
/// the bounced message can be sent again.
/// Issue 22: the smarthost's success report (as Postfix writes it for a forward handed to
/// the company's server) shows on the thread, once; the server's answer is kept for the
/// operator and is not published.
#[tokio::test]
async fn a_success_report_shows_that_the_company_server_took_the_feedback() {
    let mut app = TestApp::start().await;
    let (forward, ack) = app.new_thread().await;
    // Before any report, the thread says when the feedback left us.
    let (_, page) = app.get("/t/1").await;
    let left = "Lähti yrityksen postipalvelimelle päin <time datetime=";
    assert!(page.contains(left), "{page}");
    let report = |to: &str| {
        fixture(
            "delivery-report-success.eml",
            &[("to", to), ("envid", "nonono-1")],
        )
    };
    for _ in 0..2 {
        app.send("", &forward.return_path, &report(&forward.return_path))
            .await
            .unwrap();
    }
    app.send("", &ack.return_path, &report(&ack.return_path))
        .await
        .unwrap();
    app.wait_processed().await;
    let (_, page) = app.get("/t/1").await;
    assert_eq!(
        page.matches("Palaute toimitettiin yrityksen postipalvelimelle")
            .count(),
        1,
        "{page}"
    );
    assert!(
        !page.contains("4Q8bXk0Zq2z9sW"),
        "the server's answer stays private"
    );
    assert!(!page.contains(left), "the report says more: {page}");
    let events = app.store().events(1).unwrap();
    let delivered = events
        .iter()
        .find(|e| e.kind.as_str() == "delivered")
        .unwrap();
    assert!(
        delivered
            .detail
            .contains("relayed 2.0.0: smtp; 250 2.0.0 Ok: queued as 4Q8bXk0Zq2z9sW"),
        "{delivered:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bounce_after_acceptance_is_listed_healed_and_sent_again() {
    let app =
        TestApp::start_with(|c| c.operator_address = Some("operator@example.org".into())).await;
    let (forward, _) = app.new_thread().await;
    let dsn = fixture("bounce-dsn.eml", &[("to", &forward.return_path)]);
    app.send("", &forward.return_path, &dsn).await.unwrap();
    app.wait_processed().await;
    let rows = app.store().queue_listing().unwrap();
    let bounced = rows
        .iter()
        .find(|r| r.purpose == "forward")
        .unwrap_or_else(|| panic!("the bounced forward is listed: {rows:?}"));
    assert_eq!(bounced.state, "failed");
    assert_eq!(
        bounced.last_error.as_deref(),
        Some("bounced after delivery: failed 5.1.1")
    );
    assert!(
        app.store()
            .thread(1)
            .unwrap()
            .unwrap()
            .undeliverable_at
            .is_some()
    );

    // Later feedback about the same company goes to the same address, and gets through.
    let later = "From: Pekka <pekka@example.fi>\r\nSubject: [Elisa] Toinen lasku\r\nMessage-ID: <later@example.fi>\r\n\r\nSama juttu minulla.\r\n";
    app.send(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        later.as_bytes(),
    )
    .await
    .unwrap();
    app.wait_processed().await;
    let threads = app.store().latest_threads(5).unwrap();
    assert_eq!(threads.len(), 2, "{threads:?}");
    let mut healed = app.store().thread(1).unwrap().unwrap();
    for _ in 0..200 {
        if healed.undeliverable_at.is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        healed = app.store().thread(1).unwrap().unwrap();
    }
    assert_eq!(healed.undeliverable_at, None, "the route works again");
    assert!(healed.due_at.is_some(), "its clock runs again");
    // Found by breaking it (issue 21): the clock ran on, but the company never had this
    // feedback. It went again by itself, and the clock ran on once it got through.
    app.wait_queue(|rows| rows.iter().all(|r| r.id != bounced.id))
        .await;
    let (_, page) = app.get("/t/1").await;
    assert!(
        page.contains("Posti meni taas perille yritykselle"),
        "{page}"
    );
    assert!(!page.contains("Ei toimitettavissa"), "{page}");

    // Refused once more, it waits for the operator, who sends it again.
    app.send("", &forward.return_path, &dsn).await.unwrap();
    app.wait_processed().await;
    let resend = std::process::Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(["queue", "resend", &bounced.id.to_string(), "--config"])
        .arg(app.cli_config())
        .output()
        .unwrap();
    assert!(
        resend.status.success(),
        "{}",
        String::from_utf8_lossy(&resend.stderr)
    );
    // The relay looks at the outbox every few seconds; the forward goes out again.
    app.wait_queue(|rows| rows.iter().all(|r| r.id != bounced.id))
        .await;
    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(["queue", "--config"])
        .arg(app.cli_config())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("nothing waiting"));
}

#[tokio::test]
async fn a_sender_writing_faster_than_a_person_is_held() {
    // With the abuse limits off, the pipeline's loop brake is what stops it: a few rounds
    // between one sender and one address of ours.
    let mut app = TestApp::start_with(no_limits).await;
    for i in 0..8 {
        let raw =
            format!("From: kone@example.fi\r\nSubject: [VR] Viesti {i}\r\n\r\nTeksti {i}\r\n");
        app.send(
            "kone@example.fi",
            "palaute@nonono.localhost",
            raw.as_bytes(),
        )
        .await
        .unwrap();
    }
    app.wait_processed().await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.outbound().len(),
        12,
        "6 answered and forwarded, then held"
    );
    let outcome = app.store().journal_outcome(8).unwrap().unwrap();
    assert!(outcome.outcome.unwrap().contains("too many messages"));
    app.stop().await;
}

/// Issue 18: a desk answering 40 threads in a morning was held as a mail loop (more than 30
/// messages from one sender in 10 minutes). The brake counts per sender and address of ours:
/// a representative answering 100 threads at once has every answer published, while the same
/// answer going round one thread is stopped after a few rounds.
#[tokio::test]
async fn the_loop_brake_stops_loops_not_desks() {
    let mut app = TestApp::start_with(no_limits).await;
    let letter = String::from_utf8(fixture("new-feedback-tagged.eml", &[])).unwrap();
    for i in 0..100 {
        let writer = format!("kirjoittaja{i}@example.fi");
        let raw = letter.replace("matti.meikalainen@example.fi", &writer);
        app.send(&writer, "palaute@nonono.localhost", raw.as_bytes())
            .await
            .unwrap();
    }
    app.wait_delivered().await;
    let forwards: Vec<_> = app
        .outbound()
        .into_iter()
        .filter(|m| m.to.ends_with("@elisa.example"))
        .collect();
    assert_eq!(forwards.len(), 100);
    for forward in &forwards {
        app.answer_as_company(forward).await;
    }
    app.wait_processed().await;
    let store = app.store();
    let official = (1..=100)
        .filter(|&t| {
            store
                .posts(t)
                .unwrap()
                .iter()
                .any(|p| p.kind.as_str() == "official")
        })
        .count();
    assert_eq!(official, 100, "every answer of the desk is published");

    // An auto-forward sending the same answer round one thread.
    for _ in 0..9 {
        app.answer_as_company(&forwards[0]).await;
    }
    app.wait_processed().await;
    let answers = store
        .posts(forwards_thread(&forwards[0]))
        .unwrap()
        .iter()
        .filter(|p| p.kind.as_str() == "official")
        .count();
    assert_eq!(answers, 6, "stopped after a few rounds");
    app.stop().await;
}

/// The thread a forward belongs to: its public link names it.
fn forwards_thread(forward: &common::Outbound) -> i64 {
    let at = forward.text.find("/t/").expect("a thread link") + 3;
    forward.text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn our_own_mail_coming_back_is_held() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    // A company's system that sends our forward straight back to us, loop marker and all.
    app.send(
        "asiakaspalvelu@elisa.example",
        &forward.from,
        forward.raw.as_bytes(),
    )
    .await
    .unwrap();
    app.wait_processed().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.outbound().len(), 2, "nothing relayed");
    assert_eq!(app.store().posts(1).unwrap().len(), 1, "nothing published");
    app.stop().await;
}

#[tokio::test]
async fn abuse_limits_answer_451_with_a_sentence_and_count_address_variants_as_one() {
    let mut app = TestApp::start_with(|c| {
        c.limits.new_threads_per_address_per_hour = 2;
        c.limits.new_threads_per_ip_per_hour = 0;
        c.limits.messages_per_pair_per_day = 3;
    })
    .await;
    let feedback =
        |from: &str, subject: &str| format!("From: {from}\r\nSubject: {subject}\r\n\r\nTeksti\r\n");
    app.send(
        "matti@gmail.com",
        "palaute@nonono.localhost",
        feedback("matti@gmail.com", "[VR] yksi").as_bytes(),
    )
    .await
    .unwrap();
    app.send(
        "m.a.t.t.i+vr@gmail.com",
        "vr@nonono.localhost",
        feedback("m.a.t.t.i+vr@gmail.com", "kaksi").as_bytes(),
    )
    .await
    .unwrap();
    // The third new thread within the hour, from the same Gmail box written differently.
    let mut c = app.conversation().await;
    c.command("EHLO x").await;
    c.command("MAIL FROM:<Matti+x@googlemail.com>").await;
    let refused = c.command("RCPT TO:<palaute@nonono.localhost>").await;
    assert!(
        refused.starts_with("451-4.7.1") && refused.contains("in an hour"),
        "{refused}"
    );
    c.command("QUIT").await;
    app.wait_processed().await;
    // Replies in a thread are no new threads, but they count for the company pair: the
    // consumer wrote twice about VR already, so a third message to VR today is refused.
    let ack = app
        .wait_outbound(4)
        .await
        .into_iter()
        .find(|m| m.to == "matti@gmail.com")
        .unwrap();
    let reply = "From: matti@gmail.com\r\nSubject: Re\r\n\r\nLisää tietoa\r\n";
    app.send("matti@gmail.com", &ack.from, reply.as_bytes())
        .await
        .unwrap();
    let err = app
        .send("matti@gmail.com", &ack.from, reply.as_bytes())
        .await
        .expect_err("pair limit");
    assert!(
        err.to_string()
            .contains("Too many messages to this company today")
            && err
                .to_string()
                .contains("Olet kirjoittanut samalle yritykselle"),
        "{err}"
    );
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_accepted_refused_pipeline_and_outbox() {
    let mut app = TestApp::start().await;
    app.new_thread().await;
    let mut c = app.conversation().await;
    c.command("EHLO x").await;
    c.command("MAIL FROM:<a@example.fi>").await;
    c.command("RCPT TO:<x@gmail.com>").await;
    c.command("RCPT TO:<nobody@nonono.localhost>").await;
    c.command("QUIT").await;
    app.wait_processed().await;
    let (status, headers, body) = common::http_get(&app.http_base(), "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/plain; version=0.0.4"))
    );
    for line in [
        "nonono_smtp_accepted_total 1",
        "nonono_smtp_refused_total{reason=\"relay\"} 1",
        "nonono_smtp_refused_total{reason=\"unknown_recipient\"} 1",
        "nonono_journal_messages 1",
        "nonono_pipeline_pending 0",
        "nonono_threads 1",
    ] {
        assert!(body.lines().any(|l| l == line), "{line} missing:\n{body}");
    }
    assert!(body.contains("# TYPE nonono_outbox_pending gauge"));
    // What flow control watches comes back to zero once the pipeline has caught up.
    let mut backlog = String::new();
    for _ in 0..100 {
        let (_, _, body) = common::http_get(&app.http_base(), "/metrics").await;
        backlog = body
            .lines()
            .find(|l| l.starts_with("nonono_pipeline_backlog "))
            .unwrap_or_default()
            .to_owned();
        if backlog == "nonono_pipeline_backlog 0" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(backlog, "nonono_pipeline_backlog 0");
    app.stop().await;
}

#[tokio::test]
async fn one_client_address_cannot_take_every_session_and_headers_are_bounded() {
    let mut app = TestApp::start().await;
    let mut open = Vec::new();
    for _ in 0..20 {
        open.push(app.conversation().await);
    }
    let mut extra = tokio::net::TcpStream::connect(("127.0.0.1", app.smtp_port()))
        .await
        .unwrap();
    let mut greeting = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut extra, &mut greeting)
        .await
        .unwrap();
    assert!(greeting.starts_with("421 4.3.2"), "{greeting}");
    drop(open);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let mut c = app.conversation().await;
    c.command("EHLO x").await;
    c.command("MAIL FROM:<a@example.fi>").await;
    c.command("RCPT TO:<palaute@nonono.localhost>").await;
    c.command("DATA").await;
    let huge = format!(
        "X-Padding: {}\r\nSubject: [VR] x\r\n\r\nteksti\r\n.",
        "a".repeat(70_000)
    );
    let reply = c.command(&huge).await;
    assert!(
        reply.starts_with("552 5.3.4 Header section too large"),
        "{reply}"
    );
    app.stop().await;
}
