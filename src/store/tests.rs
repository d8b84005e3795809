//! Unit tests of the store as a whole: migrations, ids, search, figures, the journal.

use std::path::Path;

use rusqlite::Connection;

use super::connection::*;
use super::error::*;
use super::records::*;
use super::sqlite::Cached;
use super::*;
use crate::mail::Envelope;
use crate::store::public::Figures;

#[test]
fn migrations_apply_once_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    drop(Store::open(&path).unwrap());
    let store = Store::open(&path).unwrap();
    let version: i64 = store
        .conn
        .one("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, migrations::MIGRATIONS.len());
    let mode: String = store
        .conn
        .one("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    match Store::open(&path) {
        Err(StoreError::TooNew { found: 99, .. }) => {}
        other => panic!("expected TooNew, got {:?}", other.err()),
    }
}

/// Tokens and links name rows by id: a purged held thread (its participants and its mail)
/// or a follower who left must never lend its id to a newer row, or an old token would
/// act on someone else's.
#[test]
fn ids_behind_tokens_are_never_given_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, journal_id) = store_with_an_entry(&dir.path().join("s.sqlite3"));
    let outbound = |thread_id, participant_id| Outbound {
        thread_id: Some(thread_id),
        participant_id: Some(participant_id),
        journal_id: Some(journal_id),
        purpose: OutboxPurpose::Confirm,
        mail_from: String::new(),
        rcpt_to: "matti@example.fi".into(),
        message_id: "m@x".into(),
        raw: b"x".to_vec(),
    };
    let rows = |store: &mut Store| {
        let tx = store.begin().unwrap();
        let thread_id = thread(&tx, journal_id, Some("confirmation"));
        let participant = tx
            .add_participant(thread_id, Role::Consumer, "matti@example.fi", "M", None, 1)
            .unwrap();
        let outbox = tx.queue(&outbound(thread_id, participant), 1).unwrap();
        let person = tx.person("matti@example.fi", 1).unwrap();
        let follower = tx.add_follower("elisa", person, 1).unwrap().id;
        tx.commit().unwrap();
        [thread_id, participant, outbox, follower]
    };
    let first = rows(&mut store);
    assert_eq!(store.purge_held(i64::MAX).unwrap(), 1);
    let tx = store.begin().unwrap();
    assert!(tx.remove_follower(first[3]).unwrap());
    tx.commit().unwrap();
    let second = rows(&mut store);
    for (old, new) in first.iter().zip(second) {
        assert!(new > *old, "{first:?} then {second:?}");
    }
}

/// A new store at `path` with one journal entry, for threads and posts to come from.
fn store_with_an_entry(path: &Path) -> (Store, i64) {
    let mut store = Store::open(path).unwrap();
    let env = testing::envelope("matti@example.fi");
    let journal_id = store
        .journal_append(&[Arrival::new(&env, b"x", 1)])
        .unwrap()[0];
    (store, journal_id)
}

/// Feedback about Elisa, public, with no response time.
fn new_thread(journal_id: i64) -> NewThread<'static> {
    NewThread {
        provider: Some("elisa"),
        company: "Elisa",
        title: "Lasku",
        route: None,
        route_label: None,
        journal_id,
        created_at: 1,
        due_at: None,
        held: None,
        subject: None,
    }
}

fn thread(tx: &Tx<'_>, journal_id: i64, held: Option<&str>) -> i64 {
    tx.create_thread(&NewThread {
        held,
        ..new_thread(journal_id)
    })
    .unwrap()
}

/// A writer's post.
fn post(tx: &Tx<'_>, thread_id: i64, body: &str) -> i64 {
    add_post(tx, thread_id, PostKind::Consumer, "Kirjoittaja", body)
}

/// The company's answer.
fn answer(tx: &Tx<'_>, thread_id: i64) -> i64 {
    add_post(
        tx,
        thread_id,
        PostKind::Official,
        "Elisa",
        "Hei, korjasimme laskun.",
    )
}

fn add_post(tx: &Tx<'_>, thread_id: i64, kind: PostKind, author: &str, body: &str) -> i64 {
    tx.add_post(&NewPost {
        thread_id,
        participant_id: None,
        journal_id: None,
        kind,
        author,
        body,
        trimmed: body,
        uncut: false,
        attachments: 0,
        message_id: None,
        created_at: 1,
        evidence: None,
    })
    .unwrap()
}

#[test]
fn posts_are_searchable_once_committed_and_public() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, journal_id) = store_with_an_entry(&dir.path().join("s.sqlite3"));
    let thread = |tx: &Tx<'_>, held| thread(tx, journal_id, held);
    let tx = store.begin().unwrap();
    let public = thread(&tx, None);
    post(&tx, public, "laskutusvirhe");
    // An entry undone: its post is gone, and so is its place in the index.
    tx.begin_entry().unwrap();
    post(&tx, public, "peruttu");
    tx.undo_entry().unwrap();
    // Held, then released in the same transaction: indexed once.
    let held = thread(&tx, Some("confirmation"));
    post(&tx, held, "vahvistettu");
    tx.release(held).unwrap();
    // Held still: not searchable.
    let waiting = thread(&tx, Some("confirmation"));
    post(&tx, waiting, "odottava");
    tx.commit().unwrap();

    let hits = |word| store.search(word, 10, 0).unwrap().len();
    assert_eq!(hits("laskutusvirhe"), 1);
    assert_eq!(hits("peruttu"), 0);
    assert_eq!(hits("vahvistettu"), 1);
    assert_eq!(hits("odottava"), 0);
}

/// Takes a store back to version 14: before its company desk (24), its company registry (20), its paused clocks (19),
/// its holding pen (18), its journal counted attempts (17), its companies' figures were kept
/// (16) and its threads counted their answers (15).
const TO_VERSION_14: &str = "
        DROP TABLE desk_requests;
        DROP INDEX outbox_recipient;
        CREATE INDEX outbox_recipient ON outbox(rcpt_to, purpose, created_at)
            WHERE purpose IN ('help', 'confirm', 'follow-confirm', 'support', 'set-aside',
                              'not-an-answer', 'publish-ask');
        ALTER TABLE outbox DROP COLUMN delivery_report;
        ALTER TABLE outbox DROP COLUMN delivery_reported_at;
        ALTER TABLE participants DROP COLUMN language;
        ALTER TABLE posts DROP COLUMN auth_verified;
        ALTER TABLE posts DROP COLUMN auth_dkim;
        DROP TABLE companies;
        DROP TABLE declarations;
        DROP TABLE company_changes;
        DROP INDEX outbox_route;
        ALTER TABLE outbox DROP COLUMN failed_at;
        ALTER TABLE outbox DROP COLUMN probes;
        DROP INDEX company_figures_busiest;
        DROP TABLE registry_followed;
        ALTER TABLE threads DROP COLUMN subject;
        DROP INDEX threads_paused;
        ALTER TABLE threads DROP COLUMN due_before_pause;
        DROP TABLE holds;
        ALTER TABLE journal DROP COLUMN assigned_to;
        ALTER TABLE journal DROP COLUMN attempts;
        ALTER TABLE journal DROP COLUMN publication;
        DROP TABLE health;
        DROP TRIGGER threads_retired;
        DROP TRIGGER participants_retired;
        DROP TRIGGER outbox_retired;
        DROP TRIGGER followers_retired;
        DROP TABLE retired_ids;
        DROP INDEX outbox_message;
        DROP INDEX outbox_recipient;
        DROP TRIGGER threads_counted;
        DROP TRIGGER threads_recounted;
        DROP TRIGGER threads_uncounted;
        DROP TABLE company_figures;
        DROP INDEX threads_overdue;
        DROP TRIGGER posts_answer_added;
        DROP TRIGGER posts_answer_changed;
        DROP TRIGGER posts_answer_deleted;
        CREATE INDEX threads_figures ON threads(provider, held, first_answer_at, due_at,
            first_auto_at, solved);
        ALTER TABLE threads DROP COLUMN answers;
        ALTER TABLE threads DROP COLUMN template_answers;
        PRAGMA user_version = 14;";

#[test]
fn a_companys_figures_follow_its_threads_and_posts() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, journal_id) = store_with_an_entry(&dir.path().join("s.sqlite3"));
    const NOW: i64 = 3;
    // What the figures counted before they were kept as things change: straight from the
    // threads (the official answers by joining their posts), as the oracle.
    let figures = |store: &Store| {
        let mut counted = store
            .conn
            .one(
                "SELECT count(*), count(first_answer_at),
                            coalesce(sum(first_answer_at IS NULL AND due_at < ?1), 0),
                            coalesce(sum(first_answer_at IS NULL AND first_auto_at IS NOT NULL), 0),
                            coalesce(sum(solved IS 1), 0), coalesce(sum(solved IS 0), 0)
                     FROM threads WHERE provider = 'elisa' AND held IS NULL",
                [NOW],
                |r| {
                    Ok(Figures {
                        threads: r.get(0)?,
                        answered: r.get(1)?,
                        overdue: r.get(2)?,
                        auto_only: r.get(3)?,
                        solved: r.get(4)?,
                        unsolved: r.get(5)?,
                        ..Figures::default()
                    })
                },
            )
            .unwrap();
        (counted.answers, counted.template_answers) = store
            .conn
            .one(
                "SELECT count(*), coalesce(sum(p.template), 0)
                     FROM threads t JOIN posts p ON p.thread_id = t.id
                     WHERE t.provider = 'elisa' AND t.held IS NULL AND p.kind = 'official'
                       AND p.removed IS NULL",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let kept = store.figures("elisa", NOW).unwrap();
        counted.median_answer_secs = kept.median_answer_secs;
        assert_eq!(kept, counted);
        kept
    };
    let counts = |f: Figures| {
        [
            f.threads,
            f.answered,
            f.overdue,
            f.auto_only,
            f.answers,
            f.template_answers,
            f.solved,
            f.unsolved,
        ]
    };
    let due_thread = |tx: &Tx<'_>, provider| {
        tx.create_thread(&NewThread {
            provider,
            due_at: Some(2),
            ..new_thread(journal_id)
        })
        .unwrap()
    };

    let tx = store.begin().unwrap();
    let open = thread(&tx, journal_id, None);
    let first = answer(&tx, open);
    let second = answer(&tx, open);
    post(&tx, open, "Kiitos!");
    let held = thread(&tx, journal_id, Some("confirmation"));
    answer(&tx, held);
    let late = due_thread(&tx, Some("elisa"));
    // An entry undone takes its answer and its thread with it.
    tx.begin_entry().unwrap();
    answer(&tx, late);
    due_thread(&tx, Some("elisa"));
    tx.undo_entry().unwrap();
    tx.commit().unwrap();
    assert_eq!(counts(figures(&store)), [2, 1, 1, 0, 2, 0, 0, 0]);

    let tx = store.begin().unwrap();
    tx.mark_template(second).unwrap();
    tx.release(held).unwrap();
    tx.add_event(late, None, EventKind::AutoReply, "", NOW)
        .unwrap();
    tx.record_solved(open, true, NOW).unwrap();
    tx.record_solved(held, false, NOW).unwrap();
    // Feedback about a company not registered yet counts once the company is.
    let unregistered = due_thread(&tx, None);
    tx.commit().unwrap();
    assert_eq!(counts(figures(&store)), [3, 2, 1, 1, 3, 1, 1, 1]);

    let tx = store.begin().unwrap();
    tx.attach_provider(unregistered, "elisa", "Elisa", "a@elisa.example", None, 2)
        .unwrap();
    tx.record_solved(held, true, NOW).unwrap();
    answer(&tx, late);
    tx.commit().unwrap();
    assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 4, 1, 2, 0]);

    // A store of version 14 counts its threads' answers, and its companies' figures, once,
    // as it is upgraded.
    store.conn.execute_batch(TO_VERSION_14).unwrap();
    drop(store);
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 4, 1, 2, 0]);

    store.remove_post(second, "syy", 4).unwrap();
    assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 3, 0, 2, 0]);
    store.remove_thread(open, "syy", 5).unwrap();
    assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 2, 0]);
    assert!(store.remove_post(first, "syy", 6).is_ok());
    assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 2, 0]);

    let tx = store.begin().unwrap();
    let waiting = thread(&tx, journal_id, Some("confirmation"));
    answer(&tx, waiting);
    tx.commit().unwrap();
    assert_eq!(store.purge_held(i64::MAX).unwrap(), 1);
    assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 2, 0]);

    // A statement's conflict clause is its triggers' too: one that replaces must not
    // replace a company's counts.
    store
        .conn
        .run(
            "UPDATE OR REPLACE threads SET solved = 1 WHERE id = ?1",
            [late],
        )
        .unwrap();
    assert_eq!(counts(figures(&store)), [4, 3, 1, 0, 2, 0, 3, 0]);
}

#[test]
fn pending_entries_come_in_batches_bounded_by_count_and_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let env = testing::envelope("matti@example.fi");
    let big = vec![b'x'; 3 << 20];
    let ids = store
        .journal_append(&[
            Arrival::new(&env, &big, 1),
            Arrival::new(&env, &big, 1),
            Arrival::new(&env, b"small", 1),
        ])
        .unwrap();
    let pending = |limit, bytes| -> Vec<i64> {
        let entries = store.pending_journal(limit, bytes).unwrap();
        entries.into_iter().map(|e| e.id).collect()
    };
    assert_eq!(pending(10, i64::MAX), ids);
    assert_eq!(pending(1, i64::MAX), ids[..1]);
    assert_eq!(pending(10, 4 << 20), ids[..2]);
    assert_eq!(pending(10, 1), ids[..1]);
}

#[test]
fn journal_keeps_raw_bytes_and_envelope_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let env = Envelope {
        mail_from: String::new(),
        rcpt_to: vec!["a@x".into(), "b@x".into()],
        peer: "127.0.0.1".into(),
        helo: "h".into(),
    };
    let raw = b"\xff\x00binary\r\n".to_vec();
    let ids = store
        .journal_append(&[Arrival::new(&env, &raw, 5), Arrival::new(&env, b"x", 6)])
        .unwrap();
    assert_eq!(ids.len(), 2);
    let pending = store.pending_journal(10, i64::MAX).unwrap();
    assert_eq!(pending[0].raw, raw);
    assert_eq!(pending[0].envelope, env);
}

#[test]
fn a_senders_pace_counts_what_arrived_up_to_the_message_only() {
    // Processed late (after a restart, or behind a burst), a message must be judged by
    // what came before it, not by what came after.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let env = testing::envelope("kone@example.fi");
    let other = testing::envelope("matti@example.fi");
    let elsewhere = Envelope {
        rcpt_to: vec!["t+abc@nonono.localhost".into()],
        ..env.clone()
    };
    let ids = store
        .journal_append(&[
            Arrival::new(&env, b"1", 100),
            Arrival::new(&other, b"2", 100),
            Arrival::new(&env, b"3", 101),
            Arrival::new(&elsewhere, b"4", 102),
        ])
        .unwrap();
    let tx = store.begin().unwrap();
    let count = |upto, since, at_most| {
        tx.received_from(
            "kone@example.fi",
            "palaute@nonono.localhost",
            "192.0.2.1",
            since,
            upto,
            at_most,
        )
        .unwrap()
    };
    assert_eq!(count(ids[0], 0, 10), (1, 1));
    assert_eq!(count(ids[2], 0, 10), (2, 2));
    assert_eq!(count(ids[3], 0, 10), (2, 3), "to one address, and to any");
    assert_eq!(
        count(ids[3], 101, 10),
        (1, 2),
        "only since the window's start"
    );
    assert_eq!(count(ids[3], 0, 2), (2, 2), "counted up to at_most");
    let elsewhere_counts = tx
        .received_from(
            "kone@example.fi",
            "palaute@nonono.localhost",
            "198.51.100.9",
            0,
            ids[3],
            10,
        )
        .unwrap();
    assert_eq!(
        elsewhere_counts,
        (0, 0),
        "another network's mail is someone else's"
    );
    let same_network = tx
        .received_from(
            "kone@example.fi",
            "palaute@nonono.localhost",
            "192.0.2.77",
            0,
            ids[3],
            10,
        )
        .unwrap();
    assert_eq!(same_network, (2, 3), "the same /24");
}

#[test]
fn raw_mail_stored_before_it_had_tables_of_its_own_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let conn = Connection::open(&path).unwrap();
    for sql in &migrations::MIGRATIONS[..12] {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 12).unwrap();
    conn.execute_batch(
        "INSERT INTO journal (id, received_at, peer, helo, mail_from, rcpt_to, raw)
             VALUES (7, 1, 'p', 'h', 'a@example.fi', 'palaute@x', x'0001ff');
             INSERT INTO outbox (id, journal_id, purpose, mail_from, rcpt_to, message_id, raw,
                                 next_attempt_at, created_at)
             VALUES (3, 7, 'forward', '', 'b@example.fi', 'm@x', x'02', 1, 1);",
    )
    .unwrap();
    drop(conn);
    let store = Store::open(&path).unwrap();
    let pending = store.pending_journal(10, i64::MAX).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].id, pending[0].raw.as_slice()),
        (7, &[0, 1, 0xff][..])
    );
    let due = store.due_outbound(1, 10, i64::MAX, &[]).unwrap();
    assert_eq!((due[0].id, due[0].raw.as_slice()), (3, &[2][..]));
}

#[test]
fn the_search_index_is_rebuilt_without_its_own_copy_of_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sqlite3");
    let (mut store, journal_id) = store_with_an_entry(&path);
    let tx = store.begin().unwrap();
    let public = thread(&tx, journal_id, None);
    post(&tx, public, "laskutusvirhe");
    let removed = post(&tx, public, "poistettava");
    let held = thread(&tx, journal_id, Some("confirmation"));
    post(&tx, held, "odottava");
    tx.commit().unwrap();
    store.remove_post(removed, "syy", 2).unwrap();
    // The index as version 13 left it, with a copy of every public post's text.
    store.conn.execute_batch(TO_VERSION_14).unwrap();
    store
        .conn
        .execute_batch(
            "DROP TABLE posts_vocab;
                 DROP TABLE posts_fts;
                 CREATE VIRTUAL TABLE posts_fts USING fts5(title, body,
                     tokenize = 'unicode61 remove_diacritics 2');
                 CREATE VIRTUAL TABLE posts_vocab USING fts5vocab(posts_fts, 'row');
                 INSERT INTO posts_fts (rowid, title, body)
                     SELECT p.id, t.title, p.body FROM posts p JOIN threads t ON t.id = p.thread_id
                     WHERE t.held IS NULL AND p.removed IS NULL;
                 PRAGMA user_version = 13;",
        )
        .unwrap();
    drop(store);
    let store = Store::open(&path).unwrap();
    let hits = |word| store.search(word, 10, 0).unwrap().len();
    assert_eq!(
        (
            hits("laskutusvirhe"),
            hits("lasku"),
            hits("poistettava"),
            hits("odottava")
        ),
        (1, 1, 0, 0)
    );
    let copies: i64 = store
        .conn
        .one(
            "SELECT count(*) FROM sqlite_master WHERE name = 'posts_fts_content'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(copies, 0);
}

/// A kind or role this version does not know is an error, never read as another (a post of
/// an unknown kind was shown as the consumer's, a party of an unknown role as the consumer).
#[test]
fn an_unknown_stored_kind_is_an_error_not_a_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
    let env = testing::envelope("matti@example.fi");
    let journal = store
        .journal_append(&[Arrival::new(&env, b"x", 1)])
        .unwrap()[0];
    let tx = store.begin().unwrap();
    let thread = thread(&tx, journal, None);
    tx.commit().unwrap();
    store
        .conn
        .execute(
            "INSERT INTO posts (thread_id, kind, author, body, created_at) VALUES (?1, 'bogus', 'x', 'y', 1)",
            [thread],
        )
        .unwrap();
    let err = store.posts(thread).unwrap_err();
    assert!(err.to_string().contains("unknown post kind"), "{err}");
}

/// The purposes that SQL lists in words (partial indexes take no parameters) are the ones the
/// code means, and the look-ups use the indexes those lists define.
#[test]
fn the_purposes_sql_lists_are_the_ones_the_code_names_and_their_indexes_are_used() {
    fn lists(sql: &str) -> Vec<Vec<String>> {
        sql.split("purpose IN (")
            .skip(1)
            .map(|rest| {
                rest[..rest.find(')').unwrap()]
                    .split(',')
                    .map(|p| p.trim().trim_matches('\'').to_owned())
                    .collect()
            })
            .collect()
    }
    let names = |ps: &[OutboxPurpose]| -> Vec<String> {
        ps.iter().map(|p| p.as_str().to_owned()).collect()
    };
    let once = names(&OutboxPurpose::ONCE_A_DAY);
    let answerable = names(&OutboxPurpose::ANSWERABLE);
    // Migration 18's index, as it was, and migration 24's, which replaced it.
    let once_before_the_desk = once[..once.len() - 1].to_vec();
    assert_eq!(
        lists(migrations::MIGRATIONS.join("\n").as_str()),
        [
            once_before_the_desk,
            answerable.clone(),
            answerable.clone(),
            once.clone()
        ]
    );
    assert_eq!(
        lists(include_str!("companies.rs")),
        [
            answerable.clone(),
            answerable.clone(),
            answerable.clone(),
            answerable.clone()
        ]
    );
    assert_eq!(lists(include_str!("outbox.rs")), [once]);
    assert_eq!(lists(include_str!("traces.rs")), [answerable]);

    let store = Store::open_in_memory().unwrap();
    let plan = |sql: &str| -> String {
        let mut stmt = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let rows = stmt.query_map([], |r| r.get::<_, String>(3)).unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("; ")
    };
    let recipient = plan(
        "SELECT 1 FROM outbox WHERE purpose IN ('help', 'confirm', 'follow-confirm', 'support',
         'set-aside', 'not-an-answer', 'publish-ask', 'desk-refusal') AND purpose = 'help'
         AND created_at >= 0
         AND rcpt_to = 'a@b'",
    );
    assert!(recipient.contains("outbox_recipient"), "{recipient}");
    let message = plan(
        "SELECT 1 FROM outbox o WHERE o.message_id IN ('x')
         AND o.purpose IN ('forward', 'reminder', 'relay')",
    );
    assert!(message.contains("outbox_message"), "{message}");
    let route = plan(
        "SELECT sent_at FROM outbox WHERE rcpt_to = 'a@b'
         AND purpose IN ('forward', 'reminder', 'relay') AND state = 'sent'
         ORDER BY id DESC LIMIT 1",
    );
    assert!(
        route.contains("outbox_route") && !route.contains("TEMP B-TREE"),
        "a route's health reads its own mail, newest first: {route}"
    );
    let paused = plan(
        "SELECT t.id FROM threads t
         CROSS JOIN participants p ON p.thread_id = t.id AND p.role = 'provider'
         WHERE t.undeliverable_at IS NOT NULL AND p.address = 'a@b'",
    );
    assert!(
        paused.contains("threads_paused") && paused.contains("participants_thread"),
        "every delivery to a company looks for its paused threads: {paused}"
    );
}
