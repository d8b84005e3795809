//! A message being processed: who wrote it, where automatic mail about it may go, and
//! whether it must be held; and the one function that holds it.

use super::context::{Context, PipelineError};
use crate::domain::route;
use crate::mail::{self, Class, ParsedMail};
use crate::store::EventKind;
use crate::store::Evidence;
use crate::store::{JournalEntry, Participant, Role, Tx};

pub(crate) struct Message<'a> {
    pub(crate) entry: &'a JournalEntry,
    pub(crate) mail: &'a ParsedMail,
    pub(crate) class: Class,
    /// How the From domain authenticated, when sender authentication is on (human mail only).
    pub(crate) evidence: Option<&'a Evidence>,
}

impl Message<'_> {
    /// The From address when it may speak for its owner: it agrees with the envelope sender
    /// and, with sender authentication on, it authenticated. A stranger who knows a token and
    /// writes someone's address into From is not that someone.
    pub(crate) fn speaker(&self) -> Result<String, &'static str> {
        let sender = self.sender().ok_or("no sender address")?;
        if self.entry.released {
            return Ok(sender);
        }
        if !self.agrees_with_envelope(&sender) {
            return Err("From differs from the envelope sender");
        }
        if self.evidence.is_some_and(|e| !e.verified) {
            return Err("From did not authenticate");
        }
        Ok(sender)
    }

    /// Where automatic mail about this message may go: the From address, when it agrees with
    /// the envelope sender or authenticated, and leads somewhere public. Otherwise anyone could
    /// have the gateway mail anyone by writing their address into From.
    pub(crate) fn reply_address(&self, ctx: &Context<'_>) -> Result<String, &'static str> {
        let sender = self.sender().ok_or("no sender address")?;
        if !self.agrees_with_envelope(&sender)
            && !self.evidence.is_some_and(|e| e.verified)
            && !self.entry.released
        {
            return Err("From differs from the envelope sender and did not authenticate");
        }
        if self.evidence.is_some_and(|e| e.dmarc == "fail") && !self.entry.released {
            return Err("From's domain says by DMARC that this mail is not theirs");
        }
        if !route::may_write_to(&sender, &ctx.config.domain) {
            return Err("From is not an address we write to");
        }
        Ok(sender)
    }

    /// Whether `sender` is the envelope sender too.
    fn agrees_with_envelope(&self, sender: &str) -> bool {
        sender == mail::normalize_address(&self.entry.envelope.mail_from)
    }

    /// The writer's address: From, else the envelope sender.
    pub(crate) fn sender(&self) -> Option<String> {
        self.mail
            .from
            .as_ref()
            .map(|m| m.address.clone())
            .filter(|a| !a.is_empty())
            .or_else(|| {
                Some(mail::normalize_address(&self.entry.envelope.mail_from))
                    .filter(|a| !a.is_empty())
            })
    }

    /// The writer behind `participant` when this message comes from them; otherwise, in words
    /// starting with `what`, why it is not taken.
    pub(crate) fn writer_sending(
        &self,
        tx: &Tx<'_>,
        ctx: &Context<'_>,
        participant: i64,
        what: &str,
    ) -> Result<Result<Participant, String>, PipelineError> {
        if let Some(reason) = self.hold_reason(tx, ctx)? {
            return Ok(Err(format!("{what} not taken: {reason}")));
        }
        let Some(writer) = tx.participant(participant)? else {
            return Ok(Err(format!(
                "{what} for a participant that no longer exists"
            )));
        };
        if writer.role != Role::Consumer || self.speaker().ok() != Some(writer.address.clone()) {
            return Ok(Err(format!(
                "{what} in thread {} not taken: sender is not the writer",
                writer.thread_id
            )));
        }
        Ok(Ok(writer))
    }

    /// Why this message must not be answered or passed on, if it must not.
    pub(crate) fn hold_reason(
        &self,
        tx: &Tx<'_>,
        ctx: &Context<'_>,
    ) -> Result<Option<&'static str>, PipelineError> {
        if self.class != Class::Human {
            return Ok(Some("automatic mail"));
        }
        if self.entry.released {
            return Ok(None);
        }
        if let Some(doubt) = self.mail.sender_doubt {
            return Ok(Some(doubt));
        }
        let envelope = &self.entry.envelope;
        if !envelope.mail_from.is_empty() {
            let since = self.entry.received_at - LOOP_BRAKE_WINDOW;
            let (pair, all) = tx.received_from(
                &envelope.mail_from,
                &envelope.rcpt_to.join("\n"),
                &envelope.peer,
                since,
                self.entry.id,
                LOOP_BRAKE_SENDER + 1,
            )?;
            if pair > LOOP_BRAKE_PAIR {
                return Ok(Some(
                    "too many messages from one sender to one address in a short time",
                ));
            }
            if all > LOOP_BRAKE_SENDER {
                return Ok(Some("too many messages from one sender in a short time"));
            }
        }
        if self.mail.loop_marker.as_deref() == Some(ctx.config.domain.as_str()) {
            return Ok(Some("our own mail came back (loop marker)"));
        }
        let own_domain = format!("@{}", ctx.config.domain);
        Ok(match self.sender() {
            None => Some("no sender address"),
            Some(s) if s.ends_with(&own_domain) => Some("sent from our own domain"),
            Some(_) => None,
        })
    }
}

/// More messages than this from one envelope sender to the same addresses of ours within
/// [`LOOP_BRAKE_WINDOW`] seconds are held: a mail loop goes round one pair of addresses (an
/// auto-forward sending our mail back), and is stopped after a few rounds. A customer-service
/// desk answering many threads writes to a token of each, and is not. Only mail from the
/// sender's own network counts: a loop goes round through one mail system, and anyone can
/// write a representative's address into MAIL FROM.
pub(super) const LOOP_BRAKE_PAIR: i64 = 6;

/// More messages than this from one envelope sender, to whatever addresses, are held: a
/// script, not a person or a desk.
pub(super) const LOOP_BRAKE_SENDER: i64 = 300;

pub(super) const LOOP_BRAKE_WINDOW: i64 = 600;

/// Puts the message in the holding pen for `reason` (a person looks at it there), records it
/// on the thread it was headed for, and says so in the outcome: `what` was held.
pub(super) fn hold(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    thread: Option<i64>,
    what: &str,
    reason: &str,
) -> Result<String, PipelineError> {
    tx.hold(msg.entry.id, thread, reason, ctx.now)?;
    if let Some(thread) = thread {
        tx.add_event(thread, Some(msg.entry.id), EventKind::Held, reason, ctx.now)?;
    }
    Ok(match thread {
        Some(thread) => format!("{what} in thread {thread} held: {reason}"),
        None => format!("{what} held: {reason}"),
    })
}
