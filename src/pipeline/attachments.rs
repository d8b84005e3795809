//! Files that came with a person's mail, passed on privately to the other side of the thread
//! (never published): which go, and what the mail to each side says of them.

use super::context::{Context, PipelineError};
use super::texts::{AttachmentWords, words};
use crate::config::Language;
use crate::domain::words::fill;
use crate::mail::attachments::{self, Attachments, LeftOut, Omitted};
use crate::store::Tx;

/// The attachments of the mail that opened a thread; none once its writer erased it.
pub(crate) fn of_opening(
    tx: &Tx<'_>,
    ctx: &Context<'_>,
    thread_id: i64,
) -> Result<Attachments, PipelineError> {
    Ok(tx
        .opening_raw(thread_id)?
        .map(|raw| of_message(ctx, &raw))
        .unwrap_or_default())
}

/// The attachments of a message, within the configured budget.
pub(crate) fn of_message(ctx: &Context<'_>, raw: &[u8]) -> Attachments {
    attachments::take(raw, ctx.config.outbound.attachment_bytes)
}

/// What the mail carrying them tells its reader: which came with it, only for them, and which
/// did not and how to get them. Empty when the message had none.
pub(crate) fn to_receiver(
    ctx: &Context<'_>,
    lang: Language,
    att: &Attachments,
    company: &str,
) -> String {
    let w = &words(lang).attachments;
    let mut lines = Vec::new();
    if !att.carried.is_empty() {
        lines.push(fill(
            &w.carried,
            &[
                ("count", &att.carried.len()),
                ("names", &names(att.carried.iter().map(|a| a.name.as_str()))),
            ],
        ));
    }
    if !att.left_out.is_empty() {
        lines.push(left_out(ctx, lang, &att.left_out, company));
        if att.left_out.iter().any(|o| o.why.can_resend()) {
            lines.push(w.ask_sender.clone());
        }
    }
    lines.join("\n")
}

/// What a company on the notice plan is told: that there are files, not what they are.
pub(crate) fn notice_only(lang: Language, att: &Attachments) -> String {
    if att.is_empty() {
        return String::new();
    }
    fill(
        &words(lang).attachments.notice_count,
        &[("count", &att.names().len())],
    )
}

/// What the acknowledgement tells the writer of their files: passed on to the company (or to
/// be, once it is reachable), not passed on and why, and that none is ever published.
pub(crate) fn to_writer(
    ctx: &Context<'_>,
    lang: Language,
    att: &Attachments,
    company: &str,
    reachable: bool,
) -> String {
    if att.is_empty() {
        return String::new();
    }
    let w = &words(lang).attachments;
    let mut lines = Vec::new();
    if !att.carried.is_empty() {
        let phrase = if reachable { &w.passed } else { &w.will_pass };
        lines.push(fill(
            phrase,
            &[
                ("company", &company),
                ("names", &names(att.carried.iter().map(|a| a.name.as_str()))),
            ],
        ));
    }
    if !att.left_out.is_empty() {
        lines.push(left_out(ctx, lang, &att.left_out, company));
        if att.left_out.iter().any(|o| o.why.can_resend()) {
            lines.push(w.resend.clone());
        }
    }
    lines.push(w.never_published.clone());
    lines.join("\n")
}

/// The files not passed on, each with why.
fn left_out(ctx: &Context<'_>, lang: Language, omitted: &[Omitted], company: &str) -> String {
    let w = &words(lang).attachments;
    let limit = size(lang, ctx.config.outbound.attachment_bytes);
    let mut each: Vec<String> = omitted
        .iter()
        .take(NAMED)
        .map(|o| {
            let phrase = match o.why {
                LeftOut::TooBig => &w.too_big,
                LeftOut::TooMany => &w.too_many,
                LeftOut::Program => &w.program,
                LeftOut::Unverified => &w.unverified,
                LeftOut::NoticeOnly => &w.notice_only,
                LeftOut::NoneCarried => &w.none_carried,
            };
            fill(
                phrase,
                &[
                    ("name", &o.name),
                    ("size", &size(lang, o.size)),
                    ("limit", &limit),
                    ("company", &company),
                ],
            )
        })
        .collect();
    if omitted.len() > NAMED {
        each.push(fill(&w.and_more, &[("n", &(omitted.len() - NAMED))]));
    }
    fill(&w.left_out, &[("names", &each.join("; "))])
}

/// Most files a mail names as not passed on; the rest are counted (165,000 one-byte files
/// once made a 20 MB acknowledgement).
const NAMED: usize = 10;

fn names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

/// A size as people read it: `800 t`, `420 kt`, `7 Mt`, `9,5 Mt` (one decimal below ten),
/// rounded up, so that a file over a limit never reads as the limit itself.
pub(crate) fn size(lang: Language, bytes: usize) -> String {
    let w: &AttachmentWords = &words(lang).attachments;
    // Finnish and Swedish write a decimal comma.
    let comma = |s: String| {
        if lang == Language::En {
            s
        } else {
            s.replace('.', ",")
        }
    };
    if bytes < 1000 {
        fill(&w.bytes, &[("n", &bytes)])
    } else if bytes < 1_000_000 {
        fill(&w.kilobytes, &[("n", &bytes.div_ceil(1000))])
    } else if bytes < 10_000_000 {
        // Tenths of a megabyte, rounded up: 7,000,001 bytes is 7,1 Mt beside a 7 Mt limit.
        let tenths = bytes.div_ceil(100_000);
        let n = if tenths.is_multiple_of(10) {
            (tenths / 10).to_string()
        } else {
            comma(format!("{}.{}", tenths / 10, tenths % 10))
        };
        fill(&w.megabytes, &[("n", &n)])
    } else {
        fill(&w.megabytes, &[("n", &bytes.div_ceil(1_000_000))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by breaking it (issue 21): 165,000 tiny files once made a 20 MB acknowledgement.
    #[test]
    fn a_flood_of_files_is_named_in_part_and_counted() {
        let config = crate::config::Config::default();
        let key = crate::domain::token::TokenKey::new(b"k");
        let ctx = Context::scheduled(&config, &key, 0);
        let omitted: Vec<Omitted> = (0..165_000)
            .map(|i| Omitted {
                name: format!("f{i}.txt"),
                size: 1,
                why: LeftOut::TooMany,
            })
            .collect();
        let att = Attachments {
            carried: Vec::new(),
            left_out: omitted,
        };
        let told = to_writer(&ctx, Language::Fi, &att, "Elisa", true);
        assert!(told.len() < 2_000, "{}", told.len());
        assert!(
            told.contains("f9.txt (liian monta liitettä); ja 164990 muuta"),
            "{told}"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(Language::Fi, 800), "800 t");
        assert_eq!(size(Language::Fi, 419_200), "420 kt");
        assert_eq!(size(Language::Fi, 7_000_000), "7 Mt");
        assert_eq!(size(Language::Fi, 9_500_000), "9,5 Mt");
        assert_eq!(size(Language::En, 9_500_000), "9.5 MB");
        assert_eq!(size(Language::Sv, 9_500_000), "9,5 MB");
        assert_eq!(size(Language::En, 31_400_000), "32 MB");
        // Found by breaking it (issue 21): "7 Mt, yhteensä yli 7 Mt".
        assert_eq!(size(Language::Fi, 7_000_001), "7,1 Mt");
    }
}
