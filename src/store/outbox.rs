//! The outbox: mail waiting to leave, durable across restarts.
//!
//! The pipeline queues rows in the same transaction that publishes a post; the relay worker takes
//! due rows, delivers them and records the outcome. A row is `pending` until delivered (`sent`) or
//! given up on (`failed`).

use rusqlite::params;

use super::connection::{Store, Tx};
use super::error::Result;
use super::sqlite::Cached;
use super::sqlite::next_id;

/// Why a message is sent: stored with its row, and what bounces, limits and the operator's
/// listing go by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxPurpose {
    /// New feedback, to the company.
    Forward,
    /// The writer's acknowledgement.
    Ack,
    /// A post relayed to the other side.
    Relay,
    /// How to name a company, to a writer who named none.
    Help,
    /// Asking a writer to confirm new feedback.
    Confirm,
    /// Asking a writer whether a reply with personal data may be published.
    PublishAsk,
    /// To a company's representative whose mail was no answer.
    NotAnAnswer,
    /// To the sender of a message the pipeline set aside.
    SetAside,
    /// A company past its response time.
    Reminder,
    /// Asking the writer whether it was solved.
    SolvedQuestion,
    /// Confirming a reader's "me too".
    Support,
    /// Telling a company how many readers have the same problem.
    SupportCount,
    /// Confirming a follower.
    FollowConfirm,
    /// Telling a follower they now follow, and how to stop.
    FollowWelcome,
    /// A follower's daily digest.
    FollowDigest,
    /// A private note to a company whose answer blames the writer.
    BlameNote,
    /// A notice to the operator, or mail for the operator passed on.
    Operator,
    /// The operator's daily digest.
    OperatorDigest,
    /// The company desk's answer to a company, or its notice of a change to the company's
    /// other addresses.
    Desk,
    /// Why the company desk took nothing from a mail (unsigned, from a public mail domain).
    DeskRefusal,
}

impl OutboxPurpose {
    const ALL: [OutboxPurpose; 20] = [
        OutboxPurpose::Forward,
        OutboxPurpose::Ack,
        OutboxPurpose::Relay,
        OutboxPurpose::Help,
        OutboxPurpose::Confirm,
        OutboxPurpose::PublishAsk,
        OutboxPurpose::NotAnAnswer,
        OutboxPurpose::SetAside,
        OutboxPurpose::Reminder,
        OutboxPurpose::SolvedQuestion,
        OutboxPurpose::Support,
        OutboxPurpose::SupportCount,
        OutboxPurpose::FollowConfirm,
        OutboxPurpose::FollowWelcome,
        OutboxPurpose::FollowDigest,
        OutboxPurpose::BlameNote,
        OutboxPurpose::Operator,
        OutboxPurpose::OperatorDigest,
        OutboxPurpose::Desk,
        OutboxPurpose::DeskRefusal,
    ];

    /// The name stored in `outbox.purpose` (and in the indexes of migrations 17 and 18).
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxPurpose::Forward => "forward",
            OutboxPurpose::Ack => "ack",
            OutboxPurpose::Relay => "relay",
            OutboxPurpose::Help => "help",
            OutboxPurpose::Confirm => "confirm",
            OutboxPurpose::PublishAsk => "publish-ask",
            OutboxPurpose::NotAnAnswer => "not-an-answer",
            OutboxPurpose::SetAside => "set-aside",
            OutboxPurpose::Reminder => "reminder",
            OutboxPurpose::SolvedQuestion => "solved-question",
            OutboxPurpose::Support => "support",
            OutboxPurpose::SupportCount => "support-count",
            OutboxPurpose::FollowConfirm => "follow-confirm",
            OutboxPurpose::FollowWelcome => "follow-welcome",
            OutboxPurpose::FollowDigest => "follow-digest",
            OutboxPurpose::BlameNote => "blame-note",
            OutboxPurpose::Operator => "operator",
            OutboxPurpose::OperatorDigest => "operator-digest",
            OutboxPurpose::Desk => "desk",
            OutboxPurpose::DeskRefusal => "desk-refusal",
        }
    }

    /// Automatic mail that goes to one mailbox at most once a day ([`Tx::queued_since`]): the
    /// rows migration 24's index `outbox_recipient` holds, in the order it lists them.
    pub const ONCE_A_DAY: [OutboxPurpose; 8] = [
        OutboxPurpose::Help,
        OutboxPurpose::Confirm,
        OutboxPurpose::FollowConfirm,
        OutboxPurpose::Support,
        OutboxPurpose::SetAside,
        OutboxPurpose::NotAnAnswer,
        OutboxPurpose::PublishAsk,
        OutboxPurpose::DeskRefusal,
    ];

    /// Mail to a company whose Message-ID its answer may cite ([`Tx::company_side_of_sent`]):
    /// the rows migration 18's index `outbox_message` holds.
    pub const ANSWERABLE: [OutboxPurpose; 3] = [
        OutboxPurpose::Forward,
        OutboxPurpose::Reminder,
        OutboxPurpose::Relay,
    ];

    /// Mail to the operator: its failure must not beget another notice.
    pub fn is_for_operator(self) -> bool {
        matches!(
            self,
            OutboxPurpose::Operator | OutboxPurpose::OperatorDigest
        )
    }
}

impl std::fmt::Display for OutboxPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl rusqlite::types::FromSql for OutboxPurpose {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        super::records::stored(value, &OutboxPurpose::ALL, |p| p.as_str(), "purpose")
    }
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub thread_id: Option<i64>,
    /// The participant it is addressed to (its references and clock depend on it).
    pub participant_id: Option<i64>,
    pub journal_id: Option<i64>,
    /// Why it is sent.
    pub purpose: OutboxPurpose,
    /// Envelope sender.
    pub mail_from: String,
    /// Envelope recipient.
    pub rcpt_to: String,
    /// Without angle brackets.
    pub message_id: String,
    pub raw: Vec<u8>,
}

/// A row the relay worker should deliver now.
#[derive(Debug, Clone)]
pub struct OutboundRow {
    pub id: i64,
    /// Feedback to a company: its delivery is asked to be reported, success too (the proof
    /// the thread shows).
    pub report_delivery: bool,
    pub mail_from: String,
    pub rcpt_to: String,
    pub raw: Vec<u8>,
    pub attempts: u32,
    pub created_at: i64,
}

/// A row as the operator sees it in the queue listing.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub id: i64,
    pub purpose: String,
    /// Where it goes: what `queue resend --to` names.
    pub rcpt_to: String,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

/// What an outbox row was sent for, to trace a bounce back to its thread.
#[derive(Debug, Clone)]
pub struct MessageOrigin {
    pub outbox: i64,
    pub thread_id: Option<i64>,
    pub participant_id: Option<i64>,
    pub purpose: OutboxPurpose,
    /// It went to the company side of its thread.
    pub to_company: bool,
    /// The envelope recipient.
    pub rcpt_to: String,
}

fn origin(conn: &rusqlite::Connection, outbox: i64) -> rusqlite::Result<Option<MessageOrigin>> {
    use rusqlite::OptionalExtension;
    conn.one(
        "SELECT o.thread_id, o.participant_id, o.purpose, coalesce(pa.role = 'provider', 0),
                o.rcpt_to
         FROM outbox o LEFT JOIN participants pa ON pa.id = o.participant_id WHERE o.id = ?1",
        [outbox],
        |r| {
            Ok(MessageOrigin {
                outbox,
                thread_id: r.get(0)?,
                participant_id: r.get(1)?,
                purpose: r.get(2)?,
                to_company: r.get(3)?,
                rcpt_to: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Records a delivery failure on the thread the message belonged to, and marks its recipient
/// failing. Returns where the message came from.
fn record_failure(
    conn: &rusqlite::Connection,
    outbox: i64,
    journal_id: Option<i64>,
    now: i64,
) -> rusqlite::Result<Option<MessageOrigin>> {
    let Some(origin) = origin(conn, outbox)? else {
        return Ok(None);
    };
    if let Some(participant) = origin.participant_id {
        conn.run(
            "UPDATE participants SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NULL",
            params![participant, now],
        )?;
    }
    if let Some(thread) = origin.thread_id {
        let role: Option<String> = match origin.participant_id {
            Some(p) => conn.one("SELECT role FROM participants WHERE id = ?1", [p], |r| {
                r.get(0)
            })?,
            None => None,
        };
        // Whose mail, and which: the page says what bounced, not only that something did.
        let detail = format!("{} {}", role.unwrap_or_default(), origin.purpose);
        conn.run(
            "INSERT INTO events (thread_id, journal_id, kind, detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![thread, journal_id, super::records::EventKind::Bounce.as_str(), detail, now],
        )?;
    }
    Ok(Some(origin))
}

impl Tx<'_> {
    /// Records a delivery; returns what the message was.
    pub fn outbound_sent(&self, id: i64, now: i64) -> Result<Option<MessageOrigin>> {
        self.tx.run(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?2, last_error = NULL
             WHERE id = ?1",
            params![id, now],
        )?;
        Ok(origin(&self.tx, id)?)
    }

    /// Records a temporary failure and when to try again.
    pub fn outbound_retry(&self, id: i64, next_attempt_at: i64, error: &str) -> Result<()> {
        self.tx.run(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
            params![id, next_attempt_at, error],
        )?;
        Ok(())
    }

    /// Records a permanent failure: the row is not tried again, its thread shows that a
    /// message could not be delivered, and its recipient is marked failing.
    pub fn outbound_failed(&self, id: i64, error: &str, now: i64) -> Result<Option<MessageOrigin>> {
        self.tx.run(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?2, failed_at = ?3
             WHERE id = ?1",
            params![id, error, now],
        )?;
        Ok(record_failure(&self.tx, id, None, now)?)
    }

    /// A delivery report for one of our messages arrived: record it on its thread and mark
    /// its recipient failing.
    pub fn bounced(
        &self,
        outbox: i64,
        journal_id: i64,
        reason: &str,
        now: i64,
    ) -> Result<Option<MessageOrigin>> {
        // The smarthost had taken it; the receiving server gave it back. It is listed with the
        // failures, and may be sent again once the cause is fixed. A row being sent again
        // (`queue resend`) is left alone: the report is of the attempt before.
        let marked = self.tx.run(
            "UPDATE outbox SET state = 'failed', last_error = ?2, failed_at = ?3
             WHERE id = ?1 AND state = 'sent'",
            params![outbox, format!("bounced after delivery: {reason}"), now],
        )?;
        if marked == 0 {
            return Ok(None);
        }
        Ok(record_failure(&self.tx, outbox, Some(journal_id), now)?)
    }

    /// The receiving server took a message we sent, as a success report says (`report`: its
    /// action, status and the server's answer). Once a message: the first report is kept.
    pub fn delivery_reported(
        &self,
        outbox: i64,
        report: &str,
        now: i64,
    ) -> Result<Option<MessageOrigin>> {
        let marked = self.tx.run(
            "UPDATE outbox SET delivery_report = ?2, delivery_reported_at = ?3
             WHERE id = ?1 AND state = 'sent' AND delivery_report IS NULL",
            params![outbox, report, now],
        )?;
        if marked == 0 {
            return Ok(None);
        }
        Ok(origin(&self.tx, outbox)?)
    }

    /// Makes the newest failed forward of a thread due again; returns whether it had one.
    pub fn resend_failed_forward(&self, thread_id: i64, now: i64) -> Result<bool> {
        Ok(self.tx.run(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2,
                 last_error = NULL
             WHERE id = (SELECT max(id) FROM outbox
                         WHERE thread_id = ?1 AND purpose = 'forward' AND state = 'failed')",
            params![thread_id, now],
        )? > 0)
    }

    /// Where an outbox row came from.
    pub fn origin(&self, outbox: i64) -> Result<Option<MessageOrigin>> {
        Ok(origin(&self.tx, outbox)?)
    }

    /// Sets the envelope sender of a queued row (its bounce address names the row itself).
    pub fn set_envelope_sender(&self, outbox: i64, mail_from: &str) -> Result<()> {
        self.tx.run(
            "UPDATE outbox SET mail_from = ?2 WHERE id = ?1",
            params![outbox, mail_from],
        )?;
        Ok(())
    }

    /// How many mails for `purpose` were queued at or after `since`, counted up to `most`.
    pub fn queued_count_since(&self, purpose: OutboxPurpose, since: i64, most: i64) -> Result<i64> {
        Ok(self.tx.one(
            "SELECT count(*) FROM (SELECT 1 FROM outbox
                WHERE purpose = ?1 AND created_at >= ?2 LIMIT ?3)",
            params![purpose.as_str(), since, most],
            |r| r.get(0),
        )?)
    }

    /// Whether mail for `purpose` was queued at or after `since` to `rcpt_to`, or to another
    /// address of the same mailbox (`local+tag@domain`: one box, however tagged).
    pub fn queued_since(&self, rcpt_to: &str, purpose: OutboxPurpose, since: i64) -> Result<bool> {
        // Only these rows are indexed, so only they are looked for: any other purpose would
        // never be found, and its mail would go out every time.
        debug_assert!(OutboxPurpose::ONCE_A_DAY.contains(&purpose), "{purpose}");
        let (local, domain) = rcpt_to.rsplit_once('@').unwrap_or((rcpt_to, ""));
        let base = local.split_once('+').map_or(local, |(base, _)| base);
        // The purposes listed are ONCE_A_DAY, as the partial index lists them: SQLite uses it
        // only for a query whose WHERE says as much in the same words.
        Ok(self.tx.one(
            "SELECT EXISTS (SELECT 1 FROM outbox
                WHERE purpose IN ('help', 'confirm', 'follow-confirm', 'support', 'set-aside',
                                  'not-an-answer', 'publish-ask', 'desk-refusal')
                  AND purpose = ?2 AND created_at >= ?3
                  AND (rcpt_to = ?1 OR rcpt_to = ?4 || '@' || ?5
                       OR (rcpt_to >= ?4 || '+' AND rcpt_to < ?4 || ','
                           AND substr(rcpt_to, -length(?5) - 1) = '@' || ?5)))",
            params![rcpt_to, purpose.as_str(), since, base, domain],
            |r| r.get(0),
        )?)
    }

    /// Queues a message for delivery as soon as the transaction commits.
    pub fn queue(&self, m: &Outbound, now: i64) -> Result<i64> {
        self.tx.run(
            concat!(
                "INSERT INTO outbox (id, thread_id, participant_id, journal_id, purpose, mail_from,
                                     rcpt_to, message_id, next_attempt_at, created_at)
                 VALUES (",
                next_id!("outbox"),
                ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)"
            ),
            params![
                m.thread_id,
                m.participant_id,
                m.journal_id,
                m.purpose.as_str(),
                m.mail_from,
                m.rcpt_to,
                m.message_id,
                now
            ],
        )?;
        let id = self.tx.last_insert_rowid();
        self.tx.run(
            "INSERT INTO outbox_raw (id, raw) VALUES (?1, ?2)",
            params![id, m.raw],
        )?;
        Ok(id)
    }
}

impl Store {
    /// Pending rows whose time has come, oldest first, but for those in `skip`: at most
    /// `limit`, and while the mail of those before each stays under `bytes` (so at least one).
    pub fn due_outbound(
        &self,
        now: i64,
        limit: usize,
        bytes: i64,
        skip: &[i64],
    ) -> Result<Vec<OutboundRow>> {
        let due = super::sqlite::ids_within(
            "SELECT o.id, length(r.raw) AS size, next_attempt_at
             FROM outbox o JOIN outbox_raw r ON r.id = o.id
             WHERE state = 'pending' AND next_attempt_at <= ?1
               AND o.id NOT IN (SELECT value FROM json_each(?4))
             ORDER BY next_attempt_at, o.id LIMIT ?2",
            "next_attempt_at, id",
            "?3",
        );
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT o.id, mail_from, rcpt_to, raw, attempts, created_at, purpose = 'forward'
             FROM outbox o JOIN outbox_raw r ON r.id = o.id
             WHERE o.id IN ({due}) ORDER BY next_attempt_at, o.id"
        ))?;
        let rows = stmt.query_map(
            params![now, limit as i64, bytes, super::sqlite::id_list(skip)],
            |r| {
                Ok(OutboundRow {
                    id: r.get(0)?,
                    mail_from: r.get(1)?,
                    rcpt_to: r.get(2)?,
                    raw: r.get(3)?,
                    attempts: r.get(4)?,
                    created_at: r.get(5)?,
                    report_delivery: r.get(6)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// When the next pending row is due, if any.
    pub fn next_outbound_due(&self) -> Result<Option<i64>> {
        Ok(self.conn.one(
            "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
            [],
            |r| r.get(0),
        )?)
    }

    /// Makes every pending row due now (the operator's "flush"); returns how many.
    pub fn outbound_retry_now(&self, now: i64) -> Result<usize> {
        Ok(self.conn.run(
            "UPDATE outbox SET next_attempt_at = ?1 WHERE state = 'pending' AND next_attempt_at > ?1",
            [now],
        )?)
    }

    /// Makes failed row `id` due again, as new: after the cause (a full mailbox, a wrong
    /// route) is fixed. Returns whether there was such a row.
    pub fn resend(&self, id: i64, now: i64) -> Result<bool> {
        Ok(self.conn.run(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, last_error = NULL
             WHERE id = ?1 AND state = 'failed'",
            params![id, now],
        )? > 0)
    }

    /// Makes every failed row to `rcpt_to` due again; returns how many.
    pub fn resend_to(&self, rcpt_to: &str, now: i64) -> Result<usize> {
        Ok(self.conn.run(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2, last_error = NULL
             WHERE rcpt_to = ?1 AND state = 'failed'",
            params![rcpt_to, now],
        )?)
    }

    /// Every row not yet delivered, and failed ones, for the operator.
    pub fn queue_listing(&self) -> Result<Vec<QueueRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, purpose, state, attempts, next_attempt_at, last_error, rcpt_to FROM outbox
             WHERE state != 'sent' ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(QueueRow {
                id: r.get(0)?,
                purpose: r.get(1)?,
                state: r.get(2)?,
                attempts: r.get(3)?,
                next_attempt_at: r.get(4)?,
                last_error: r.get(5)?,
                rcpt_to: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_rows_come_in_rounds_bounded_by_count_and_bytes_skipping_those_in_hand() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite3")).unwrap();
        let tx = store.begin().unwrap();
        let ids: Vec<i64> = [3 << 20, 3 << 20, 10, 10]
            .into_iter()
            .map(|size| {
                let outbound = Outbound {
                    thread_id: None,
                    participant_id: None,
                    journal_id: None,
                    purpose: OutboxPurpose::Operator,
                    mail_from: String::new(),
                    rcpt_to: "operator@example.org".into(),
                    message_id: "m@nonono.localhost".into(),
                    raw: vec![b'x'; size],
                };
                tx.queue(&outbound, 1).unwrap()
            })
            .collect();
        tx.commit().unwrap();
        let due = |limit, bytes, skip: &[i64]| -> Vec<i64> {
            let rows = store.due_outbound(10, limit, bytes, skip).unwrap();
            rows.into_iter().map(|r| r.id).collect()
        };
        assert_eq!(due(10, i64::MAX, &[]), ids);
        assert_eq!(due(3, i64::MAX, &[]), ids[..3]);
        // 4 MB: the second 3 MB row starts before the bound, the third after it.
        assert_eq!(due(10, 4 << 20, &[]), ids[..2]);
        // One row at least, however large.
        assert_eq!(due(10, 1, &[]), ids[..1]);
        assert_eq!(due(10, 4 << 20, &ids[..2]), ids[2..]);
    }
}
