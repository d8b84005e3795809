//! Hostile mail against the whole service: a message that ends the process is set aside after
//! the restart instead of ending it again, and every other message goes on.

mod common;

use common::{TestApp, no_limits};
use nonono::app;
use nonono::mail::Envelope;
use nonono::store::intake::{Intake, Mover};
use nonono::store::{Arrival, Store};

const OPERATOR: &str = "operator@nonono.test";

/// Puts messages into the journal of a stopped service as the receiver would, and returns
/// their journal ids.
fn receive_while_stopped(app: &TestApp, messages: &[(&str, &str)]) -> Vec<i64> {
    received_while_stopped_from(app, "192.0.2.7", "palaute@nonono.localhost", messages)
}

/// [`receive_while_stopped`] from the client at `peer`, to `rcpt`.
fn received_while_stopped_from(
    app: &TestApp,
    peer: &str,
    rcpt: &str,
    messages: &[(&str, &str)],
) -> Vec<i64> {
    let path = app::store_path(&app.config);
    let store = Store::open(&path).unwrap();
    let intake_path = nonono::store::intake_path(&path);
    let mut intake = Intake::open(&store, &intake_path).unwrap();
    let envelopes: Vec<Envelope> = messages
        .iter()
        .map(|(from, _)| Envelope {
            mail_from: (*from).to_owned(),
            rcpt_to: vec![rcpt.into()],
            peer: peer.into(),
            helo: "client.example".into(),
        })
        .collect();
    let now = nonono::clock::now();
    let arrivals: Vec<Arrival<'_>> = messages
        .iter()
        .zip(&envelopes)
        .map(|((_, raw), envelope)| Arrival::new(envelope, raw.as_bytes(), now))
        .collect();
    let ids = intake.append(&arrivals).unwrap();
    drop(intake);
    Mover::open(&intake_path, store)
        .unwrap()
        .move_all()
        .unwrap();
    ids
}

#[tokio::test]
async fn a_message_the_process_died_on_is_set_aside_and_the_rest_go_on() {
    let mut app = TestApp::start_with(|c| c.operator_address = Some(OPERATOR.into())).await;
    app.stop().await;
    let ids = receive_while_stopped(
        &app,
        &[
            (
                "matti@example.fi",
                "From: matti@example.fi\r\nSubject: [Elisa] Ensimmäinen\r\n\r\nHei, lasku tuli kahdesti.\r\n",
            ),
            (
                "liisa@example.fi",
                "From: liisa@example.fi\r\nSubject: [Elisa] Toinen\r\n\r\nHei, kuitti puuttuu.\r\n",
            ),
        ],
    );
    // As processes that died under them leave them: work on the first began three times (in
    // a batch, then twice alone), on the second once, in the same batch as the first.
    let mut store = Store::open(&app::store_path(&app.config)).unwrap();
    store.journal_attempts(&ids[..1], 3).unwrap();
    store.journal_attempts(&ids[1..], 1).unwrap();
    drop(store);

    app.restart(|_| {}).await;
    app.wait_delivered().await;
    let store = app.store();
    assert_eq!(
        store.journal_counts().unwrap(),
        vec![("done".to_owned(), 1), ("failed".to_owned(), 1)]
    );
    let outcome = store.journal_outcome(ids[0]).unwrap().unwrap();
    assert!(
        outcome
            .outcome
            .as_deref()
            .unwrap_or("")
            .starts_with("set aside"),
        "{outcome:?}"
    );
    let threads = store.latest_threads(10).unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0].title, "Toinen", "the message behind it went on");

    // The digest comes from the scheduler's first round, which may follow the set-aside.
    let mut sent = app.outbound();
    for _ in 0..200 {
        if sent.iter().filter(|m| m.to == OPERATOR).count() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        sent = app.outbound();
    }
    let operator: Vec<&str> = sent
        .iter()
        .filter(|m| m.to == OPERATOR)
        .map(|m| m.subject.as_str())
        .collect();
    // The operator is told in the language of the service (`language = "fi"` here).
    assert!(
        operator.contains(&"Viesti 1 siirretty sivuun"),
        "{operator:?}"
    );
    assert!(
        operator.iter().any(|s| s.ends_with("pidossa: 1")),
        "the digest names what waits in the holding pen: {operator:?}"
    );
    let writer: Vec<_> = sent.iter().filter(|m| m.to == "matti@example.fi").collect();
    assert_eq!(writer.len(), 1, "the writer is told");
    assert_eq!(writer[0].subject, "Viestiäsi ei voitu käsitellä");
    assert!(writer[0].text.contains(&format!("viite {}", ids[0])));

    // And the service takes new mail as before.
    app.send_fixture(
        "matti.meikalainen@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-tagged.eml",
    )
    .await;
    app.wait_processed().await;
    assert_eq!(app.store().latest_threads(10).unwrap().len(), 2);
    app.stop().await;
}

/// Every hostile shape issue 17 found, in one queue with ordinary feedback between them, in
/// two orders: each is processed in one pass, and so is every ordinary message.
#[tokio::test]
async fn hostile_shapes_in_one_queue_are_processed_with_everything_else() {
    let app = TestApp::start_with(no_limits).await;
    let (_, ack) = app.new_thread().await;
    let html = |body: String| {
        format!(
            "From: hostile@example.fi\r\nSubject: [Elisa] html\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{body}\r\n"
        )
    };
    let shapes: Vec<(&str, String, String)> = vec![
        // A list nested 20,000 deep: its text grew as depth x items (72 KB gave 128 MB).
        (
            "hostile@example.fi",
            "palaute@nonono.localhost".into(),
            html(format!(
                "{}{}",
                "<ul>".repeat(20_000),
                "<li>x".repeat(20_000)
            )),
        ),
        // Bare '<': each searched to the end for a '>'.
        (
            "hostile@example.fi",
            "palaute@nonono.localhost".into(),
            html("a<".repeat(320_000)),
        ),
        // A reply to one's own token full of footer lines: the signature check was quadratic.
        (
            "matti.meikalainen@example.fi",
            ack.from.clone(),
            format!(
                "From: matti.meikalainen@example.fi\r\nSubject: Re: x\r\n\r\nKiitos.\r\n\r\n{}",
                "Sent by x\r\n".repeat(32_000)
            ),
        ),
        // Quotes below quotes, each layer read again.
        (
            "hostile@example.fi",
            "palaute@nonono.localhost".into(),
            format!(
                "From: hostile@example.fi\r\nSubject: [Elisa] quotes\r\n\r\n{}",
                "On Mon, Nov 23, 2026 at 8:00 PM M <m@example.fi> wrote:\r\n> x\r\n\r\n"
                    .repeat(20_000)
            ),
        ),
    ];
    let mut ordinary = 0;
    for round in 0..2 {
        let order: Vec<usize> = if round == 0 {
            (0..shapes.len()).collect()
        } else {
            (0..shapes.len()).rev().collect()
        };
        for i in order {
            let (from, to, raw) = &shapes[i];
            app.send(from, to, raw.as_bytes()).await.unwrap();
            ordinary += 1;
            // Each ordinary message from a writer of its own, as real traffic is.
            let writer = format!("liisa{round}{i}@example.fi");
            let raw = format!(
                "From: {writer}\r\nSubject: [Elisa] Tavallinen {round} {i}\r\n\r\nHei, kuitti puuttuu.\r\n"
            );
            app.send(&writer, "palaute@nonono.localhost", raw.as_bytes())
                .await
                .unwrap();
        }
    }
    app.wait_processed().await;
    let store = app.store();
    assert_eq!(
        store.journal_counts().unwrap(),
        vec![("done".to_owned(), 1 + 2 * ordinary)]
    );
    let titles: Vec<String> = store
        .latest_threads(100)
        .unwrap()
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(
        titles
            .iter()
            .filter(|t| t.starts_with("Tavallinen"))
            .count() as i64,
        ordinary
    );
    // What is published is bounded by what came in, whatever the nesting.
    let largest = shapes.iter().map(|(_, _, raw)| raw.len()).max().unwrap();
    for thread in store.latest_threads(100).unwrap() {
        for post in store.posts(thread.id).unwrap() {
            assert!(
                post.body.len() <= 2 * largest,
                "thread {}: {} bytes",
                thread.id,
                post.body.len()
            );
        }
    }
}

/// Issue 17: 60 messages from 60 envelope senders, all with `From: victim@…`, made the
/// gateway mail the victim 148 times in 6 seconds. Automatic mail now goes only to a From that
/// agrees with the envelope (or authenticated), once a day per kind, and never to addresses
/// that lead nowhere public.
#[tokio::test]
async fn the_gateway_mails_only_those_who_asked() {
    let app = TestApp::start_with(no_limits).await;
    let victim = "victim@example.net";
    // A public thread, for the support address on its page.
    app.new_thread().await;
    let to = [
        "palaute@nonono.localhost",
        "follow+elisa@nonono.localhost",
        "tuki+1@nonono.localhost",
    ];
    for n in 0..30 {
        let subject = if n % 3 == 0 {
            "[Elisa] Lasku"
        } else {
            "ei tagia"
        };
        let raw = format!("From: Victim <{victim}>\r\nSubject: {subject}\r\n\r\nHei.\r\n");
        app.send(&format!("sender{n}@example.org"), to[n % 3], raw.as_bytes())
            .await
            .unwrap();
    }
    // The victim's own address as the envelope too: each kind once a day, however often.
    for n in 0..9 {
        let raw = format!("From: {victim}\r\nSubject: kysymys {n}\r\n\r\nHei.\r\n");
        app.send(victim, to[n % 3], raw.as_bytes()).await.unwrap();
    }
    // Addresses that lead nowhere public are never written to.
    for nowhere in ["x@[10.0.0.5]", "user@localhost", "user@printer.local"] {
        let raw = format!("From: {nowhere}\r\nSubject: ei tagia\r\n\r\nHei.\r\n");
        let mut c = app.conversation().await;
        c.command("EHLO client.example").await;
        if !c
            .command(&format!("MAIL FROM:<{nowhere}>"))
            .await
            .starts_with("250")
        {
            // Refused in the envelope already (smtp-proto takes no address literal there).
            continue;
        }
        c.command("RCPT TO:<palaute@nonono.localhost>").await;
        c.command("DATA").await;
        let reply = c.command(&format!("{raw}.")).await;
        assert!(reply.starts_with("250"), "{nowhere}: {reply}");
    }
    app.wait_delivered().await;
    let sent = app.outbound();
    let to_victim: Vec<&str> = sent
        .iter()
        .filter(|m| m.to == victim)
        .map(|m| m.subject.as_str())
        .collect();
    assert_eq!(
        to_victim.len(),
        3,
        "one help, one follow and one support confirmation: {to_victim:?}"
    );
    let thread_writer = "matti.meikalainen@example.fi";
    assert!(
        sent.iter()
            .all(|m| m.to.ends_with(".example") || m.to == victim || m.to == thread_writer),
        "{:?}",
        sent.iter().map(|m| &m.to).collect::<Vec<_>>()
    );
    assert_eq!(
        app.store().latest_threads(10).unwrap().len(),
        1,
        "forged From opens no thread"
    );
}

/// A stranger who knows a consumer's token and writes the consumer's From is not the consumer.
#[tokio::test]
async fn a_reply_in_a_consumers_name_from_elsewhere_is_held() {
    let app = TestApp::start().await;
    let (forward, ack) = app.new_thread().await;
    app.answer_as_company(&forward).await;
    app.wait_delivered().await;
    let raw = "From: Matti <matti.meikalainen@example.fi>\r\nSubject: Re\r\n\r\nPeruutan palautteeni.\r\n";
    app.send("mallory@evil.example", &ack.from, raw.as_bytes())
        .await
        .unwrap();
    app.wait_processed().await;
    let store = app.store();
    let thread = store.latest_threads(1).unwrap().remove(0);
    let posts = store.posts(thread.id).unwrap();
    assert!(
        posts.iter().all(|p| !p.body.contains("Peruutan")),
        "{posts:?}"
    );
}

/// Issue 17: personal data was screened in first messages only. A company's answer with an
/// identity code, an IBAN and a card number was published with the badge, and a consumer's
/// reply with an identity code and a phone number was published and relayed. Every post is
/// screened now, and held until its own writer says publish.
#[tokio::test]
async fn personal_data_in_any_post_is_held_until_its_writer_says_publish() {
    let app = TestApp::start().await;
    let (forward, ack) = app.new_thread().await;
    let before = app.outbound().len();
    let answer = String::from_utf8(common::fixture(
        "provider-reply-official.eml",
        &[("to", &forward.from), ("in_reply_to", &forward.message_id)],
    ))
    .unwrap()
    .replace(
        "toisen veloituksen tilillesi",
        "toisen veloituksen (asiakas 131052-308T, tili FI21 1234 5600 0007 85, kortti 4111 1111 1111 1111) tilillesi",
    );
    app.send("anna@elisa.example", &forward.from, answer.as_bytes())
        .await
        .unwrap();
    let reply = "From: Matti <matti.meikalainen@example.fi>\r\nSubject: Re\r\n\r\nHetuni on 131052-308T, soittakaa 040 123 4567.\r\n";
    app.send("matti.meikalainen@example.fi", &ack.from, reply.as_bytes())
        .await
        .unwrap();
    app.wait_delivered().await;
    let store = app.store();
    let thread = store.latest_threads(1).unwrap().remove(0);
    assert_eq!(
        store.posts(thread.id).unwrap().len(),
        1,
        "nothing published"
    );
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(
        !page.contains("131052-308T") && !page.contains("4111"),
        "{page}"
    );
    let sent = app.outbound()[before..].to_vec();
    assert_eq!(
        sent.len(),
        2,
        "nothing relayed, each writer asked: {sent:#?}"
    );
    let asked = |to: &str| {
        sent.iter()
            .find(|m| m.to == to)
            .unwrap_or_else(|| panic!("{to} is asked"))
            .clone()
    };
    let (anna, matti) = (
        asked("anna@elisa.example"),
        asked("matti.meikalainen@example.fi"),
    );
    assert!(anna.from.starts_with("p+"), "{}", anna.from);
    assert!(anna.text.contains("henkilötunnus"), "{}", anna.text);
    assert!(matti.text.contains("puhelinnumero"), "{}", matti.text);

    // Someone else saying publish changes nothing; the writer saying it publishes as written.
    let yes = "From: x@example.org\r\nSubject: Re\r\n\r\nJulkaise.\r\n";
    app.send("x@example.org", &anna.from, yes.as_bytes())
        .await
        .unwrap();
    app.wait_processed().await;
    assert_eq!(store.posts(thread.id).unwrap().len(), 1);
    let yes = "From: Anna <anna@elisa.example>\r\nSubject: Re\r\n\r\nJulkaise.\r\n";
    app.send("anna@elisa.example", &anna.from, yes.as_bytes())
        .await
        .unwrap();
    app.wait_delivered().await;
    let posts = store.posts(thread.id).unwrap();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[1].kind.as_str(), "official");
    assert!(posts[1].body.contains("131052-308T"));
    let relayed = app.outbound();
    assert!(
        relayed
            .iter()
            .any(|m| m.to == "matti.meikalainen@example.fi" && m.text.contains("131052-308T")),
        "published and relayed once its writer said so"
    );
}

/// A connection to the receiver from a loopback address of our choosing (all of 127.0.0.0/8
/// is this machine), and the first line the server says.
async fn connect_from(
    app: &TestApp,
    from: &str,
) -> (tokio::io::BufReader<tokio::net::TcpStream>, String) {
    use tokio::io::AsyncBufReadExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let stream = socket
        .connect(format!("127.0.0.1:{}", app.smtp_port()).parse().unwrap())
        .await
        .unwrap();
    let mut reader = tokio::io::BufReader::new(stream);
    let mut line = String::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        reader.read_line(&mut line),
    )
    .await
    .unwrap()
    .unwrap();
    (reader, line)
}

/// Issue 17: 28 addresses of one network held all 512 sessions. Sessions are bounded per
/// network now (an IPv4 /24, an IPv6 /64): many addresses of one /24 fill their share, and a
/// client from another network still gets through.
#[tokio::test]
async fn many_addresses_of_one_network_cannot_take_every_session() {
    let app = TestApp::start_with(|c| {
        c.smtp.max_sessions_per_client = 2;
        c.smtp.max_sessions_per_network = 16;
    })
    .await;
    let mut held = Vec::new();
    let mut refused = 0;
    for host in 2..22 {
        for _ in 0..2 {
            let (conn, greeting) = connect_from(&app, &format!("127.0.0.{host}")).await;
            if greeting.starts_with("220") {
                held.push(conn);
            } else {
                assert!(greeting.starts_with("421 4.3.2"), "{greeting}");
                refused += 1;
            }
        }
    }
    assert_eq!((held.len(), refused), (16, 24));
    let (_, greeting) = connect_from(&app, "127.0.1.1").await;
    assert!(
        greeting.starts_with("220"),
        "another network gets in: {greeting}"
    );
}

/// A client that sends a byte now and then, each within the idle time, held a session for the
/// whole session time. A command must now arrive whole within the idle time, and data must
/// keep a least rate.
#[tokio::test]
async fn a_client_that_trickles_is_cut_off() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let app = TestApp::start_with(|c| c.smtp.idle_timeout_secs = 1).await;
    /// Writes `pieces` with a pause after each (ignoring a closed connection), then returns
    /// every line the server said after its greeting.
    async fn trickle(app: &TestApp, setup: &[&str], pieces: &[&[u8]], pause_ms: u64) -> String {
        let (mut conn, _) = connect_from(app, "127.0.0.1").await;
        for line in setup {
            conn.get_mut()
                .write_all(format!("{line}\r\n").as_bytes())
                .await
                .unwrap();
            let mut reply = String::new();
            loop {
                reply.clear();
                conn.read_line(&mut reply).await.unwrap();
                if reply.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
        }
        for piece in pieces {
            if conn.get_mut().write_all(piece).await.is_err() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(pause_ms)).await;
        }
        let mut said = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            conn.read_to_end(&mut said),
        )
        .await;
        String::from_utf8_lossy(&said).into_owned()
    }
    let bytes: Vec<&[u8]> = b"NOOP\r\n".chunks(1).collect();
    let said = trickle(&app, &[], &bytes, 300).await;
    assert!(said.starts_with("421 4.4.2"), "{said}");

    // 10 bytes every 200 ms, 50 bytes a second: each within the idle time, far below the
    // least rate once the idle time has passed.
    let data = [&b"xxxxxxxxxx"[..]; 20];
    let setup = [
        "EHLO client.example",
        "MAIL FROM:<a@example.fi>",
        "RCPT TO:<palaute@nonono.localhost>",
        "DATA",
    ];
    let said = trickle(&app, &setup, &data, 200).await;
    assert!(said.starts_with("421 4.4.2 Data too slow"), "{said}");
}

/// Fills a stopped service's store with `threads` feedback messages of about `size` bytes
/// each, from as many writers, and lets it process them.
async fn fill(app: &mut TestApp, threads: usize, size: usize) {
    app.stop().await;
    let mut store = Store::open(&app::store_path(&app.config)).unwrap();
    let envelopes: Vec<Envelope> = (0..threads)
        .map(|n| Envelope {
            mail_from: format!("writer{n}@example.fi"),
            rcpt_to: vec!["palaute@nonono.localhost".into()],
            peer: "192.0.2.7".into(),
            helo: "client.example".into(),
        })
        .collect();
    let raws: Vec<String> = (0..threads)
        .map(|n| {
            format!(
                "From: writer{n}@example.fi\r\nSubject: [Elisa] Lasku {n}\r\n\r\n{}\r\n",
                "Lasku tuli kahdesti. ".repeat(size / 21)
            )
        })
        .collect();
    let now = nonono::clock::now();
    let arrivals: Vec<Arrival<'_>> = envelopes
        .iter()
        .zip(&raws)
        .map(|(e, raw)| Arrival::new(e, raw.as_bytes(), now))
        .collect();
    store.journal_append(&arrivals).unwrap();
    drop(store);
    app.restart(|_| {}).await;
    app.wait_processed().await;
}

/// Opens an HTTP connection that reads almost nothing, sends `request` and returns it.
async fn stalled_request(app: &TestApp, request: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let address = app
        .http_base()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// Issue 17: four clients that asked for the export and never read held every connection the
/// pages read with; `/healthz`, `/`, `/t/1` and `/search` hung. Exports now stream from
/// connections of their own, two at a time (others get 503), and a header that never ends is
/// closed after the header timeout.
#[tokio::test]
async fn readers_that_never_read_cannot_stall_the_web() {
    use tokio::io::AsyncReadExt;
    let mut app = TestApp::start_with(|c| {
        c.http.header_timeout_secs = 1;
        c.http.write_timeout_secs = 2;
    })
    .await;
    // More than the socket buffers hold (4 MB here), so an export that is not read waits; and
    // posts of megabytes, each many parts of the export.
    fill(&mut app, 120, 50_000).await;
    fill(&mut app, 3, 3_000_000).await;
    let (_, whole) = app.get("/export.jsonl").await;
    let (_, feed) = app.get("/feed.atom").await;
    assert!(
        feed.len() < 500_000,
        "a feed entry carries the start of a long post"
    );
    let export = "GET /export.jsonl HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(stalled_request(&app, export).await);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut statuses = Vec::new();
    for stream in &mut stalled {
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        statuses.push(String::from_utf8_lossy(&head[9..12]).into_owned());
    }
    statuses.sort();
    assert_eq!(statuses, ["200", "200", "503", "503"]);
    for path in ["/healthz", "/", "/t/1", "/search?q=lasku", "/search?q=a"] {
        let (status, _) = tokio::time::timeout(std::time::Duration::from_secs(5), app.get(path))
            .await
            .unwrap_or_else(|_| panic!("{path} hangs"));
        assert_eq!(status, 200, "{path}");
    }
    // Past the write timeout the stalled exports are dropped, with what waited for them, and
    // their turns are free again.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    for mut stream in stalled {
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            stream.read_to_end(&mut rest),
        )
        .await
        .expect("closed by the server");
        assert!(
            rest.len() < whole.len(),
            "not sent whole to a reader that stopped"
        );
    }
    let (status, again) = app.get("/export.jsonl").await;
    assert_eq!((status, again.len()), (200, whole.len()));
    // A header that never ends is closed after the timeout.
    let mut half = stalled_request(&app, "GET / HTTP/1.1\r\nHost: x\r\n").await;
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        half.read_to_end(&mut rest),
    )
    .await;
    assert!(closed.is_ok(), "the half-sent request is closed");
}

/// Issue 17: `/healthz` answered 200 while the store took no writes. It writes now, and
/// answers 503 with the reason when that fails. The store's files are made immutable for the
/// test (`chattr +i`, as root on ext4); where that cannot be done the test says so and skips,
/// except in CI.
#[tokio::test]
async fn healthz_fails_when_the_store_takes_no_writes() {
    let mut app = TestApp::start().await;
    assert_eq!(app.get("/healthz").await.0, 200);
    // Past the health check's memory of its last probe.
    tokio::time::sleep(std::time::Duration::from_millis(5_100)).await;
    let path = app::store_path(&app.config);
    let files: Vec<String> = ["", "-wal"]
        .iter()
        .map(|suffix| format!("{}{suffix}", path.display()))
        .collect();
    let chattr = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .args(&files)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !chattr("+i") {
        assert!(
            std::env::var_os("CI").is_none(),
            "chattr +i failed: CI runs as root on ext4"
        );
        eprintln!("skipped: chattr +i needs root on a file system with attributes");
        return;
    }
    let (status, body) = app.get("/healthz").await;
    assert!(chattr("-i"));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("takes no writes"), "{body}");
    app.stop().await;
}

/// Issue 17: `From: "john smith"@example.net` (a valid quoted local part) failed the pipeline
/// silently. Every address RFC 5322 allows is processed or held with a reason.
#[tokio::test]
async fn a_quoted_local_part_is_held_with_a_reason() {
    let app = TestApp::start().await;
    let mut c = app.conversation().await;
    c.command("EHLO client.example").await;
    let mail = c.command("MAIL FROM:<\"john smith\"@example.net>").await;
    assert!(mail.starts_with("250"), "{mail}");
    c.command("RCPT TO:<palaute@nonono.localhost>").await;
    c.command("DATA").await;
    let reply = c
        .command("From: \"john smith\"@example.net\r\nSubject: [Elisa] Lasku\r\n\r\nHei.\r\n.")
        .await;
    assert!(reply.starts_with("250"), "{reply}");
    app.wait_processed().await;
    let store = app.store();
    assert_eq!(
        store.journal_counts().unwrap(),
        vec![("done".to_owned(), 1)]
    );
    let outcome = store.journal_outcome(1).unwrap().unwrap();
    assert_eq!(
        outcome.outcome.as_deref(),
        Some("new feedback held: From is not an address we write to")
    );
}

/// Sends `raw` over SMTP from the loopback address `from_ip`, as `mail_from`, and returns the
/// reply to the data.
async fn send_from(app: &TestApp, from_ip: &str, mail_from: &str, to: &str, raw: &str) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (mut conn, _) = connect_from(app, from_ip).await;
    let mut last = String::new();
    for line in [
        "EHLO client.example".to_owned(),
        format!("MAIL FROM:<{mail_from}>"),
        format!("RCPT TO:<{to}>"),
        "DATA".to_owned(),
        format!("{raw}\r\n."),
    ] {
        conn.get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        loop {
            last.clear();
            conn.read_line(&mut last).await.unwrap();
            if last.as_bytes().get(3) != Some(&b'-') {
                break;
            }
        }
    }
    last
}

/// Helper's finding: once an address had confirmed, anyone could publish new feedback in its
/// name with `verify_sender_auth` on, writing its address in the envelope and in From. Such
/// feedback is held for confirmation now, and a victim gets one confirmation request a day
/// however often their address is written.
#[tokio::test]
async fn new_feedback_that_does_not_authenticate_waits_for_its_writer() {
    let app = TestApp::start_with(|c| {
        no_limits(c);
        c.trust.verify_sender_auth = true;
        c.trust.require_confirmation = true;
        c.trust.dns_records = [(
            "example.fi".to_owned(),
            "v=spf1 ip4:127.0.0.1 -all".to_owned(),
        )]
        .into_iter()
        .collect();
    })
    .await;
    let feedback = |subject: &str, from: &str| {
        format!("From: {from}\r\nSubject: [Elisa] {subject}\r\n\r\nHei, lasku tuli kahdesti.\r\n")
    };
    let matti = "matti@example.fi";
    // Matti writes from his provider's server (SPF passes) and confirms.
    let reply = send_from(
        &app,
        "127.0.0.1",
        matti,
        "palaute@nonono.localhost",
        &feedback("Oma", matti),
    )
    .await;
    assert!(reply.starts_with("250"), "{reply}");
    app.wait_delivered().await;
    let ask = app
        .outbound()
        .into_iter()
        .find(|m| m.to == matti)
        .expect("asked");
    let yes = format!("From: {matti}\r\nSubject: Re\r\n\r\nKyllä.\r\n");
    send_from(&app, "127.0.0.1", matti, &ask.from, &yes).await;
    app.wait_delivered().await;
    assert_eq!(app.store().latest_threads(10).unwrap().len(), 1, "public");

    // Someone else writes Matti's address from elsewhere (SPF fails): held, not forwarded.
    let forged = feedback("Myönnän huijanneeni", matti);
    send_from(
        &app,
        "127.0.0.9",
        matti,
        "palaute@nonono.localhost",
        &forged,
    )
    .await;
    app.wait_delivered().await;
    assert_eq!(
        app.store().latest_threads(10).unwrap().len(),
        1,
        "the forgery is not public"
    );
    assert!(
        !app.outbound()
            .iter()
            .any(|m| m.to.ends_with("@elisa.example") && m.subject.contains("huijanneeni")),
        "nor forwarded"
    );

    // A victim's address written seven times (no SPF at all): one request a day.
    let victim = "victim@victim.example";
    for n in 0..7 {
        send_from(
            &app,
            "127.0.0.9",
            victim,
            "palaute@nonono.localhost",
            &feedback(&format!("asia {n}"), victim),
        )
        .await;
    }
    app.wait_delivered().await;
    let to_victim = app.outbound().iter().filter(|m| m.to == victim).count();
    assert_eq!(to_victim, 1);
}

/// Helper's finding 6: empty texts were published as posts, and each forged answer to one
/// token sent the operator a notice.
#[tokio::test]
async fn empty_texts_are_held_and_forged_answers_are_reported_once_a_thread() {
    let app = TestApp::start_with(|c| {
        no_limits(c);
        c.operator_address = Some(OPERATOR.into());
    })
    .await;
    let (forward, _) = app.new_thread().await;
    // Only an attached message, no text of its own: since issue 21 it goes on privately, as
    // a post that says so.
    let attached = "From: Anna <anna@elisa.example>\r\nSubject: Re\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.example\r\nSubject: liite\r\n\r\nLiitteen teksti.\r\n--b--\r\n";
    app.send("anna@elisa.example", &forward.from, attached.as_bytes())
        .await
        .unwrap();
    let blank = format!(
        "From: tyhja@example.fi\r\nSubject: [Elisa] Tyhjä\r\n\r\n{}",
        "\n".repeat(10_000)
    );
    app.send(
        "tyhja@example.fi",
        "palaute@nonono.localhost",
        blank.as_bytes(),
    )
    .await
    .unwrap();
    for n in 0..3 {
        let forged = format!(
            "From: mallory{n}@evil.example\r\nSubject: Re\r\n\r\nVirallinen vastaus {n}.\r\n"
        );
        app.send(
            &format!("mallory{n}@evil.example"),
            &forward.from,
            forged.as_bytes(),
        )
        .await
        .unwrap();
    }
    app.wait_delivered().await;
    let store = app.store();
    assert_eq!(
        store.latest_threads(10).unwrap().len(),
        1,
        "no empty thread"
    );
    let posts = store.posts(1).unwrap();
    assert!(posts.iter().all(|p| !p.body.trim().is_empty()), "{posts:?}");
    assert_eq!(
        posts
            .iter()
            .filter(|p| p.kind.as_str() == "unverified")
            .count(),
        3
    );
    let notices = app.outbound().iter().filter(|m| m.to == OPERATOR).count();
    assert_eq!(notices, 1, "one notice a thread");
}

/// The second round of the helper's findings, each as it was sent.
#[tokio::test]
async fn the_second_rounds_findings_hold() {
    let app = TestApp::start_with(|c| {
        no_limits(c);
        c.trust.require_confirmation = true;
    })
    .await;
    let send = |from: String, to: String, raw: String| {
        let app = &app;
        async move { app.send(&from, &to, raw.as_bytes()).await.unwrap() }
    };
    let palaute = || "palaute@nonono.localhost".to_owned();
    // A pseudonym that is an address, or carries personal data.
    send(
        "a@example.fi".into(),
        palaute(),
        "From: a@example.fi\r\nSubject: [Elisa] Yksi\r\n\r\nNimimerkki: matti.meikalainen@example.fi\r\nLasku tuli kahdesti.\r\n".into(),
    )
    .await;
    send(
        "b@example.fi".into(),
        palaute(),
        "From: b@example.fi\r\nSubject: [Elisa] Kaksi\r\n\r\nNimimerkki: 131052-308T\r\nLasku tuli kahdesti.\r\n".into(),
    )
    .await;
    // Blank-looking text.
    send(
        "c@example.fi".into(),
        palaute(),
        "From: c@example.fi\r\nSubject: [Elisa] Kolme\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\u{2800}\u{3164}\r\n".into(),
    )
    .await;
    // A victim's mailbox written with tags: one request a day for the box.
    for tag in ["a", "b"] {
        send(
            format!("victim+{tag}@example.net"),
            palaute(),
            format!(
                "From: victim+{tag}@example.net\r\nSubject: [Elisa] Asia {tag}\r\n\r\nHei.\r\n"
            ),
        )
        .await;
    }
    app.wait_delivered().await;
    let sent = app.outbound();
    let asked = |to: &str| {
        sent.iter()
            .filter(|m| m.to == to)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        asked("victim+a@example.net").len() + asked("victim+b@example.net").len(),
        1
    );
    let b = asked("b@example.fi");
    assert!(
        b[0].text.contains("henkilötunnus"),
        "the request names it: {}",
        b[0].text
    );
    assert!(
        asked("c@example.fi").is_empty(),
        "nothing to publish, nothing to confirm"
    );

    // Confirming: a's text is published under a neutral name; the owner of an address who
    // did not write says so, and the text goes.
    let yes = |to: &str| format!("From: {to}\r\nSubject: Re\r\n\r\nKyllä.\r\n");
    send(
        "a@example.fi".into(),
        asked("a@example.fi")[0].from.clone(),
        yes("a@example.fi"),
    )
    .await;
    let no = "From: victim+a@example.net\r\nSubject: Re\r\n\r\nTämä ei ollut minulta!\r\n";
    let victim = asked("victim+a@example.net");
    if let Some(request) = victim.first() {
        send(
            "victim+a@example.net".into(),
            request.from.clone(),
            no.into(),
        )
        .await;
    }
    app.wait_delivered().await;
    let store = app.store();
    let public = store.latest_threads(10).unwrap();
    assert_eq!(public.len(), 1, "{public:?}");
    let posts = store.posts(public[0].id).unwrap();
    assert_eq!(posts[0].author, "Nimetön kirjoittaja");
    let (_, page) = app.get(&format!("/t/{}", public[0].id)).await;
    assert!(!page.contains("matti.meikalainen"), "{page}");
    let declined = store.journal_outcome(7).unwrap().unwrap().outcome.unwrap();
    assert!(declined.contains("did not write it; purged"), "{declined}");
}

/// Found from outside: 301 forged messages under a representative's address, sent in 0.1 s
/// from anywhere (to `postmaster@`, which no abuse limit counts), held every genuine answer of
/// theirs for ten minutes as a mail loop. A loop goes round through one mail system: the brake
/// counts what came from the sender's own network.
#[tokio::test]
async fn a_stranger_cannot_brake_a_representatives_answers() {
    let mut app = TestApp::start_with(no_limits).await;
    let (forward, _) = app.new_thread().await;
    app.stop().await;
    let forged = "From: Anna <anna@elisa.example>\r\nSubject: x\r\n\r\nforged\r\n";
    let flood: Vec<(&str, &str)> = (0..301).map(|_| ("anna@elisa.example", forged)).collect();
    received_while_stopped_from(&app, "198.51.100.9", "postmaster@nonono.localhost", &flood);
    app.restart(|_| {}).await;
    app.wait_processed().await;
    app.answer_as_company(&forward).await;
    app.wait_processed().await;
    let posts = app.store().posts(1).unwrap();
    assert!(
        posts.iter().any(|p| p.kind.as_str() == "official"),
        "the genuine answer is published: {posts:?}"
    );
    app.stop().await;
}
