//! Did it get solved? A while after a company's first answer, its writer is asked once, by
//! mail, whether the problem was solved. A one-word reply ("ratkaistu" / "ei ratkaistu",
//! "solved" / "not solved"), or one of the mailto links in the question, records it; threads
//! show it and companies get a solution rate beside their response rate.

use super::compose::{Letter, Origin};
use super::context::{Context, PipelineError};
use super::message::Message;
use super::outgoing;
use super::outgoing::Sending;
use super::published::answer_text;
use super::texts;
use crate::config::Config;
use crate::domain::calendar::add_working_days;
use crate::domain::token::{Purpose, TokenKey};
use crate::store::EventKind;
use crate::store::OutboxPurpose;
use crate::store::Store;
use crate::store::Tx;

/// Working days after the company's first answer before the writer is asked.
pub const ASK_AFTER_DAYS: u32 = 5;
/// What a writer's reply says: solved (`true`), not solved (`false`), or nothing we can tell.
/// The subject counts (the mailto links put the word there), then the first line of the text.
pub fn verdict(subject: &str, text: &str) -> Option<bool> {
    let first_line = text.lines().map(str::trim).find(|l| !l.is_empty());
    [Some(subject), first_line]
        .into_iter()
        .flatten()
        .find_map(|line| word(&line.to_lowercase()))
}

/// Words that say it was not solved, and that it was, as a reply starts ("Ratkaistu, kiitos!").
const NOT_SOLVED: &[&str] = &[
    "ei ratkaistu",
    "ei ratkennut",
    "not solved",
    "unsolved",
    "inte löst",
    "ej löst",
    "olöst",
];
const SOLVED: &[&str] = &["ratkaistu", "ratkesi", "solved", "löst", "löstes"];
/// Words that count only alone: "No en tiedä" is no "no".
const ALONE: &[(&str, bool)] = &[
    ("kyllä", true),
    ("yes", true),
    ("ja", true),
    ("ei", false),
    ("no", false),
    ("nej", false),
];

fn word(line: &str) -> Option<bool> {
    // Replies start "Re: ...", "Vs: ..." or "Sv: ..."; the word is what comes after.
    let line = line
        .trim()
        .trim_start_matches("re:")
        .trim_start_matches("vs:")
        .trim_start_matches("sv:")
        .trim();
    let starts = |phrase: &&str| {
        line.strip_prefix(*phrase)
            .is_some_and(|rest| !rest.starts_with(char::is_alphanumeric))
    };
    if NOT_SOLVED.iter().any(starts) {
        return Some(false);
    }
    if SOLVED.iter().any(starts) {
        return Some(true);
    }
    let alone = line.trim_end_matches(['.', '!']);
    ALONE.iter().find(|(w, _)| *w == alone).map(|(_, v)| *v)
}

/// Asks every writer whose company answered at least [`ASK_AFTER_DAYS`] working days before
/// `now`, once. Returns how many were asked.
pub fn ask_due(
    store: &mut Store,
    config: &Config,
    key: &TokenKey,
    now: i64,
) -> Result<usize, PipelineError> {
    let ctx = Context::scheduled(config, key, now);
    let days_off = config.extra_days_off();
    let tx = store.begin()?;
    let mut asked = 0;
    for (thread, writer) in tx.solved_questions_pending()? {
        let answered = thread.first_answer_at.expect("only answered threads");
        if add_working_days(answered, ASK_AFTER_DAYS, &days_off) > now {
            continue;
        }
        let address = key.address(Purpose::Solved, writer.id, &config.domain);
        let url = config.thread_link(thread.id);
        let (subject, body) = texts::in_thread(
            texts::letter(&texts::SolvedQuestion {
                lang: super::outgoing::language_of(&ctx, &writer),
                name: &writer.public_name,
                company: &thread.company,
                title: &thread.title,
                url: &url,
                address: &address,
            })?,
            texts::writer_subject(&thread),
        );
        let letter = Letter {
            from_name: "nonono".into(),
            from_address: address,
            to: writer.address.clone(),
            subject,
            body,
            references: tx.references(writer.id)?,
            origin: Origin::Automatic,
            attachments: Vec::new(),
        };
        outgoing::queue(
            &tx,
            &ctx,
            &letter,
            Sending::new(OutboxPurpose::SolvedQuestion)
                .in_thread(thread.id)
                .to(writer.id),
        )?;
        tx.solved_asked(thread.id, now)?;
        asked += 1;
    }
    tx.commit()?;
    Ok(asked)
}

/// The writer says whether the company solved their problem: only from the writer's address,
/// and only a word we understand counts.
pub(super) fn answered(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    msg: &Message<'_>,
    participant: i64,
) -> Result<String, PipelineError> {
    let writer = match msg.writer_sending(tx, ctx, participant, "solved? answer")? {
        Ok(writer) => writer,
        Err(not_taken) => return Ok(not_taken),
    };
    let answer = answer_text(msg.mail, &[], ctx.config.language);
    let Some(solved) = verdict(&msg.mail.subject, &answer.text) else {
        return Ok(format!(
            "solved? answer in thread {} not understood: kept",
            writer.thread_id
        ));
    };
    tx.record_solved(writer.thread_id, solved, ctx.now)?;
    tx.add_event(
        writer.thread_id,
        Some(msg.entry.id),
        EventKind::Solved,
        if solved { "yes" } else { "no" },
        ctx.now,
    )?;
    Ok(format!(
        "thread {}: the writer says {}",
        writer.thread_id,
        if solved { "solved" } else { "not solved" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_replies_are_read_in_finnish_and_english() {
        assert_eq!(verdict("ratkaistu", ""), Some(true));
        assert_eq!(
            verdict("Re: Ratkesiko asiasi? Lasku", "Ratkaistu, kiitos!"),
            Some(true)
        );
        assert_eq!(verdict("", "Kyllä."), Some(true));
        assert_eq!(
            verdict("Vs: Ratkesiko asiasi?", "Ei ratkaistu."),
            Some(false)
        );
        assert_eq!(verdict("not solved", ""), Some(false));
        assert_eq!(verdict("Re: Did it get solved?", "Solved"), Some(true));
        assert_eq!(verdict("Re: Ratkesiko asiasi?", "No en tiedä vielä"), None);
        assert_eq!(verdict("SV: Blev det löst?", "Löst, tack!"), Some(true));
        assert_eq!(verdict("inte löst", ""), Some(false));
        assert_eq!(verdict("Sv: Blev det löst?", "Nej."), Some(false));
    }
}
