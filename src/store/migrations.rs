//! The store's schema, as an append-only list of migrations tracked by `PRAGMA user_version`.
//!
//! Never edit or remove an entry once it has shipped: add a new one.

/// Each entry moves the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE journal (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    peer TEXT NOT NULL,
    helo TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    rcpt_to TEXT NOT NULL,
    -- The writer however they spell their address (see limits::sender_key), whether the
    -- message is new feedback, and the company it is about: what the abuse limits count.
    sender_key TEXT NOT NULL DEFAULT '',
    feedback INTEGER NOT NULL DEFAULT 0,
    provider TEXT,
    raw BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    class TEXT,
    outcome TEXT,
    processed_at INTEGER
);
CREATE INDEX journal_pending ON journal(id) WHERE state = 'pending';
CREATE INDEX journal_sender ON journal(mail_from, received_at);
CREATE INDEX journal_writer ON journal(sender_key, received_at);
CREATE INDEX journal_peer ON journal(peer, received_at) WHERE feedback = 1;

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    -- When the person first confirmed they wrote to us (require_confirmation).
    confirmed_at INTEGER
);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    provider TEXT,
    company TEXT NOT NULL,
    title TEXT NOT NULL,
    route TEXT,
    route_label TEXT,
    journal_id INTEGER NOT NULL REFERENCES journal(id),
    created_at INTEGER NOT NULL,
    -- When the company's response time runs out (working days after created_at).
    due_at INTEGER,
    -- The first official answer, and how long it took: what the figures count.
    first_answer_at INTEGER,
    answer_secs INTEGER,
    -- The first automatic reply from the company's side.
    first_auto_at INTEGER,
    last_activity_at INTEGER NOT NULL,
    posts INTEGER NOT NULL DEFAULT 0,
    -- Not public while the writer has not confirmed: 'confirmation' (a new address) or
    -- 'personal-data' (the text carries some); NULL once public.
    held TEXT,
    -- Hidden by the operator, with a public reason: the page keeps a tombstone.
    removed TEXT,
    removed_reason TEXT,
    removed_at INTEGER
);
CREATE INDEX threads_provider ON threads(provider, id);
CREATE INDEX threads_provider_answer ON threads(provider, held, answer_secs);
-- Covers the figures query, so a company's figures never read the threads themselves.
CREATE INDEX threads_figures ON threads(provider, held, first_answer_at, due_at, first_auto_at);
CREATE INDEX threads_held ON threads(created_at) WHERE held IS NOT NULL;
CREATE INDEX threads_provider_waiting ON threads(provider, id) WHERE first_answer_at IS NULL;
CREATE INDEX threads_provider_activity ON threads(provider, last_activity_at);

CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    role TEXT NOT NULL CHECK (role IN ('consumer', 'provider')),
    address TEXT NOT NULL,
    public_name TEXT NOT NULL,
    person_id INTEGER REFERENCES people(id),
    created_at INTEGER NOT NULL,
    -- Set when mail to this participant bounced: the route is failing.
    failing_since INTEGER
);
CREATE INDEX participants_thread ON participants(thread_id);

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    participant_id INTEGER REFERENCES participants(id),
    journal_id INTEGER REFERENCES journal(id),
    kind TEXT NOT NULL,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    trimmed TEXT NOT NULL DEFAULT '',
    -- 1 when cutting quotes would have left nothing, so the whole text was kept.
    uncut INTEGER NOT NULL DEFAULT 0,
    attachments INTEGER NOT NULL DEFAULT 0,
    message_id TEXT,
    created_at INTEGER NOT NULL,
    -- A public tombstone: 'writer' (erased by its writer) or 'operator' (moderated), with the
    -- public reason and when. The text itself is gone.
    removed TEXT,
    removed_reason TEXT,
    removed_at INTEGER
);
CREATE INDEX posts_thread ON posts(thread_id, id);
-- Full-text search over public posts; remove_diacritics lets "aanestys" find "äänestys".
CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
-- A match in the title weighs three times one in the body.
INSERT INTO posts_fts (posts_fts, rank) VALUES ('rank', 'bm25(3.0, 1.0)');
-- How many posts hold each indexed word: search leaves out words found in most posts.
CREATE VIRTUAL TABLE posts_vocab USING fts5vocab(posts_fts, 'row');

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    journal_id INTEGER REFERENCES journal(id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX events_thread ON events(thread_id, id);

-- Every removal, by whom and why: the rules are the same for every company.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER REFERENCES threads(id),
    participant_id INTEGER REFERENCES participants(id),
    journal_id INTEGER REFERENCES journal(id),
    purpose TEXT NOT NULL,
    mail_from TEXT NOT NULL,
    rcpt_to TEXT NOT NULL,
    message_id TEXT NOT NULL,
    raw BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_participant ON outbox(participant_id);
"#,
    // 2: how a company's answer authenticated (auth::Evidence), shown beside its badge.
    r#"
ALTER TABLE posts ADD COLUMN auth_domain TEXT;
ALTER TABLE posts ADD COLUMN auth_method TEXT;
ALTER TABLE posts ADD COLUMN auth_dmarc TEXT;
"#,
    // 3: reminders to companies that have not answered in time.
    r#"
ALTER TABLE threads ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE threads ADD COLUMN next_reminder_at INTEGER;
CREATE INDEX threads_unanswered ON threads(due_at) WHERE first_answer_at IS NULL;
"#,
    // 4: answers that are a company's template rather than written for the thread.
    r#"
ALTER TABLE posts ADD COLUMN template INTEGER NOT NULL DEFAULT 0;
"#,
    // 5: the company's clock starts when its server accepted our mail, and pauses while its
    // route bounces.
    r#"
ALTER TABLE threads ADD COLUMN delivered_at INTEGER;
ALTER TABLE threads ADD COLUMN undeliverable_at INTEGER;
"#,
    // 6: whether the writer says the company solved their problem, asked once.
    r#"
ALTER TABLE threads ADD COLUMN solved INTEGER;
ALTER TABLE threads ADD COLUMN solved_at INTEGER;
ALTER TABLE threads ADD COLUMN solved_asked_at INTEGER;
CREATE INDEX threads_solved_question ON threads(first_answer_at)
    WHERE solved_asked_at IS NULL AND first_answer_at IS NOT NULL;
"#,
    // 7: readers who had the same problem support a thread, once per confirmed address.
    r#"
CREATE TABLE supports (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES threads(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    UNIQUE (thread_id, person_id)
);
ALTER TABLE threads ADD COLUMN supporters INTEGER NOT NULL DEFAULT 0;
"#,
    // 8: people who follow a company and get a daily digest of it.
    r#"
CREATE TABLE followers (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id),
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_digest_at INTEGER,
    UNIQUE (provider, person_id)
);
"#,
    // 9: a company's figures count its official answers and templates from the index alone.
    r#"
CREATE INDEX posts_official ON posts(thread_id, template) WHERE kind = 'official' AND removed IS NULL;
"#,
    // 10: the thread figures' covering index holds the solved counts too (the home page
    // computes every company's figures on each request).
    r#"
DROP INDEX threads_figures;
CREATE INDEX threads_figures ON threads(provider, held, first_answer_at, due_at, first_auto_at, solved);
"#,
    // 11: lookups the pipeline and the scheduler make for every message or round: a
    // participant's own posts (the References of each mail to them), a thread's mail (purges,
    // the once-per-thread notes) and the last operator mail of a kind. Without them each was a
    // scan of the whole table, so the pipeline slowed down as the archive grew.
    r#"
CREATE INDEX posts_participant ON posts(participant_id);
CREATE INDEX outbox_thread ON outbox(thread_id, purpose);
CREATE INDEX outbox_purpose ON outbox(purpose, created_at);
"#,
    // 12: `/metrics` counts failed journal entries and failed mail from small indexes: counting
    // them in the tables read every stored message (minutes on a store of a few gigabytes).
    r#"
CREATE INDEX journal_failed ON journal(id) WHERE state = 'failed';
CREATE INDEX outbox_failed ON outbox(id) WHERE state = 'failed';
"#,
    // 13: raw mail in rows of its own, written once. SQLite writes a row anew whenever it
    // changes size, its overflow pages included: every change of state of a journal entry or
    // a queued mail rewrote the whole message (at 50 KB, most of what the disk wrote). The
    // rows whose state changes are small now, many to a page.
    r#"
CREATE TABLE journal_raw (
    id INTEGER PRIMARY KEY REFERENCES journal(id),
    raw BLOB NOT NULL
);
INSERT INTO journal_raw (id, raw) SELECT id, raw FROM journal;
ALTER TABLE journal DROP COLUMN raw;
CREATE TABLE outbox_raw (
    id INTEGER PRIMARY KEY REFERENCES outbox(id) ON DELETE CASCADE,
    raw BLOB NOT NULL
);
INSERT INTO outbox_raw (id, raw) SELECT id, raw FROM outbox;
ALTER TABLE outbox DROP COLUMN raw;
"#,
    // 14: the search index keeps no copy of the text (contentless, deletable by rowid). Every
    // post's body and title were stored twice, in posts and in the index's own content table:
    // at 50 KB a quarter of all the disk wrote per message. Search returns rowids only; the
    // text shown comes from posts.
    r#"
DROP TABLE posts_vocab;
DROP TABLE posts_fts;
CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO posts_fts (posts_fts, rank) VALUES ('rank', 'bm25(3.0, 1.0)');
CREATE VIRTUAL TABLE posts_vocab USING fts5vocab(posts_fts, 'row');
INSERT INTO posts_fts (rowid, title, body)
    SELECT p.id, t.title, p.body FROM posts p JOIN threads t ON t.id = p.thread_id
    WHERE t.held IS NULL AND p.removed IS NULL;
"#,
    // 15: each thread counts its official answers (and templates among them), kept by
    // triggers on every way a post comes, changes or goes, so a company's figures read them
    // from the thread figures' covering index. Counting them by joining the company's threads
    // to their posts cost a company page 3 ms at 1,000 threads, growing with every thread.
    r#"
ALTER TABLE threads ADD COLUMN answers INTEGER NOT NULL DEFAULT 0;
ALTER TABLE threads ADD COLUMN template_answers INTEGER NOT NULL DEFAULT 0;
UPDATE threads SET (answers, template_answers) = (
        SELECT count(*), coalesce(sum(template), 0) FROM posts
        WHERE thread_id = threads.id AND kind = 'official' AND removed IS NULL)
    WHERE id IN (SELECT thread_id FROM posts WHERE kind = 'official' AND removed IS NULL);
CREATE TRIGGER posts_answer_added AFTER INSERT ON posts
    WHEN new.kind = 'official' AND new.removed IS NULL
BEGIN
    UPDATE threads SET answers = answers + 1, template_answers = template_answers + new.template
    WHERE id = new.thread_id;
END;
CREATE TRIGGER posts_answer_changed AFTER UPDATE OF removed, template ON posts
    WHEN new.kind = 'official'
BEGIN
    UPDATE threads SET
        answers = answers + (new.removed IS NULL) - (old.removed IS NULL),
        template_answers = template_answers + (new.removed IS NULL AND new.template)
                                            - (old.removed IS NULL AND old.template)
    WHERE id = new.thread_id;
END;
CREATE TRIGGER posts_answer_deleted AFTER DELETE ON posts
    WHEN old.kind = 'official' AND old.removed IS NULL
BEGIN
    UPDATE threads SET answers = answers - 1, template_answers = template_answers - old.template
    WHERE id = old.thread_id;
END;
DROP INDEX threads_figures;
CREATE INDEX threads_figures ON threads(provider, held, first_answer_at, due_at, first_auto_at,
    solved, answers, template_answers);
"#,
    // 16: each company's counts are kept as its threads change, by triggers on every way a
    // thread comes, changes or goes (held threads count from their release). The home page
    // counted every company's threads on every request: 48 ms for 100 companies at 100,000
    // threads, growing with the archive. What depends on the hour (overdue) is still counted,
    // from an index of the unanswered threads alone. A company's row is added when missing,
    // not with OR IGNORE: a statement's OR clause overrides those of the triggers it fires,
    // and an INSERT OR REPLACE of a thread would have replaced the company's counts with zeros.
    r#"
CREATE TABLE company_figures (
    provider TEXT PRIMARY KEY,
    threads INTEGER NOT NULL DEFAULT 0,
    answered INTEGER NOT NULL DEFAULT 0,
    auto_only INTEGER NOT NULL DEFAULT 0,
    answers INTEGER NOT NULL DEFAULT 0,
    template_answers INTEGER NOT NULL DEFAULT 0,
    solved INTEGER NOT NULL DEFAULT 0,
    unsolved INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO company_figures
    SELECT provider, count(*), count(first_answer_at),
        sum(first_answer_at IS NULL AND first_auto_at IS NOT NULL), sum(answers),
        sum(template_answers), sum(solved IS 1), sum(solved IS 0)
    FROM threads WHERE provider IS NOT NULL AND held IS NULL GROUP BY provider;
CREATE TRIGGER threads_counted AFTER INSERT ON threads
    WHEN new.provider IS NOT NULL AND new.held IS NULL
BEGIN
    INSERT INTO company_figures (provider) SELECT new.provider
        WHERE NOT EXISTS (SELECT 1 FROM company_figures WHERE provider = new.provider);
    UPDATE company_figures SET threads = threads + 1,
        answered = answered + (new.first_answer_at IS NOT NULL),
        auto_only = auto_only + (new.first_answer_at IS NULL AND new.first_auto_at IS NOT NULL),
        answers = answers + new.answers,
        template_answers = template_answers + new.template_answers,
        solved = solved + (new.solved IS 1), unsolved = unsolved + (new.solved IS 0)
    WHERE provider = new.provider;
END;
CREATE TRIGGER threads_recounted AFTER UPDATE OF provider, held, first_answer_at, first_auto_at,
    answers, template_answers, solved ON threads
BEGIN
    UPDATE company_figures SET threads = threads - 1,
        answered = answered - (old.first_answer_at IS NOT NULL),
        auto_only = auto_only - (old.first_answer_at IS NULL AND old.first_auto_at IS NOT NULL),
        answers = answers - old.answers,
        template_answers = template_answers - old.template_answers,
        solved = solved - (old.solved IS 1), unsolved = unsolved - (old.solved IS 0)
    WHERE provider = old.provider AND old.held IS NULL;
    INSERT INTO company_figures (provider) SELECT new.provider
        WHERE new.provider IS NOT NULL AND new.held IS NULL
          AND NOT EXISTS (SELECT 1 FROM company_figures WHERE provider = new.provider);
    UPDATE company_figures SET threads = threads + 1,
        answered = answered + (new.first_answer_at IS NOT NULL),
        auto_only = auto_only + (new.first_answer_at IS NULL AND new.first_auto_at IS NOT NULL),
        answers = answers + new.answers,
        template_answers = template_answers + new.template_answers,
        solved = solved + (new.solved IS 1), unsolved = unsolved + (new.solved IS 0)
    WHERE provider = new.provider AND new.held IS NULL;
END;
CREATE TRIGGER threads_uncounted AFTER DELETE ON threads
    WHEN old.provider IS NOT NULL AND old.held IS NULL
BEGIN
    UPDATE company_figures SET threads = threads - 1,
        answered = answered - (old.first_answer_at IS NOT NULL),
        auto_only = auto_only - (old.first_answer_at IS NULL AND old.first_auto_at IS NOT NULL),
        answers = answers - old.answers,
        template_answers = template_answers - old.template_answers,
        solved = solved - (old.solved IS 1), unsolved = unsolved - (old.solved IS 0)
    WHERE provider = old.provider;
END;
DROP INDEX threads_figures;
CREATE INDEX threads_overdue ON threads(provider, due_at)
    WHERE held IS NULL AND first_answer_at IS NULL;
"#,
    // 17: how often the pipeline began work on an entry. Counted before the work, so a message
    // that kills the process (or runs past its time) is known after the restart, tried once
    // alone, then set aside instead of taking the service down again. What was sent to an
    // address lately, by purpose: automatic mail of one kind goes to an address at most once
    // a day, whoever asks for it (an index of automatic mail alone: the rest, most of the
    // table, need not pay for it). A reply held for the personal data in it (1) until its
    // writer says publish (2). One row `/healthz` writes, to know the store takes writes. And
    // the largest id each table behind a token or a link ever deleted: new rows are numbered
    // above it (as AUTOINCREMENT would, without rebuilding the tables), so an old token never
    // names a newer row. Answers sent to an address that names no thread find theirs by the
    // ids of the mail to companies they answer (indexed for those purposes alone).
    r#"
ALTER TABLE journal ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_recipient ON outbox(rcpt_to, purpose, created_at)
    WHERE purpose IN ('help', 'confirm', 'follow-confirm', 'support', 'set-aside',
                      'not-an-answer', 'publish-ask');
ALTER TABLE journal ADD COLUMN publication INTEGER NOT NULL DEFAULT 0;
CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL);
INSERT INTO health (id, checked_at) VALUES (1, 0);
CREATE INDEX outbox_message ON outbox(message_id)
    WHERE purpose IN ('forward', 'reminder', 'relay');
CREATE TABLE retired_ids (name TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER threads_retired AFTER DELETE ON threads BEGIN
    INSERT INTO retired_ids (name, last) VALUES ('threads', old.id)
        ON CONFLICT(name) DO UPDATE SET last = max(last, excluded.last);
END;
CREATE TRIGGER participants_retired AFTER DELETE ON participants BEGIN
    INSERT INTO retired_ids (name, last) VALUES ('participants', old.id)
        ON CONFLICT(name) DO UPDATE SET last = max(last, excluded.last);
END;
CREATE TRIGGER outbox_retired AFTER DELETE ON outbox BEGIN
    INSERT INTO retired_ids (name, last) VALUES ('outbox', old.id)
        ON CONFLICT(name) DO UPDATE SET last = max(last, excluded.last);
END;
CREATE TRIGGER followers_retired AFTER DELETE ON followers BEGIN
    INSERT INTO retired_ids (name, last) VALUES ('followers', old.id)
        ON CONFLICT(name) DO UPDATE SET last = max(last, excluded.last);
END;
"#,
    // 18: the holding pen: every message the pipeline holds for a person to look at (an answer
    // that found no thread, a loop brake, a sender who cannot be told, personal data waiting
    // for its writer, a message that failed), until the operator releases, assigns or drops it.
    // A released entry is processed again without the holds (journal.publication 2); an
    // assigned one as an answer of the participant it names.
    r#"
CREATE TABLE holds (
    id INTEGER PRIMARY KEY,
    journal_id INTEGER NOT NULL REFERENCES journal(id),
    thread_id INTEGER,
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_how TEXT
);
CREATE INDEX holds_open ON holds(id) WHERE closed_at IS NULL;
CREATE INDEX holds_journal ON holds(journal_id);
ALTER TABLE journal ADD COLUMN assigned_to INTEGER;
"#,
    // 19: threads whose company clock stopped because mail to it bounced, found by the route
    // when mail to it gets through again (few at any time: a partial index); and the due date
    // a stopped clock had, which runs on by the pause's length when it starts again.
    r#"
CREATE INDEX threads_paused ON threads(id) WHERE undeliverable_at IS NOT NULL;
ALTER TABLE threads ADD COLUMN due_before_pause INTEGER;
"#,
    // 20: the company registry. Each company is one record (the TOML of a `[[providers]]`
    // entry), written by the command line or applied from a config declaration; `declarations`
    // holds each declaration as it was last applied, so one that did not change since does not
    // undo the command line's edits; every change is kept, before and after, by whom. The
    // route's health is read from its mail, by the route (the answerable purposes alone), with
    // when a message failed, and how often a bounced one was sent again to learn whether its
    // address takes mail now. The front page shows the companies with most feedback. The
    // registry version whose route changes the threads have followed. And the subject the
    // writer gave their feedback, which every mail to them in the thread answers.
    r#"
CREATE TABLE companies (
    slug TEXT PRIMARY KEY,
    record TEXT NOT NULL,
    source TEXT NOT NULL,
    changed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE declarations (slug TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE company_changes (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    slug TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('add', 'edit', 'remove')),
    before TEXT,
    after TEXT
);
CREATE INDEX company_changes_slug ON company_changes(slug, id);
CREATE INDEX outbox_route ON outbox(rcpt_to, id)
    WHERE purpose IN ('forward', 'reminder', 'relay');
ALTER TABLE outbox ADD COLUMN failed_at INTEGER;
ALTER TABLE outbox ADD COLUMN probes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX company_figures_busiest ON company_figures(threads, provider);
CREATE TABLE registry_followed (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
INSERT INTO registry_followed (id, version) VALUES (1, 0);
ALTER TABLE threads ADD COLUMN subject TEXT;
"#,
    // 21: how an answer's DKIM signature read (none, the company's, another domain's, broken),
    // and whether its sender authenticated at all, so the page can say why an answer is not
    // verified in plain words.
    r#"
ALTER TABLE posts ADD COLUMN auth_verified INTEGER;
ALTER TABLE posts ADD COLUMN auth_dkim TEXT;
"#,
    // 22: the language a writer wrote in (`fi`, `sv`, `en`), which the mail to them is in.
    r#"
ALTER TABLE participants ADD COLUMN language TEXT;
"#,
    // 23: what the receiving server said of a message, by the success report the smarthost
    // sent (RFC 3464): the proof a thread shows that the company's server took the feedback.
    r#"
ALTER TABLE outbox ADD COLUMN delivery_report TEXT;
ALTER TABLE outbox ADD COLUMN delivery_reported_at INTEGER;
"#,
    // 24: the company desk (`yritys@`): a company's claim of its page (or to be recognised as
    // a company registered already), waiting for the operator, and a representative's change,
    // waiting for its own "yes"; each with who wrote
    // (the operator's eyes only), how their mail authenticated, and what became of it. The
    // desk's refusals go to an address once a day, as the other automatic answers.
    r#"
CREATE TABLE desk_requests (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('claim', 'join', 'change')),
    slug TEXT NOT NULL,
    sender TEXT NOT NULL,
    language TEXT NOT NULL,
    record TEXT NOT NULL DEFAULT '',
    commands TEXT NOT NULL DEFAULT '',
    evidence TEXT NOT NULL,
    journal_id INTEGER,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'refused', 'applied', 'cancelled', 'replaced')),
    decided_at INTEGER,
    decided_by TEXT,
    reason TEXT
);
CREATE INDEX desk_requests_pending ON desk_requests(kind, slug) WHERE state = 'pending';
DROP INDEX outbox_recipient;
CREATE INDEX outbox_recipient ON outbox(rcpt_to, purpose, created_at)
    WHERE purpose IN ('help', 'confirm', 'follow-confirm', 'support', 'set-aside',
                      'not-an-answer', 'publish-ask', 'desk-refusal');
"#,
];
