//! `nonono held`: the holding pen, worked through by a person.

use std::io::Write;

use anyhow::Context;

use super::args::HeldAction;
use super::terminal::{clip, for_terminal, text_for_terminal};
use crate::app;
use crate::config::Config;
use crate::domain::calendar::rfc3339;
use crate::mail;

pub(super) fn held(config: &Config, action: Option<HeldAction>) -> anyhow::Result<()> {
    let now = crate::clock::now();
    let mut out = std::io::stdout().lock();
    match action {
        None => {
            let store = app::open_store_readonly(config)?;
            let holds = store.open_holds()?;
            writeln!(
                out,
                "{:>6}  {:<20}  {:<30}  {:<40}  reason",
                "id", "held at", "sender", "subject"
            )?;
            for h in &holds {
                let subject = for_terminal(&mail::parse(&h.raw).subject);
                writeln!(
                    out,
                    "{:>6}  {:<20}  {:<30}  {:<40}  {}",
                    h.id,
                    rfc3339(h.held_at),
                    clip(&for_terminal(&h.sender), 30),
                    clip(&subject, 40),
                    h.reason
                )?;
            }
            if holds.is_empty() {
                writeln!(out, "(nothing held)")?;
            }
        }
        Some(HeldAction::Show { id }) => {
            let store = app::open_store_readonly(config)?;
            let h = store
                .hold(id)?
                .with_context(|| format!("held {id}: no such hold; `nonono held` lists them"))?;
            let mail = mail::parse(&h.raw);
            writeln!(out, "held {}  (journal entry {})", h.id, h.journal_id)?;
            writeln!(out, "held at: {}", rfc3339(h.held_at))?;
            writeln!(out, "reason:  {}", h.reason)?;
            if let Some(thread) = h.thread_id {
                writeln!(out, "thread:  {thread}")?;
            }
            if let Some((at, how)) = &h.closed {
                writeln!(out, "closed:  {} ({how})", rfc3339(*at))?;
            }
            writeln!(out, "envelope sender: {}", for_terminal(&h.sender))?;
            let from = mail.from.map(|f| f.address).unwrap_or_default();
            writeln!(out, "From:    {}", for_terminal(&from))?;
            writeln!(out, "Subject: {}\n", for_terminal(&mail.subject))?;
            writeln!(out, "{}", text_for_terminal(mail.text.trim_end()))?;
        }
        Some(HeldAction::Release { id }) => {
            let journal = app::open_store(config)?
                .release_hold(id, now)
                .with_context(|| format!("held {id}: not released"))?;
            writeln!(
                out,
                "held {id} released: journal entry {journal} is processed again without the hold"
            )?;
        }
        Some(HeldAction::Assign {
            id,
            thread,
            unverified,
        }) => {
            if !unverified {
                let store = app::open_store_readonly(config)?;
                crate::pipeline::company_speaks(&store, config, id, thread)
                    .with_context(|| format!("held {id}"))?;
            }
            let journal = app::open_store(config)?
                .assign_hold(id, thread, now)
                .with_context(|| format!("held {id}: not assigned"))?;
            writeln!(
                out,
                "held {id} assigned: journal entry {journal} becomes the company's answer in thread {thread}"
            )?;
        }
        Some(HeldAction::Drop { id, reason }) => {
            if reason.trim().is_empty() {
                anyhow::bail!("held drop: --reason must say why; the audit trail keeps it");
            }
            app::open_store(config)?
                .drop_hold(id, &reason, now)
                .with_context(|| format!("held {id}: not dropped"))?;
            writeln!(
                out,
                "held {id} dropped; its raw mail is emptied and the audit trail says why"
            )?;
        }
    }
    Ok(())
}
