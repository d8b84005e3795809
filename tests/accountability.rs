//! Accountability: companies past their response time are reminded (at most three times, on a
//! clock the test controls), and the reminders are answerable mail.

mod common;

use common::TestApp;
use nonono::app;
use nonono::domain::calendar::add_working_days;
use nonono::pipeline::remind;

#[tokio::test]
async fn a_late_company_is_reminded_three_times_at_most_and_its_answer_stops_them() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    app.wait_processed().await;
    let thread = app.store().latest_threads(1).unwrap().remove(0);
    let due = thread
        .due_at
        .expect("a registered company has a response time");

    // The reminders are queued at the test's future times, then sent on the real clock.
    app.on_the_clock(|store, config, key| {
        let mut remind_at = |now| remind::send_due(store, config, key, now).unwrap();
        assert_eq!(remind_at(due - 60), 0, "not before the response time");
        assert_eq!(remind_at(due + 60), 1);
        assert_eq!(remind_at(due + 120), 0, "not again straight away");
        // Elisa answers within 3 working days: the next reminder comes 3 working days later.
        let second = add_working_days(due + 60, 3, &[]);
        assert_eq!(remind_at(second - 60), 0);
        assert_eq!(remind_at(second), 1);
        let third = add_working_days(second, 3, &[]);
        assert_eq!(remind_at(third), 1);
        assert_eq!(
            remind_at(add_working_days(third, 30, &[])),
            0,
            "three at most"
        );
    })
    .await;
    let out = app.wait_outbound(5).await;
    let reminders: Vec<_> = out
        .iter()
        .filter(|m| m.opening().starts_with("Muistutus "))
        .collect();
    assert_eq!(reminders.len(), 3);
    assert_eq!(reminders[0].opening(), "Muistutus 1/3: Lasku tuli kahdesti");
    assert_eq!(reminders[2].opening(), "Muistutus 3/3: Lasku tuli kahdesti");
    // Issue 21: every mail to the company in the thread answers the forward's subject.
    assert_eq!(reminders[0].subject, "Re: Palaute: Lasku tuli kahdesti");
    for r in &reminders {
        assert_eq!(r.to, forward.to, "to the route that has the feedback");
        assert_eq!(r.from, forward.from, "answering it answers the feedback");
        assert!(
            r.in_reply_to.contains(&forward.message_id),
            "threaded under the forward"
        );
        assert!(r.text.contains("https://nonono.test/t/"), "{}", r.text);
    }
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(
        page.contains("Yritykselle lähetettiin muistutus 1/3"),
        "{page}"
    );
    assert!(page.contains("Yritykselle lähetettiin muistutus 3/3"));

    // The company answers the last reminder: that is its answer to the feedback.
    app.answer_as_company(reminders[2]).await;
    app.wait_processed().await;
    let answered = app.store().thread(thread.id).unwrap().unwrap();
    assert!(answered.first_answer_at.is_some());
}

/// Starts a thread about Elisa from `writer` and returns the forward the company got.
async fn thread_from(app: &TestApp, writer: &str, title: &str) -> common::Outbound {
    let raw = format!(
        "From: {writer}\r\nTo: palaute@nonono.localhost\r\nSubject: [Elisa] {title}\r\n\
         Message-ID: <{title}@example.fi>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Lasku tuli kahdesti, mitä teen?\r\n"
    );
    let before = app.outbound().len();
    app.send(writer, "palaute@nonono.localhost", raw.as_bytes())
        .await
        .unwrap();
    app.wait_outbound(before + 2).await;
    app.outbound()[before..]
        .iter()
        .find(|m| m.to.ends_with("@elisa.example"))
        .expect("forward")
        .clone()
}

/// The company answers a forward with `text`; returns the mail that went out because of it.
async fn answer(app: &TestApp, forward: &common::Outbound, text: &str) -> Vec<common::Outbound> {
    let raw = format!(
        "From: Anna <anna@elisa.example>\r\nTo: {to}\r\nSubject: RE: {subject}\r\n\
         In-Reply-To: <{id}>\r\nMessage-ID: <re-{id}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n",
        to = forward.from,
        subject = forward.subject,
        id = forward.message_id,
    );
    let before = app.outbound().len();
    app.send("anna@elisa.example", &forward.from, raw.as_bytes())
        .await
        .unwrap();
    app.wait_processed().await;
    app.wait_outbound(before + 1).await;
    app.outbound()[before..].to_vec()
}

const TEMPLATE: &str = "Hei NAME, kiitos palautteestasi. Olemme välittäneet asian \
    eteenpäin ja palaamme asiaan mahdollisimman pian. Viitteenne on NUMBER. \
    Ystävällisin terveisin asiakaspalvelu";

#[tokio::test]
async fn template_answers_are_marked_quietly_and_counted_against_personal_answers() {
    let app = TestApp::start().await;
    let first = thread_from(&app, "matti@example.fi", "Lasku kahdesti").await;
    let second = thread_from(&app, "liisa@example.fi", "Tuplalasku").await;
    let third = thread_from(&app, "pekka@example.fi", "Laskutusvirhe").await;
    answer(
        &app,
        &first,
        &TEMPLATE.replace("NAME", "Matti").replace("NUMBER", "1234"),
    )
    .await;
    answer(
        &app,
        &second,
        &TEMPLATE.replace("NAME", "Liisa").replace("NUMBER", "98-77"),
    )
    .await;
    answer(
        &app,
        &third,
        "Hei Pekka, kaksoisveloitus johtui meidän järjestelmävirheestämme. Palautimme \
         toisen veloituksen tilillesi tänään ja lisäsimme laskulle hyvityksen vaivasta. \
         Soita minulle suoraan, jos jokin jää epäselväksi.",
    )
    .await;

    let store = app.store();
    let mut marked = Vec::new();
    for thread in store.latest_threads(3).unwrap() {
        let posts = store.posts(thread.id).unwrap();
        let answer = posts
            .iter()
            .find(|p| p.kind.as_str() == "official")
            .unwrap();
        marked.push((thread.title.clone(), answer.template));
        let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
        assert_eq!(
            page.contains(r#"data-template="true""#),
            answer.template,
            "{}",
            thread.title
        );
        assert_eq!(page.contains("Vakiovastaus"), answer.template);
    }
    marked.sort();
    assert_eq!(
        marked,
        [
            ("Lasku kahdesti".to_owned(), true),
            ("Laskutusvirhe".to_owned(), false),
            ("Tuplalasku".to_owned(), true)
        ]
    );
    let (_, company) = app.get("/p/elisa").await;
    assert!(
        company.contains(
            r#"<dt>Henkilökohtaisia vastauksia</dt><dd><span class="value few">liian vähän vastauksia</span> <span class="count">(3)</span>"#
        ),
        "{company}"
    );
}

#[tokio::test]
async fn an_answer_that_blames_is_published_and_the_company_is_told_privately_once() {
    let app = TestApp::start().await;
    let forward = thread_from(&app, "matti@example.fi", "Paketti myöhässä").await;
    let blaming = "Hei, emme vastaa kuljetusliikkeen viivästyksistä, joten asia ei kuulu meille.";
    let out = answer(&app, &forward, blaming).await;
    let notes: Vec<_> = out
        .iter()
        .filter(|m| m.opening().starts_with("Vastauksestanne"))
        .collect();
    assert_eq!(notes.len(), 1, "{out:?}");
    assert_eq!(notes[0].to, forward.to, "to the company, not the writer");
    assert!(
        notes[0].text.contains("\"emme vastaa\""),
        "{}",
        notes[0].text
    );
    assert!(notes[0].text.contains("sitä ei julkaista"));

    let again = answer(&app, &forward, "Kuten sanoimme, emme vastaa tästä.").await;
    assert!(
        !again
            .iter()
            .any(|m| m.opening().starts_with("Vastauksestanne")),
        "once per thread"
    );
    let thread = app.store().latest_threads(1).unwrap().remove(0);
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(
        page.contains("emme vastaa kuljetusliikkeen viivästyksistä"),
        "published as written"
    );
    assert!(!page.contains("Vastauksestanne"), "the note is private");
}

#[tokio::test]
async fn an_unregistered_company_is_in_the_operators_digest_and_gets_its_feedback_on_registration()
{
    let mut app =
        TestApp::start_with(|c| c.operator_address = Some("operator@nonono.test".into())).await;
    app.send_fixture(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-unknown-tag.eml",
    )
    .await;
    app.wait_outbound(1).await;
    app.wait_processed().await;
    // The scheduler runs at start: the digest lists the company feedback waits for.
    app.restart(|_| {}).await;
    let out = app.wait_outbound(2).await;
    let digest = out
        .iter()
        .find(|m| m.to == "operator@nonono.test")
        .expect("digest");
    assert_eq!(
        digest.subject,
        "Rekisteröimättömät yritykset: 1, pidossa: 0"
    );
    assert!(
        digest.text.contains("- Acme Oy: 1 palautetta"),
        "{}",
        digest.text
    );
    app.restart(|_| {}).await;
    assert_eq!(app.outbound().len(), 2, "one digest a day");

    let config = app.cli_config();
    let add = |slug: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_nonono"))
            .args(["providers", "add", slug, "--name", "Acme Oy"])
            .args([
                "--route",
                "palaute@acme.example",
                "--representative",
                "acme.example",
            ])
            .args(["--config", config.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let added = add("acme");
    let printed = String::from_utf8_lossy(&added.stdout);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    assert!(printed.contains("1 waiting thread forwarded"), "{printed}");
    let again = add("acme");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("registered already"));
    assert!(
        app.store().company("acme").unwrap().is_some(),
        "registered in the store, not the config file"
    );

    // The running service delivers it, no restart.
    let out = app.wait_outbound(3).await;
    let forward = out
        .iter()
        .find(|m| m.to == "palaute@acme.example")
        .expect("the waiting feedback is forwarded");
    assert!(forward.text.contains("Acme"), "{}", forward.text);
    let thread = app.store().latest_threads(1).unwrap().remove(0);
    assert_eq!(thread.provider.as_deref(), Some("acme"));
    assert!(thread.due_at.is_some(), "its response time starts now");
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(page.contains("Yritys rekisteröitiin, ja palaute välitettiin sille"));
}

#[tokio::test]
async fn the_company_clock_starts_at_delivery_and_pauses_while_its_route_bounces() {
    let sink = common::sink::Sink::start("550 5.1.1 No such mailbox").await;
    let app = TestApp::start_with(|c| {
        c.outbound.transport = nonono::config::Transport::Smtp;
        c.outbound.smtp_port = sink.port;
    })
    .await;
    app.send_fixture(
        "matti.meikalainen@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-tagged.eml",
    )
    .await;
    let store = app.store();
    let thread = loop {
        let threads = store.latest_threads(1).unwrap();
        if let Some(t) = threads.first().filter(|t| t.undeliverable_at.is_some()) {
            break t.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert_eq!(thread.due_at, None, "the clock is paused");
    assert_eq!(thread.delivered_at, None);
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(page.contains("Ei toimitettavissa yritykselle"), "{page}");
    // Issue 21: the event says which mail bounced, to whom.
    assert!(
        page.contains("Palautetta ei voitu toimittaa yritykselle"),
        "{page}"
    );

    // The company's server takes mail again: the writer's next message gets through, and the
    // company's response time starts from that moment.
    sink.set_reply("250 2.0.0 OK");
    // The writer's reply address: the thread's first participant is its writer.
    let key = app::token_key(&app.config).unwrap();
    let writer_token = format!("t+{}@nonono.localhost", key.issue(1));
    let follow_up = "From: matti.meikalainen@example.fi\r\nTo: x\r\nSubject: Re: lasku\r\n\
        Message-ID: <follow-up@example.fi>\r\n\r\nJoko asia etenee?\r\n";
    app.send(
        "matti.meikalainen@example.fi",
        &writer_token,
        follow_up.as_bytes(),
    )
    .await
    .unwrap();
    sink.wait(1).await;
    let reached = loop {
        let t = store.thread(thread.id).unwrap().unwrap();
        if t.delivered_at.is_some() {
            break t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert_eq!(reached.undeliverable_at, None);
    let delivered = reached.delivered_at.unwrap();
    assert_eq!(
        reached.due_at,
        Some(add_working_days(delivered, 3, &[])),
        "three working days from delivery"
    );
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(
        page.contains("Odottaa vastausta, lähti yritykselle tänään"),
        "{page}"
    );
}

#[tokio::test]
async fn the_writer_is_asked_once_whether_it_was_solved_and_the_answer_counts() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    app.answer_as_company(&forward).await;
    app.wait_processed().await;
    let thread = app.store().latest_threads(1).unwrap().remove(0);
    let answered = thread.first_answer_at.unwrap();
    let ask_from = add_working_days(answered, nonono::pipeline::solved::ASK_AFTER_DAYS, &[]);
    app.on_the_clock(|store, config, key| {
        let mut ask_at = |now| nonono::pipeline::solved::ask_due(store, config, key, now).unwrap();
        assert_eq!(ask_at(ask_from - 60), 0, "not too soon after the answer");
        assert_eq!(ask_at(ask_from), 1);
        assert_eq!(ask_at(ask_from + 86_400 * 30), 0, "only once");
    })
    .await;
    let question = loop {
        if let Some(q) = app
            .outbound()
            .into_iter()
            .find(|m| m.opening().starts_with("Ratkesiko asiasi?"))
        {
            break q;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert_eq!(question.to, "matti.meikalainen@example.fi");
    assert!(question.from.starts_with("s+"), "{}", question.from);
    assert!(
        question
            .text
            .contains(&format!("mailto:{}?subject=ratkaistu", question.from)),
        "{}",
        question.text
    );

    let reply = |from: &str, body: &str| {
        format!(
            "From: {from}\r\nTo: {to}\r\nSubject: Re: {subject}\r\nMessage-ID: <{n}@example.fi>\r\n\r\n{body}\r\n",
            to = question.from,
            subject = question.subject,
            n = body.len(),
        )
    };
    // Only the writer's word counts.
    app.send(
        "someone@example.fi",
        &question.from,
        reply("someone@example.fi", "Ei ratkaistu").as_bytes(),
    )
    .await
    .unwrap();
    app.wait_processed().await;
    assert_eq!(
        app.store()
            .figures("elisa", nonono::clock::now())
            .unwrap()
            .unsolved,
        0
    );
    app.send(
        "matti.meikalainen@example.fi",
        &question.from,
        reply("matti.meikalainen@example.fi", "Ratkaistu, kiitos!").as_bytes(),
    )
    .await
    .unwrap();
    app.wait_processed().await;
    let figures = app.store().figures("elisa", nonono::clock::now()).unwrap();
    assert_eq!((figures.solved, figures.unsolved), (1, 0));
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(page.contains("Kirjoittajan mukaan asia ratkesi"), "{page}");
    let (_, company) = app.get("/p/elisa").await;
    assert!(company.contains(
        r#"<dt>Ratkaistu kirjoittajan mukaan</dt><dd><span class="value few">liian vähän arvioita</span> <span class="count">(1)</span>"#
    ));
}

#[tokio::test]
async fn readers_with_the_same_problem_support_a_thread_once_each_after_confirming() {
    let app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    app.wait_processed().await;
    let thread = app.store().latest_threads(1).unwrap().remove(0);
    let support_address = format!("tuki+{}@nonono.localhost", thread.id);
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(
        page.contains(&format!("<strong>{support_address}</strong>")),
        "{page}"
    );

    let mail = |from: &str, n: u32| {
        format!(
            "From: {from}\r\nTo: {support_address}\r\nSubject: Sama juttu\r\n\
             Message-ID: <support-{n}@example.fi>\r\n\r\nMinulle kävi samoin.\r\n"
        )
    };
    let before = app.outbound().len();
    app.send(
        "liisa@example.fi",
        &support_address,
        mail("liisa@example.fi", 1).as_bytes(),
    )
    .await
    .unwrap();
    let out = app.wait_outbound(before + 1).await;
    let confirm = &out[before];
    assert_eq!(confirm.to, "liisa@example.fi");
    assert!(
        confirm.subject.starts_with("Vahvista tukesi"),
        "{}",
        confirm.subject
    );
    assert!(confirm.from.starts_with("v+"));
    let count = |app: &TestApp| app.store().thread(thread.id).unwrap().unwrap().supporters;
    assert_eq!(count(&app), 0, "not before confirming");

    let reply = format!(
        "From: liisa@example.fi\r\nTo: {to}\r\nSubject: Re: {subject}\r\n\
         Message-ID: <support-confirm@example.fi>\r\n\r\nKyllä\r\n",
        to = confirm.from,
        subject = confirm.subject
    );
    app.send("liisa@example.fi", &confirm.from, reply.as_bytes())
        .await
        .unwrap();
    let out = app.wait_outbound(before + 2).await;
    app.wait_processed().await;
    assert_eq!(count(&app), 1);
    let notice = &out[before + 1];
    assert_eq!(
        notice.to, forward.to,
        "the company hears that one voice speaks for many"
    );
    assert_eq!(
        notice.from, forward.from,
        "answering it answers the feedback"
    );
    assert!(
        notice.opening().starts_with("1 muuta tukee palautetta"),
        "{}",
        notice.text
    );

    // The same address again, and the thread's own writer, do not count.
    app.send(
        "liisa@example.fi",
        &support_address,
        mail("liisa@example.fi", 2).as_bytes(),
    )
    .await
    .unwrap();
    app.send(
        "matti.meikalainen@example.fi",
        &support_address,
        mail("matti.meikalainen@example.fi", 3).as_bytes(),
    )
    .await
    .unwrap();
    app.wait_processed().await;
    assert_eq!(count(&app), 1);
    assert_eq!(app.outbound().len(), before + 2, "nothing more was sent");
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(page.contains(r#"data-supporters="1""#), "{page}");
}

#[tokio::test]
async fn a_follower_confirms_gets_a_daily_digest_and_leaves_with_one_click() {
    let mut app = TestApp::start().await;
    let follower = "seuraaja@example.fi";
    let ask = format!(
        "From: {follower}\r\nTo: follow+elisa@nonono.localhost\r\nSubject: seuraa\r\n\
         Message-ID: <follow-1@example.fi>\r\n\r\nHaluan seurata.\r\n"
    );
    app.send(follower, "follow+elisa@nonono.localhost", ask.as_bytes())
        .await
        .unwrap();
    let confirm = app.wait_outbound(1).await.remove(0);
    assert_eq!(confirm.to, follower);
    assert_eq!(confirm.subject, "Vahvista: seuraa yritystä Elisa");
    assert!(confirm.from.starts_with("f+"));
    let reply = format!(
        "From: {follower}\r\nTo: {}\r\nSubject: Re: {}\r\nMessage-ID: <follow-2@example.fi>\r\n\r\nkyllä\r\n",
        confirm.from, confirm.subject
    );
    app.send(follower, &confirm.from, reply.as_bytes())
        .await
        .unwrap();
    app.wait_processed().await;
    // Issue 21: confirmed, the follower is told they follow now, what comes, and how to stop.
    let welcome = app.wait_outbound(2).await.remove(1);
    assert_eq!(
        (welcome.to.as_str(), welcome.subject.as_str()),
        (follower, "Seuraat nyt yritystä Elisa")
    );
    let words = welcome
        .text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("Lopeta seuraaminen yhdellä napsautuksella: https://nonono.test/u/"),
        "{}",
        welcome.text
    );
    assert!(
        welcome
            .raw
            .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    for line in welcome.text.lines() {
        assert!(
            line.chars().count() <= 72 || line.contains("https://"),
            "{line}"
        );
    }

    // A day of news: a new thread and the company's answer.
    let (forward, _) = app.new_thread().await;
    app.answer_as_company(&forward).await;
    app.wait_processed().await;
    let tomorrow = nonono::clock::now() + 86_400 + 60;
    app.on_the_clock(|store, config, key| {
        let mut digests_at =
            |now| nonono::pipeline::follow::send_digests(store, config, key, now).unwrap();
        assert_eq!(digests_at(tomorrow), 1);
        assert_eq!(digests_at(tomorrow), 0);
    })
    .await;
    let digest = loop {
        if let Some(d) = app
            .outbound()
            .into_iter()
            .find(|m| m.subject == "Elisa: uutta nononossa")
        {
            break d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    };
    assert_eq!(digest.to, follower);
    assert!(
        digest
            .text
            .contains("Uudet palautteet:\n- Lasku tuli kahdesti"),
        "{}",
        digest.text
    );
    assert!(
        digest
            .text
            .contains("Uudet vastaukset:\n- Lasku tuli kahdesti")
    );
    // Long header fields are folded over lines.
    let unfolded = digest.raw.replace("\r\n ", " ").replace("\n ", " ");
    let header = |name: &str| {
        unfolded
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no {name} in\n{}", digest.raw))
    };
    assert_eq!(
        header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let unsubscribe = header("List-Unsubscribe");
    let url = unsubscribe
        .split(['<', '>'])
        .find(|p| p.starts_with("https://nonono.test/u/"))
        .expect("an HTTPS one-click URL");
    assert!(unsubscribe.contains("<mailto:u+"), "{unsubscribe}");
    let path = url.trim_start_matches("https://nonono.test");

    // Opening the link only asks; the POST a mail client sends does it.
    let (status, page) = app.get(path).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<button type=\"submit\">Lopeta seuraaminen</button>"),
        "{page}"
    );
    let (status, _, page) =
        common::http_post(&app.http_base(), path, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, 200);
    assert!(page.contains("Seuraaminen lopetettu"), "{page}");
    let later = tomorrow + 2 * 86_400;
    let sent = app
        .on_the_clock(|store, config, key| {
            nonono::pipeline::follow::send_digests(store, config, key, later).unwrap()
        })
        .await;
    assert_eq!(sent, 0);
}

/// Issue 21: Gmail groups mail by subject (ignoring `Re:` and its kin) and by the messages it
/// answers; Thunderbird by `In-Reply-To`/`References`. Grouped so, every mail of a thread to
/// each side is one conversation: the company's answers the forward's subject, the writer's
/// answers the subject they wrote.
#[tokio::test]
async fn each_side_of_a_thread_reads_it_as_one_conversation() {
    let app = TestApp::start().await;
    let (forward, ack) = app.new_thread().await;
    app.answer_as_company(&forward).await;
    let to_writer = app
        .wait_outbound(3)
        .await
        .into_iter()
        .find(|m| m.to == "matti.meikalainen@example.fi" && m.message_id != ack.message_id)
        .expect("the answer relayed to the writer");
    let follow_up = format!(
        "From: matti.meikalainen@example.fi\r\nTo: {to}\r\nSubject: Re: {subject}\r\n\
         Message-ID: <follow-up-3@example.fi>\r\nIn-Reply-To: <{id}>\r\n\r\nKiitos, entä hyvitys?\r\n",
        to = to_writer.from,
        subject = to_writer.subject,
        id = to_writer.message_id
    );
    app.send(
        "matti.meikalainen@example.fi",
        &to_writer.from,
        follow_up.as_bytes(),
    )
    .await
    .unwrap();
    let all = app.wait_outbound(4).await;
    let gmail_subject = |s: &str| -> String {
        let mut rest = s.trim();
        while let Some(i) = ["re:", "vs:", "sv:", "fwd:", "aw:"]
            .iter()
            .find_map(|p| rest.to_lowercase().starts_with(p).then_some(p.len()))
        {
            rest = rest[i..].trim_start();
        }
        rest.to_owned()
    };
    let group = |to: &dyn Fn(&str) -> bool| -> Vec<String> {
        let mut subjects: Vec<String> = all
            .iter()
            .filter(|m| to(&m.to))
            .map(|m| gmail_subject(&m.subject))
            .collect();
        subjects.dedup();
        subjects
    };
    assert_eq!(
        group(&|to| to.ends_with("@elisa.example")),
        ["Palaute: Lasku tuli kahdesti"],
        "{:?}",
        all.iter().map(|m| (&m.to, &m.subject)).collect::<Vec<_>>()
    );
    assert_eq!(
        group(&|to| to == "matti.meikalainen@example.fi"),
        ["[Elisa] Lasku tuli kahdesti"],
        "the writer's own subject"
    );
    for m in all.iter().filter(|m| m.message_id != forward.message_id) {
        assert!(!m.in_reply_to.is_empty(), "{} answers nothing", m.subject);
    }
}
