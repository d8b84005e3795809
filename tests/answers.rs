//! Real-looking company answers from the clients people use (Gmail, Outlook desktop, web and
//! mobile, Apple Mail, Thunderbird, Samsung Email, Zendesk, Freshdesk) in the languages they
//! ship, sent over SMTP into a thread: the published text must equal
//! `fixtures/answers/NAME.expected.txt`. On a mismatch the published text is written to
//! `NAME.failed` beside it. In a fixture, `{{forward}}` stands for the whole forward we sent and
//! `{{forward_quoted}}` for it quoted as the client quotes it. The automatic mail of
//! `fixtures/automatic/` (helpdesk acknowledgements, out-of-office notices, no-reply senders)
//! must never be published.

mod common;

use common::{TestApp, root};

/// A text quoted line by line, as Gmail and most plain-text clients quote the whole message.
fn quoted(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.is_empty() {
                ">".to_owned()
            } else {
                format!("> {l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The address in a fixture's From field: the envelope sender its mail system would use.
fn from_address(raw: &str) -> String {
    raw.lines()
        .find_map(|l| l.strip_prefix("From: "))
        .and_then(|f| f.rsplit_once('<'))
        .map(|(_, a)| a.trim_end_matches('>').to_owned())
        .expect("a From field with an address in brackets")
}

#[tokio::test]
async fn answers_are_published_without_quotes_signatures_or_footers() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;

    let dir = root().join("fixtures/answers");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml") && dir.join(n.replace(".eml", ".expected.txt")).exists())
        .collect();
    names.sort();
    assert!(names.len() >= 4, "{names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let raw = std::fs::read_to_string(dir.join(name))
            .unwrap()
            .replace("{{to}}", &forward.from)
            .replace("{{in_reply_to}}", &forward.message_id)
            .replace("{{forward_quoted}}", &quoted(&forward.text))
            .replace("{{forward}}", &forward.text);
        let before = app.store().posts(1).unwrap().len();
        app.send(&from_address(&raw), &forward.from, raw.as_bytes())
            .await
            .unwrap();
        app.wait_processed().await;
        let posts = app.store().posts(1).unwrap();
        assert_eq!(posts.len(), before + 1, "{name} was not published");
        let post = posts.last().unwrap();
        assert_eq!(post.kind.as_str(), "official", "{name}");
        let expected_path = dir.join(name.replace(".eml", ".expected.txt"));
        let expected = std::fs::read_to_string(&expected_path).unwrap();
        let failed_path = dir.join(name.replace(".eml", ".failed"));
        if post.body.trim() != expected.trim() {
            std::fs::write(&failed_path, &post.body).unwrap();
            failures.push(format!("{name}: see {}", failed_path.display()));
        } else {
            let _ = std::fs::remove_file(&failed_path);
        }
    }
    app.stop().await;
    assert!(
        failures.is_empty(),
        "published text differs:\n{}",
        failures.join("\n")
    );
}

/// Issue 18, case 5: automatic mail that only its text, its subject or its sender gives away
/// (a helpdesk acknowledgement was published as an official answer and relayed) is an event of
/// the thread, never a post, never relayed.
#[tokio::test]
async fn automatic_mail_is_an_event_not_an_answer() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    let dir = root().join("fixtures/automatic");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    let mut published = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let raw = std::fs::read_to_string(dir.join(name))
            .unwrap()
            .replace("{{to}}", &forward.from)
            .replace("{{in_reply_to}}", &forward.message_id)
            .replace("{{forward}}", &forward.text);
        app.send(&from_address(&raw), &forward.from, raw.as_bytes())
            .await
            .unwrap();
        app.wait_processed().await;
        let store = app.store();
        if store.posts(1).unwrap().len() != 1 {
            published.push(name.clone());
            break;
        }
        let events = store.events(1).unwrap();
        assert_eq!(events.len(), i + 1, "{name}: {events:?}");
        assert_eq!(
            events[i].kind,
            nonono::store::EventKind::AutoReply,
            "{name}"
        );
    }
    assert!(
        published.is_empty(),
        "published as an answer: {published:?}"
    );
    let thread = app.store().thread(1).unwrap().unwrap();
    assert!(thread.first_answer_at.is_none() && thread.first_auto_at.is_some());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(app.outbound().len(), 2, "never relayed");
    app.stop().await;
}

/// Issue 18, case 2: a representative answering to `elisa@` (reply-all, or a client that
/// ignores Reply-To) opened a new thread about Elisa written by Elisa, forwarded to Elisa; to
/// `palaute@` it got the no-tag help and was lost. Now it finds its thread by the forward it
/// answers, or by its subject; failing both it is held and its sender told.
#[tokio::test]
async fn an_answer_sent_to_an_address_without_a_thread_finds_its_thread() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    let answer = |to: &str, references: bool, subject: &str| {
        let mut raw = format!(
            "From: Anna <anna@elisa.example>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <a-{to}-{references}@elisa.example>\r\n"
        );
        if references {
            raw.push_str(&format!("In-Reply-To: <{}>\r\n", forward.message_id));
        }
        raw.push_str("\r\nPalautamme toisen veloituksen tällä viikolla.\r\n\r\nAnna\r\n");
        raw
    };
    // A subject alone finds a thread only for mail that authenticated: tests/sender_auth.rs.
    let cases = [
        (
            "elisa@nonono.localhost",
            true,
            "RE: Palaute: Lasku tuli kahdesti",
        ),
        (
            "palaute@nonono.localhost",
            true,
            "RE: Palaute: Lasku tuli kahdesti",
        ),
    ];
    for (n, (to, references, subject)) in cases.iter().enumerate() {
        app.send(
            "anna@elisa.example",
            to,
            answer(to, *references, subject).as_bytes(),
        )
        .await
        .unwrap();
        app.wait_processed().await;
        let store = app.store();
        assert_eq!(
            store.latest_threads(10).unwrap().len(),
            1,
            "{to}: no new thread"
        );
        let posts = store.posts(1).unwrap();
        assert_eq!(posts.len(), n + 2, "{to} {references}: {posts:?}");
        let post = posts.last().unwrap();
        assert_eq!(post.kind.as_str(), "official");
        assert_eq!(
            post.body,
            "Palautamme toisen veloituksen tällä viikolla.\n\nAnna"
        );
    }
    app.wait_delivered().await;
    let relayed = app
        .outbound()
        .iter()
        .filter(|m| m.to == "matti.meikalainen@example.fi" && m.text.contains("Palautamme"))
        .count();
    assert_eq!(relayed, 2, "each relayed to the writer");

    // Matching nothing (no ids, and a title alone is public: this did not authenticate):
    // held, and its sender told how to answer; no thread about Elisa.
    let before = app.outbound().len();
    app.send(
        "anna@elisa.example",
        "elisa@nonono.localhost",
        answer(
            "elisa@nonono.localhost",
            false,
            "VS: Palaute: Lasku tuli kahdesti",
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    app.wait_delivered().await;
    let store = app.store();
    assert_eq!(store.latest_threads(10).unwrap().len(), 1);
    let told: Vec<_> = app.outbound()[before..].to_vec();
    assert_eq!(told.len(), 1, "{told:#?}");
    assert_eq!(told[0].to, "anna@elisa.example");
    assert!(told[0].text.contains("t+"), "{}", told[0].text);
    app.stop().await;
}

/// Found from outside: the consumer's title stands in every subject of the thread, and phrases
/// a helpdesk puts in its subjects ("Vi har mottagit …") held the feedback as automatic mail
/// and made every answer in the thread count as an automatic reply. Real answers that say the
/// mail arrived and what was done were dropped as acknowledgements.
#[tokio::test]
async fn a_title_or_an_answer_that_sounds_like_a_helpdesk_is_still_a_persons() {
    let mut app = TestApp::start().await;
    let feedback = "From: Sara Lind <sara.lind@example.se>\r\nTo: palaute@nonono.localhost\r\nSubject: [Elisa] Vi har mottagit två fakturor\r\nMessage-ID: <sara-1@example.se>\r\n\r\nHej,\r\n\r\nvi har fått två fakturor för november och båda drogs från kontot.\r\n\r\nSara\r\n";
    app.send(
        "sara.lind@example.se",
        "palaute@nonono.localhost",
        feedback.as_bytes(),
    )
    .await
    .unwrap();
    let out = app.wait_outbound(2).await;
    let forward = out
        .iter()
        .find(|m| m.to.ends_with("@elisa.example"))
        .expect("the feedback is forwarded, not held as automatic mail")
        .clone();
    for (n, (subject, text)) in [
        (
            format!("RE: {}", forward.subject),
            "Hej Sara,\r\n\r\nvi har mottagit din reklamation och krediterat den dubbla debiteringen. Har du fler frågor återkommer vi gärna.\r\n\r\nAnna",
        ),
        (
            format!("SV: {}", forward.subject),
            "Hej igen,\r\n\r\nkrediteringen syns på nästa faktura.\r\n\r\nAnna",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let raw = format!(
            "From: Anna <anna@elisa.example>\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <sv-answer-{n}@elisa.example>\r\nIn-Reply-To: <{}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n",
            forward.from, forward.message_id
        );
        app.send("anna@elisa.example", &forward.from, raw.as_bytes())
            .await
            .unwrap();
        app.wait_processed().await;
    }
    let posts = app.store().posts(1).unwrap();
    let kinds: Vec<&str> = posts.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(kinds, ["consumer", "official", "official"], "{posts:?}");
    assert!(posts[1].body.contains("krediterat"));
    app.stop().await;
}
