//! The pipeline's rules in memory: a store in memory, a message from `fixtures/`,
//! `pipeline::process`; no sockets, no threads, no service. What the whole-server tests check
//! end to end is decided here, and a rule's test runs in milliseconds.

mod common;

use nonono::config::Config;
use nonono::domain::token::TokenKey;
use nonono::mail::Envelope;
use nonono::pipeline::{Context, process};
use nonono::store::{Arrival, Store};

/// A store and the config and key the pipeline decides with.
struct Rules {
    /// The config's data folder; nothing in it is written.
    _dir: tempfile::TempDir,
    store: Store,
    config: Config,
    key: TokenKey,
    now: i64,
}

impl Rules {
    fn new() -> Rules {
        let dir = tempfile::tempdir().unwrap();
        let config = common::test_config(dir.path());
        let store = Store::open_in_memory().unwrap();
        Rules {
            _dir: dir,
            store,
            config,
            key: TokenKey::new(&[7; 32]),
            now: 1_795_464_000,
        }
    }

    /// `raw` received from `from` for `to`, processed; returns what the pipeline says it did.
    fn receive(&mut self, from: &str, to: &str, raw: &[u8]) -> String {
        let envelope = Envelope {
            mail_from: from.into(),
            rcpt_to: vec![to.into()],
            peer: "192.0.2.1".into(),
            helo: "mail.example".into(),
        };
        self.now += 60;
        self.store
            .journal_append(&[Arrival::new(&envelope, raw, self.now)])
            .unwrap();
        let entry = self.store.pending_journal(1, 1 << 30).unwrap().remove(0);
        let ctx = Context::scheduled(&self.config, &self.key, self.now);
        process(&mut self.store, &ctx, &entry).unwrap()
    }

    /// The kinds of thread `thread`'s posts, in order.
    fn post_kinds(&self, thread: i64) -> Vec<&'static str> {
        let posts = self.store.posts(thread).unwrap();
        posts.iter().map(|p| p.kind.as_str()).collect()
    }

    /// The purposes of the outbox rows, in order.
    fn queued(&self) -> Vec<String> {
        self.store
            .queue_listing()
            .unwrap()
            .into_iter()
            .map(|r| r.purpose)
            .collect()
    }

    /// Matti's tagged feedback about Elisa: thread 1, forwarded and acknowledged.
    fn matti_writes(&mut self) -> String {
        self.receive(
            "matti.meikalainen@example.fi",
            "palaute@nonono.localhost",
            &fixture("new-feedback-tagged.eml"),
        )
    }

    /// The token address the company answers to: the Reply-To of the forward.
    fn company_token(&self) -> String {
        let forward = self
            .store
            .due_outbound(i64::MAX, 16, 1 << 30, &[])
            .unwrap()
            .into_iter()
            .find(|r| r.rcpt_to.ends_with("@elisa.example"))
            .unwrap();
        let raw = String::from_utf8(forward.raw).unwrap();
        let reply_to = raw
            .lines()
            .find_map(|l| l.strip_prefix("Reply-To: "))
            .unwrap();
        reply_to
            .rsplit_once('<')
            .map_or(reply_to, |(_, a)| a.trim_end_matches('>'))
            .to_owned()
    }
}

fn fixture(name: &str) -> Vec<u8> {
    common::fixture(name, &[])
}

#[test]
fn tagged_feedback_opens_a_thread_forwarded_and_acknowledged() {
    let mut r = Rules::new();
    let done = r.matti_writes();
    assert!(done.starts_with("new thread 1 for elisa"), "{done}");
    assert_eq!(r.queued(), ["forward", "ack"]);
    let posts = r.store.posts(1).unwrap();
    assert_eq!(posts.len(), 1);
    assert!(!posts[0].body.contains('@'), "no address published");
}

#[test]
fn feedback_without_a_company_gets_help_and_no_thread() {
    let mut r = Rules::new();
    let done = r.receive(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        &fixture("new-feedback-no-tag.eml"),
    );
    assert!(done.contains("no company tag"), "{done}");
    assert_eq!(r.queued(), ["help"]);
    assert!(r.store.thread(1).unwrap().is_none());
}

#[test]
fn a_representative_answer_is_official_and_relayed_an_out_of_office_is_neither() {
    let mut r = Rules::new();
    r.matti_writes();
    let company_token = r.company_token();
    let away = r.receive(
        "anna@elisa.example",
        &company_token,
        &common::fixture("auto-reply-ooo.eml", &[("to", &company_token)]),
    );
    assert!(away.contains("automatic reply"), "{away}");
    let answer = r.receive(
        "anna@elisa.example",
        &company_token,
        &common::fixture(
            "provider-reply-official.eml",
            &[
                ("to", &company_token),
                ("in_reply_to", "x@nonono.localhost"),
            ],
        ),
    );
    assert!(answer.contains("thread 1"), "{answer}");
    let kinds = r.post_kinds(1);
    assert_eq!(kinds, ["consumer", "official"]);
    assert_eq!(r.queued(), ["forward", "ack", "relay"]);
}

#[test]
fn a_companys_own_mail_without_a_thread_never_opens_feedback_about_it() {
    let mut r = Rules::new();
    let done = r.receive(
        "anna@elisa.example",
        "elisa@nonono.localhost",
        b"From: Anna <anna@elisa.example>\r\nSubject: Vastaus asiakkaalle\r\n\r\nPalautamme veloituksen.\r\n",
    );
    assert!(done.contains("held"), "{done}");
    assert!(
        r.store.thread(1).unwrap().is_none(),
        "no thread about Elisa by Elisa"
    );
}

/// The archive's router answers a request handed to it, without a socket: the thread the rules
/// made is its page, and an unknown one is 404.
#[tokio::test]
async fn the_archive_shows_what_the_rules_made_without_a_socket() {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use std::sync::Arc;
    use tower::ServiceExt;

    let mut r = Rules::new();
    r.matti_writes();
    let app = nonono::archive::router(nonono::archive::Archive::new(
        vec![r.store],
        Arc::new(r.config.into()),
        Arc::new(nonono::metrics::Metrics::default()),
    ));
    let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
    let page = app.clone().oneshot(get("/t/1")).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let body = axum::body::to_bytes(page.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(body.contains("Lasku tuli kahdesti"), "{body}");
    assert!(!common::without_support_address(&body).contains('@'));
    let missing = app.oneshot(get("/t/99")).await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// A helpdesk's "we received your message" is automatic when it comes at once, before any
/// answer; the same words from a person an hour later are an answer.
#[test]
fn saying_only_that_mail_arrived_is_automatic_at_once_and_an_answer_later() {
    let receipt = |token: &str, n: u32| {
        format!(
            "From: Anna <anna@elisa.example>\r\nTo: {token}\r\nSubject: Re: Palaute: Lasku tuli kahdesti\r\nMessage-ID: <r{n}@elisa.example>\r\n\r\nOlemme vastaanottaneet viestisi ja vastaamme siihen mahdollisimman pian.\r\n"
        )
    };
    let mut r = Rules::new();
    r.matti_writes();
    let token = r.company_token();
    let at_once = r.receive("anna@elisa.example", &token, receipt(&token, 1).as_bytes());
    assert!(at_once.contains("automatic reply"), "{at_once}");
    r.now += 3600;
    let later = r.receive("anna@elisa.example", &token, receipt(&token, 2).as_bytes());
    assert!(!later.contains("automatic"), "{later}");
    let kinds = r.post_kinds(1);
    assert_eq!(kinds, ["consumer", "official"]);
}

/// A reply to the writer's token from someone else is held, never published as the writer's.
#[test]
fn a_reply_that_is_not_the_writers_is_held() {
    let mut r = Rules::new();
    r.matti_writes();
    let writer_token = r.key.address(
        nonono::domain::token::Purpose::Participant,
        1,
        "nonono.localhost",
    );
    let done = r.receive(
        "mallory@evil.example",
        &writer_token,
        b"From: Mallory <mallory@evil.example>\r\nSubject: Re: Lasku\r\n\r\nMinuun ei voi luottaa.\r\n",
    );
    assert!(done.contains("held"), "{done}");
    assert_eq!(r.store.posts(1).unwrap().len(), 1);
}

/// The same answer going round one token is stopped after six rounds in ten minutes (the
/// rounds a forger sends from another network do not count: tests/hostile.rs).
#[test]
fn the_loop_brake_counts_one_pair_from_one_network() {
    let mut r = Rules::new();
    r.matti_writes();
    let token = r.company_token();
    let answer = |n: u32| {
        format!(
            "From: Anna <anna@elisa.example>\r\nTo: {token}\r\nSubject: Re: Palaute\r\nMessage-ID: <loop{n}@elisa.example>\r\n\r\nPalautamme veloituksen, kierros {n}.\r\n"
        )
    };
    let outcomes: Vec<String> = (0..7)
        .map(|n| {
            r.now -= 50; // seven rounds within a few minutes
            r.receive("anna@elisa.example", &token, answer(n).as_bytes())
        })
        .collect();
    assert!(
        outcomes[..6].iter().all(|o| !o.contains("held")),
        "{outcomes:?}"
    );
    assert!(outcomes[6].contains("held"), "{outcomes:?}");
}

/// Feedback that waited for its company and was hidden by the moderators meanwhile is not
/// forwarded when the company registers: the forward would carry nothing but its title.
#[test]
fn a_hidden_feedback_is_not_forwarded_when_its_company_registers() {
    let mut r = Rules::new();
    r.receive(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        &fixture("new-feedback-unknown-tag.eml"),
    );
    let post = r.store.posts(1).unwrap()[0].id;
    assert!(r.store.remove_post(post, "loukkaava", r.now).unwrap());
    let before = r.queued().len();
    let acme = nonono::config::ProviderConfig {
        slug: "acme".into(),
        name: "Acme Oy".into(),
        routes: vec!["asiakaspalvelu@acme.example".into()],
        ..r.config.providers[0].clone()
    };
    r.config.providers.edit(|ps| ps.push(acme));
    let forwarded =
        nonono::pipeline::unregistered::attach_registered(&mut r.store, &r.config, &r.key, r.now)
            .unwrap();
    assert_eq!(forwarded, 0);
    assert_eq!(r.queued().len(), before, "{:?}", r.queued());
}

/// Marks outbox row `id` taken by the smarthost at `now`, as the relay records it.
fn accepted(r: &mut Rules, id: i64) {
    let tx = r.store.begin().unwrap();
    let origin = tx.outbound_sent(id, r.now).unwrap().unwrap();
    nonono::pipeline::delivered(&tx, &r.config, &origin, r.now).unwrap();
    tx.commit().unwrap();
}

/// The outbox ids of the forwards, in order.
fn forwards(r: &Rules) -> Vec<i64> {
    let tx_rows = r.store.queue_listing().unwrap();
    tx_rows
        .iter()
        .filter(|row| row.purpose == "forward")
        .map(|row| row.id)
        .collect()
}

/// A report sent to outbound `id`'s bounce address, with this `action` and `status`.
fn report(r: &mut Rules, id: i64, action: &str, status: &str) -> String {
    let to = r.key.address(
        nonono::domain::token::Purpose::Bounce,
        id,
        "nonono.localhost",
    );
    let dsn = format!(
        "From: MAILER-DAEMON@mx.elisa.example\r\nTo: <{to}>\r\nSubject: Delivery Status Notification\r\nAuto-Submitted: auto-replied\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.elisa.example\r\n\r\nFinal-Recipient: rfc822; laskutus@elisa.example\r\nAction: {action}\r\nStatus: {status}\r\n\r\n--b--\r\n"
    );
    r.receive("", &to, dsn.as_bytes())
}

/// A company that forges a bounce for an overdue thread buys no time: the clock stops, and
/// when its address takes mail again the thread runs on from where it stopped, still overdue.
/// A report of a delay stops nothing.
#[test]
fn a_bounce_stops_the_clock_and_the_pause_is_added_not_a_fresh_start() {
    let mut r = Rules::new();
    r.matti_writes();
    let first = forwards(&r)[0];
    accepted(&mut r, first);
    let due = r.store.thread(1).unwrap().unwrap().due_at.unwrap();

    r.now = due + 86_400;
    let delayed = report(&mut r, first, "delayed", "4.4.1");
    assert!(delayed.contains("no failure"), "{delayed}");
    let paused_since = |r: &Rules| r.store.thread(1).unwrap().unwrap().undeliverable_at;
    assert!(paused_since(&r).is_none());

    let bounced = report(&mut r, first, "failed", "5.2.2");
    assert!(bounced.contains("bounce for outbound"), "{bounced}");
    let paused = r.store.thread(1).unwrap().unwrap();
    assert!(paused.undeliverable_at.is_some() && paused.due_at.is_none());

    // An hour later other feedback about Elisa's bills reaches the same address.
    r.now += 3600;
    r.receive(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        b"From: Pekka <pekka@example.fi>\r\nSubject: [Elisa] Toinen lasku\r\nMessage-ID: <toinen@example.fi>\r\n\r\nLasku tuli minullekin kahdesti.\r\n",
    );
    let second = *forwards(&r).last().unwrap();
    accepted(&mut r, second);
    // The address works, but this thread's feedback was refused: it goes again, and the
    // clock waits for it to get through (issue 21).
    assert!(paused_since(&r).is_some());
    assert!(
        forwards(&r).contains(&first),
        "the refused forward goes again"
    );
    accepted(&mut r, first);
    let resumed = r.store.thread(1).unwrap().unwrap();
    assert_eq!(resumed.undeliverable_at, None);
    let pause = r.now - paused.undeliverable_at.unwrap();
    assert_eq!(
        resumed.due_at,
        Some(due + pause),
        "the pause is added to the old due date"
    );
    assert!(resumed.due_at.unwrap() < r.now, "still overdue");
}

/// A report of failure can come from anyone who has the message: the company itself, to stop
/// its clock. The bounced message goes again a day later, and when the address takes it the
/// clock runs on: a forged bounce holds the clock a day at most. An address that keeps
/// failing is tried seven times, once a day, then left to the operator.
#[test]
fn a_bounced_company_address_is_tried_again_daily_so_a_forged_bounce_buys_a_day_at_most() {
    let mut r = Rules::new();
    r.matti_writes();
    let first = forwards(&r)[0];
    accepted(&mut r, first);
    let due = r.store.thread(1).unwrap().unwrap().due_at.unwrap();
    report(&mut r, first, "failed", "5.1.1");
    let bounced_at = r.now;
    let state = |r: &Rules| {
        r.store
            .queue_listing()
            .unwrap()
            .into_iter()
            .find(|q| q.id == first)
            .map(|q| q.state)
    };
    assert_eq!(state(&r).as_deref(), Some("failed"));

    r.now = bounced_at + 3_600;
    assert_eq!(
        nonono::pipeline::delivery::probe_paused(&mut r.store, &r.config, r.now).unwrap(),
        0,
        "not within the day"
    );
    r.now = bounced_at + 86_400 + 60;
    assert_eq!(
        nonono::pipeline::delivery::probe_paused(&mut r.store, &r.config, r.now).unwrap(),
        1
    );
    assert_eq!(
        state(&r).as_deref(),
        Some("pending"),
        "the forward goes again"
    );
    assert_eq!(
        nonono::pipeline::delivery::probe_paused(&mut r.store, &r.config, r.now).unwrap(),
        0,
        "once"
    );
    accepted(&mut r, first);
    let resumed = r.store.thread(1).unwrap().unwrap();
    assert_eq!(resumed.undeliverable_at, None, "the clock runs again");
    assert_eq!(resumed.due_at, Some(due + 86_400 + 60));

    // An address that keeps failing: tried once a day, seven times in all.
    let mut tries = 0;
    loop {
        report(&mut r, first, "failed", "5.1.1");
        r.now += 86_400 + 60;
        if nonono::pipeline::delivery::probe_paused(&mut r.store, &r.config, r.now).unwrap() == 0 {
            break;
        }
        tries += 1;
        accepted(&mut r, first);
        assert!(tries < 20, "tried for ever");
    }
    assert_eq!(state(&r).as_deref(), Some("failed"));
    assert_eq!(tries, 6, "seven with the first");
}

/// Helper-8 and helper-9: a company removed from the registry was still reminded, sent its
/// bounced mail again, and relayed the writer's replies, on its old route.
#[test]
fn a_company_removed_from_the_registry_is_sent_nothing() {
    let mut r = Rules::new();
    r.matti_writes();
    let first = forwards(&r)[0];
    accepted(&mut r, first);
    let due = r.store.thread(1).unwrap().unwrap().due_at.unwrap();
    report(&mut r, first, "failed", "5.1.1");
    r.config
        .providers
        .edit(|ps| ps.retain(|p| p.slug != "elisa"));
    let reminded =
        nonono::pipeline::remind::send_due(&mut r.store, &r.config, &r.key, due + 60).unwrap();
    assert_eq!(reminded, 0);
    let probed =
        nonono::pipeline::delivery::probe_paused(&mut r.store, &r.config, r.now + 2 * 86_400)
            .unwrap();
    assert_eq!(probed, 0);
    let before = r.queued().len();
    let writer = r.key.address(
        nonono::domain::token::Purpose::Participant,
        1,
        "nonono.localhost",
    );
    let said = r.receive(
        "matti.meikalainen@example.fi",
        &writer,
        b"From: matti.meikalainen@example.fi\r\nSubject: Re: lasku\r\nMessage-ID: <m2@example.fi>\r\n\r\nJoko asia etenee?\r\n",
    );
    assert!(said.contains("relayed to 0"), "{said}");
    assert_eq!(r.queued().len(), before, "{:?}", r.queued());
}
