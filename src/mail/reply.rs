//! What a person wrote in a reply: quoted history, forwarded mail, signatures and mobile
//! footers are cut, in Finnish, Swedish, Estonian, English and the other languages mail clients
//! write attribution lines in.
//!
//! The strongest evidence comes first: text that matches mail we sent to this participant
//! (however the client re-wrapped or re-quoted it), then our marker line, then the clients'
//! own conventions. An answer is never empty: when cutting would leave nothing, the whole text
//! is kept and flagged.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

/// The line at the top of every mail we send; a reply is cut where it survives.
pub const MARKER_FI: &str = "## Kirjoita vastauksesi tämän rivin yläpuolelle ##";
/// The Swedish form of [`MARKER_FI`].
pub const MARKER_SV: &str = "## Skriv ditt svar ovanför den här raden ##";
/// The English form of [`MARKER_FI`].
pub const MARKER_EN: &str = "## Reply above this line ##";
/// Every form of the marker.
pub const MARKERS: [&str; 3] = [MARKER_FI, MARKER_SV, MARKER_EN];
/// Put by the HTML converter where a mail client's quote container begins.
pub const QUOTE_START: &str = "\u{E000}quote";

/// The answer a person wrote, and what was cut from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The text to publish.
    pub text: String,
    /// Text that was cut away: kept with the post for the operator, never published (it holds
    /// our own mail and whatever history the writer quoted, unscreened).
    pub trimmed: String,
    /// Cutting would have left nothing, so nothing was cut.
    pub uncut: bool,
    /// The text still carries ours (our marker line, or a run of lines of the mail we sent):
    /// the answer could not be told apart from it, and must not be published as it is.
    pub ours_left: bool,
}

/// Cuts quoted history and signatures from a reply. `sent` holds the texts of the mail we sent
/// to the writer in this conversation.
pub fn extract_answer(text: &str, sent: &[String]) -> Answer {
    let mut answer = extract(text, sent, true);
    answer.ours_left = OurText::new(sent).left_in(&answer.text);
    answer
}

/// Most signature cuts made one after the other.
const SIGNATURE_ROUNDS: usize = 3;

/// [`extract_answer`]; `below_quote` says whether a reply written below a quote is looked for
/// (once: the text below is read without it, so nested quotes cannot make it quadratic).
fn extract(text: &str, sent: &[String], below_quote: bool) -> Answer {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let all: Vec<&str> = text.lines().collect();
    let lines = &all[helpdesk_preamble(&all)..];
    let ours = OurText::new(sent);
    let cut = [
        ours.region_start(lines),
        lines.iter().position(|l| is_marker(l)),
        embedded_start(lines),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(lines.len());
    // Trailing quotes, blank lines and delimiter rows belong to what was cut.
    let trailing = |mut end: usize| {
        while end > 0
            && (is_blank(lines[end - 1])
                || is_quote(lines[end - 1])
                || is_delimiter(lines[end - 1]))
        {
            end -= 1;
        }
        end
    };
    let mut end = trailing(cut);
    // A signature inside a signature is real ("-- " above a mobile footer); more rounds than
    // that are no one's mail, and each round reads the text again.
    for _ in 0..SIGNATURE_ROUNDS {
        match signature_start(&lines[..end]) {
            Some(sig) if sig < end => end = trailing(sig),
            _ => break,
        }
    }
    let answer = lines[..end]
        .join("\n")
        .trim_matches('\n')
        .trim_end()
        .to_owned();
    if answer.trim().is_empty() {
        if below_quote && let Some(below) = bottom_posted(lines, cut) {
            return below;
        }
        return Answer {
            text: text.trim().to_owned(),
            trimmed: String::new(),
            uncut: true,
            ours_left: false,
        };
    }
    Answer {
        text: answer,
        trimmed: lines[end..]
            .iter()
            .filter(|l| !l.starts_with(QUOTE_START))
            .copied()
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_owned(),
        uncut: false,
        ours_left: false,
    }
}

/// Where the writer's part begins in a helpdesk's mail that opens with its own reply line
/// (Zendesk: `##- Please type your reply above this line -##`, "Your request (123) has been
/// updated", a dash row, then the agent's name and the time above each comment): after that
/// heading. 0 for other mail. The comments below end at the next dash row, which
/// [`embedded_start`] reads as the start of the quoted history.
fn helpdesk_preamble(lines: &[&str]) -> usize {
    let mut content = (0..lines.len()).filter(|&i| !is_blank(lines[i]));
    let Some(first) = content.next() else {
        return 0;
    };
    let l = lines[first].trim();
    if !(l.starts_with("##-") && l.ends_with("-##")) {
        return 0;
    }
    let Some(row) = content.take(4).find(|&i| is_dash_row(lines[i])) else {
        return first + 1;
    };
    let mut rest = (row + 1..lines.len()).filter(|&i| !is_blank(lines[i]));
    match (rest.next(), rest.next()) {
        (Some(_name), Some(time)) if is_timestamp(lines[time]) => time + 1,
        _ => row + 1,
    }
}

/// A row of ten or more dashes or underscores, as helpdesks and Outlook draw between messages.
fn is_dash_row(line: &str) -> bool {
    let l = line.trim();
    l.len() >= 10 && is_delimiter(l)
}

/// A line that is only a time stamp, as a helpdesk writes above a comment:
/// `Nov 23, 2026, 20:15 GMT+2`, `23.11.2026 klo 20.15`.
fn is_timestamp(line: &str) -> bool {
    static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[\w\s.,]{0,20}(19|20)\d\d[\w\s.,]{0,8}\d{1,2}[:.]\d{2}[\w\s.:+-]{0,16}$")
            .expect("timestamp regex")
    });
    let l = line.trim();
    l.len() <= 60 && TIMESTAMP.is_match(l)
}

/// A reply written below the quote: the attribution at `start`, then quoted lines, then the
/// writer's text. Returns that text, if there is any.
fn bottom_posted(lines: &[&str], start: usize) -> Option<Answer> {
    let mut i = start + 1;
    // The rest of a wrapped attribution, then the quote.
    while i < lines.len() && !is_quote(lines[i]) && i - start < 4 {
        i += 1;
    }
    if i >= lines.len() || !is_quote(lines[i]) {
        return None;
    }
    while i < lines.len() && (is_quote(lines[i]) || is_blank(lines[i])) {
        i += 1;
    }
    let below = extract(&lines[i..].join("\n"), &[], false);
    (!below.uncut && !below.text.is_empty()).then(|| Answer {
        trimmed: format!("{}\n{}", lines[..i].join("\n").trim(), below.trimmed)
            .trim()
            .to_owned(),
        ..below
    })
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty() || line.trim() == "ᐧ"
}

fn is_quote(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// A row of punctuation that separates nothing the writer said: `--`, `***`, `_____`.
fn is_delimiter(line: &str) -> bool {
    let l = line.trim();
    l.chars().count() >= 2 && l.chars().all(|c| "-_=~*#+".contains(c))
}

fn is_marker(line: &str) -> bool {
    line.starts_with(QUOTE_START) || MARKERS.iter().any(|m| line.contains(m))
}

/// "On … wrote:" in the languages of mail clients, as one line. Only lines with a date or an
/// address count (see [`is_attribution`]), so prose that ends in "wrote:" is kept.
static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^[\s>-]*(
            .+\s(wrote|kirjoitti|skrev|kirjutas|schrieb|schreef|geschreven|escribió|escreveu|pisze|napisał\(a\)|napisał|napisała|написал\(а\)|написал|написала|написав|пишет|пише)(\s.*)?
          | wiadomość\snapisana\sprzez\s.+
          | .+\sa\sécrit
          | .+\sha\sscritto
          | .+写道
        )\s*[:：]?[\s-]*$",
    )
    .expect("attribution regex")
});

/// Gmail's date-first attribution: `2016-03-03 17:21 GMT+01:00 Some One <x@y>:`.
static DATED_ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*>?\s*\d{1,4}[-./]\d{1,2}[-./]\d{1,4}\s+\d{1,2}[:.]\d{2}\b.{0,100}$")
        .expect("dated attribution regex")
});

/// Gmail's form in languages it writes no verb in (Russian, Japanese): a date with a time, the
/// writer's address in brackets, a colon: `пн, 23 нояб. 2026 г. в 20:00, Matti <m@x.fi>:`.
static TIMED_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*>?.{0,80}\d{1,2}[:.]\d{2}.{0,80}<[^<>\s]+@[^<>\s]+>\)?\s*[:：]\s*$")
        .expect("timed address regex")
});

/// Gmail's old form: `2013/7/20 sam via Discourse Meta <info@discourse.org>`.
static DATED_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*>?\s*\d{1,4}[-./]\d{1,2}[-./]\d{1,4}\s.{0,80}<[^<>\s]+@[^<>\s]+>\s*:?\s*$")
        .expect("dated address regex")
});

/// Whether a line (or lines joined) is an attribution: the pattern, plus a date or an address,
/// and a colon or a dash border (clients that write "---- On … wrote ----").
fn is_attribution(line: &str) -> bool {
    let l = line.trim();
    if l.len() > 400 {
        return false;
    }
    if DATED_ATTRIBUTION.is_match(l) || DATED_ADDRESS.is_match(l) || TIMED_ADDRESS.is_match(l) {
        return true;
    }
    let closed = l.ends_with(':') || l.ends_with('：') || l.ends_with('-');
    let evidence = l.contains(|c: char| c.is_ascii_digit()) || l.contains('@') || l.contains('<');
    closed && evidence && ATTRIBUTION.is_match(l)
}

/// Whether a line can begin an attribution wrapped over several lines: it starts with a date or
/// with the word clients open one with ("On", "Le", "Am", a Finnish or Swedish weekday …).
fn opens_attribution(line: &str) -> bool {
    const OPENERS: &[&str] = &[
        "on", "le", "am", "op", "el", "il", "em", "den", "w", "at", "ma", "ti", "ke", "to", "pe",
        "la", "su", "mån", "tis", "ons", "tors", "fre", "lör", "sön", "e", "t", "k", "n", "r", "l",
        "p",
    ];
    let l = line.trim();
    if is_quote(l) {
        return false;
    }
    if l.contains('@') {
        return true;
    }
    if l.ends_with(['.', '!', '?']) {
        return false;
    }
    let first = l
        .split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or("")
        .to_lowercase();
    l.starts_with(|c: char| c.is_ascii_digit()) || OPENERS.contains(&first.trim_end_matches('.'))
}

/// Lines that open a forwarded or original message.
static SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*[-_=*\s]*(
            original\smessage | forwarded\smessage | begin\sforwarded\smessage
          | alkuperäinen\sviesti | (alkaa\s)?välitetty\sviesti | edelleenlähetetty\sviesti
          | ursprungligt\smeddelande | vidarebefordrat\s(meddelande|brev)
          | algne\skiri | algne\ssõnum | edastatud\s(kiri|sõnum)
          | ursprüngliche\snachricht | original-?nachricht | weitergeleitete\snachricht
          | anfang\sder\sweitergeleiteten\s(nachricht|e-mail)
          | message\sd'origine | message\soriginal | message\stransféré
          | début\sdu\smessage\s(réexpédié|transféré)
          | oorspronkelijk\sbericht | (begin\s)?doorgestuurd\sbericht
          | oprindelig\smeddelelse | opprinnelig\smelding
          | (start\spå\s)?videresendt\s(meddelelse|besked|melding)
          | messaggio\soriginale | (inizio\s)?messaggio\sinoltrato
          | mensaje\soriginal | (inicio\sdel\s)?mensaje\sreenviado
          | mensagem\soriginal | (início\sda\s)?mensagem\s(re)?encaminhada
          | oryginalna\swiadomość | wiadomość\sprzekazana(\sdalej)? | początek\sprzekazywanej\swiadomości
          | исходное\sсообщение | пересылаемое\sсообщение | пересланное\sсообщение
          | начало\sпереадресованного\sсообщения
        )\s*[-_=*\s:]*$",
    )
    .expect("separator regex")
});

/// A header line of an embedded message, such as Outlook's `From:`/`Lähettäjä:` block.
static HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*>?\s*\*?\s*(from|von|de|van|da|od|от|från|fra|lähettäjä|saatja|feladó|发件人|sent|date|dato|fecha|дата|gesendet|datum|envoyé|verzonden|inviato|wysłano|skickat|sendt|lähetetty|päivämäärä|saadetud|kuupäev|отправлено|enviado|发送时间|data|to|an|à|aan|a|do|till|til|vastaanottaja|adressaat|kellele|кому|para|收件人|subject|betreff|objet|onderwerp|oggetto|temat|ämne|emne|aihe|teema|тема|asunto|assunto|主题|cc|kopio|kopia)\s*\*?\s*[:：]",
    )
    .expect("header regex")
});

/// The `From:` kinds of [`HEADER`]: an embedded block starts with one of these or has one.
static FROM_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*>?\s*\*?\s*(from|von|de|van|da|od|от|från|fra|lähettäjä|saatja|feladó|发件人)\s*\*?\s*[:：]")
        .expect("from regex")
});

/// Where an embedded (quoted or forwarded) message begins, if anywhere.
fn embedded_start(lines: &[&str]) -> Option<usize> {
    for i in 0..lines.len() {
        let line = lines[i];
        if is_attribution(line) || SEPARATOR.is_match(line) {
            return Some(i);
        }
        // A helpdesk's earlier comment: a dash row, the writer's name, the time.
        if is_dash_row(line) {
            let mut next = lines[i + 1..].iter().filter(|l| !is_blank(l)).take(2);
            if let (Some(_name), Some(time)) = (next.next(), next.next())
                && is_timestamp(time)
            {
                return Some(i);
            }
        }
        // An attribution that the client wrapped over several lines (at most one blank line
        // between, no sentence ending before the last).
        if opens_attribution(line) {
            let mut joined = line.trim().to_owned();
            let mut blanks = 0;
            for next in lines.iter().skip(i + 1).take(5) {
                if is_blank(next) {
                    blanks += 1;
                    if blanks > 1 {
                        break;
                    }
                    continue;
                }
                blanks = 0;
                joined.push(' ');
                joined.push_str(next.trim().trim_start_matches('>').trim());
                if joined.len() > 250 {
                    break;
                }
                if is_attribution(&joined) {
                    return Some(i);
                }
                if next.trim_end().ends_with(['.', '!', '?']) {
                    break;
                }
            }
        }
        if HEADER.is_match(line) {
            let block: Vec<&str> = lines[i..]
                .iter()
                .take(6)
                .filter(|l| !is_blank(l))
                .take(4)
                .copied()
                .collect();
            let headers = block.iter().filter(|l| HEADER.is_match(l)).count();
            if headers >= 2 && block.iter().any(|l| FROM_HEADER.is_match(l)) {
                // A delimiter row just above belongs to the block (Outlook's line).
                let mut start = i;
                let mut j = i;
                while j > 0 && (is_blank(lines[j - 1]) || is_delimiter(lines[j - 1])) {
                    j -= 1;
                    if is_delimiter(lines[j]) {
                        start = j;
                    }
                }
                return Some(start);
            }
        }
    }
    None
}

/// Mobile and client footers: "Sent from my iPhone", "Lähetetty iPhonesta".
static MOBILE_FOOTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ix)^\s*(<<)?\s*(
            sent\s(from|via|with)\s.* | sent\susing\s.*
          | from\smy\s(iphone|ipad|android|mobile|phone|smartphone|samsung|galaxy|tablet|blackberry|pixel).*
          | get\soutlook\sfor\s.* | hanki\soutlook.* | hankige\soutlook.*
          | skaffa\soutlook\s(för|for)\s.* | outlook\sfür\s.*\sbeziehen | obtenir\soutlook\spour\s.*
          | outlook\svoor\s.*\sdownloaden | download\soutlook\svoor\s.* | hent\soutlook\s(til|for)\s.*
          | få\soutlook\s(for|til)\s.* | (obtener|descargar)\soutlook\spara\s.* | scarica\soutlook\sper\s.*
          | pobierz\s(program\s)?outlook\s.* | obter\s(o\s)?outlook\spara\s.* | получить\soutlook\sдля\s.*
          | lähetetty\s.*(puhelimesta|iphonesta|ipadista|laitteesta|sovelluksella|outlookista|androidista).*
          | lähetetty\s(iphonesta|ipadista|androidista|mobiilista).*
          | skickat\sfrån\s.* | skickad\sfrån\s.* | sendt\sfra\s.*
          | saadetud\s.*(iphone|android|telefonist|seadmest).*
          | envoyé\sde(puis)?\s.* | von\smeinem\s.*gesendet.* | diese\snachricht\swurde\svon\s.*gesendet.*
          | gesendet\s(von|mit|via)\s.*
          | enviado\s(desde|do|a\spartir\sdo)\s.* | inviato\sda(l|lla)?\s.* | (verzonden|verstuurd)\s(vanaf|met|via)\s.*
          | wysłan[eo]\sz\s.* | отправлено\s(с|из)\s.*
          | someone\sfrom\smobile
        )\s*(>>)?\s*$",
    )
    .expect("footer regex")
});

/// Where a signature starts, if the text ends with one: the `-- ` delimiter with a short tail,
/// or a run of mobile footers.
fn signature_start(lines: &[&str]) -> Option<usize> {
    let content: Vec<usize> = (0..lines.len()).filter(|&i| !is_blank(lines[i])).collect();
    // Mobile footers at the end, possibly several, with short lines among them
    // ("Someone from mobile"): the earliest footer after which nothing long is written. Read
    // from the end, in one pass.
    let mut footer = None;
    for &i in content.iter().rev() {
        // A footer is a short line: prose that happens to begin "Sent from" runs longer.
        let is_footer = lines[i].len() <= 100 && MOBILE_FOOTER.is_match(lines[i]);
        if is_footer {
            footer = Some(i);
        } else if lines[i].split_whitespace().count() > 6 {
            break;
        }
    }
    if footer.is_some() {
        return footer;
    }
    // The RFC 3676 delimiter "-- " (and "--" from clients that strip the space), with a tail a
    // signature could be.
    let sig = lines.iter().rposition(|l| l.trim_end() == "--")?;
    let tail = content.iter().filter(|&&i| i > sig).count();
    (tail <= 12).then_some(sig)
}

/// How much of a reply line is text we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ours {
    No,
    /// A short line that also stands in our mail: a greeting, a thanks, a name.
    Weak,
    /// Most of the line's word trigrams are ours.
    Strong,
}

/// Mail we sent, as folded word trigrams, to recognise our own text in a reply.
struct OurText {
    trigrams: HashSet<[u64; 3]>,
    short_lines: HashSet<String>,
}

fn words(line: &str) -> Vec<String> {
    line.trim_start_matches(|c: char| c == '>' || c.is_whitespace())
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn word_id(w: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    w.hash(&mut h);
    h.finish()
}

impl OurText {
    fn new(sent: &[String]) -> Self {
        let mut trigrams = HashSet::new();
        let mut short_lines = HashSet::new();
        for text in sent {
            let all: Vec<u64> = text.lines().flat_map(words).map(|w| word_id(&w)).collect();
            for t in all.windows(3) {
                trigrams.insert([t[0], t[1], t[2]]);
            }
            for line in text.lines() {
                let w = words(line);
                if (1..3).contains(&w.len()) {
                    short_lines.insert(w.join(" "));
                }
            }
        }
        OurText {
            trigrams,
            short_lines,
        }
    }

    /// Whether a reply line is (mostly) text we sent, and how strongly: a line of one or two
    /// words ("Hei,", "Kiitos", "Matti") is only [`Ours::Weak`]: writers write those lines
    /// too, so they belong to a quote but never begin one.
    fn contains(&self, line: &str) -> Ours {
        let w = words(line);
        if w.len() < 3 {
            return if !w.is_empty() && self.short_lines.contains(&w.join(" ")) {
                Ours::Weak
            } else {
                Ours::No
            };
        }
        let ids: Vec<u64> = w.iter().map(|w| word_id(w)).collect();
        let total = ids.len() - 2;
        let found = ids
            .windows(3)
            .filter(|t| self.trigrams.contains(&[t[0], t[1], t[2]]))
            .count();
        if found * 10 >= total * 6 {
            Ours::Strong
        } else {
            Ours::No
        }
    }

    /// Whether `text` still carries our text: our marker line, or two lines in a row (blank
    /// lines aside) that are mostly ours.
    fn left_in(&self, text: &str) -> bool {
        let mut run = 0;
        for line in text.lines().filter(|l| !is_blank(l)) {
            if is_marker(line) {
                return true;
            }
            run = if self.contains(line) == Ours::Strong {
                run + 1
            } else {
                0
            };
            if run >= 2 {
                return true;
            }
        }
        false
    }

    /// The first line of a trailing region made mostly of our own text, with the attribution
    /// or header lines just above it.
    fn region_start(&self, lines: &[&str]) -> Option<usize> {
        if self.trigrams.is_empty() {
            return None;
        }
        let mut best = None;
        let (mut belonging, mut content) = (0usize, 0usize);
        for i in (0..lines.len()).rev() {
            let line = lines[i];
            if is_blank(line) {
                continue;
            }
            content += 1;
            let ours = self.contains(line);
            if ours != Ours::No
                || is_quote(line)
                || is_delimiter(line)
                || HEADER.is_match(line)
                || is_attribution(line)
            {
                belonging += 1;
            }
            if ours == Ours::Strong && belonging * 10 >= content * 8 {
                best = Some(i);
            }
        }
        let mut start = best?;
        // Attribution, header and delimiter lines right above belong to the quote.
        while start > 0 {
            let above = lines[start - 1];
            if is_blank(above)
                || is_delimiter(above)
                || is_attribution(above)
                || HEADER.is_match(above)
                || SEPARATOR.is_match(above)
            {
                start -= 1;
            } else if start >= 2
                && is_attribution(&format!("{} {}", lines[start - 2].trim_end(), above.trim()))
            {
                start -= 2;
            } else {
                break;
            }
        }
        Some(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> String {
        extract_answer(text, &[]).text
    }

    #[test]
    fn cuts_at_our_marker() {
        let text = format!("Kiitos palautteesta.\nKorjaamme laskun.\n\n> {MARKER_FI}\n> vanha\n");
        let a = extract_answer(&text, &[]);
        assert_eq!(a.text, "Kiitos palautteesta.\nKorjaamme laskun.");
        assert!(a.trimmed.contains("vanha"));
    }

    #[test]
    fn cuts_finnish_swedish_and_estonian_attributions() {
        for attribution in [
            "ma 23.11.2026 klo 20.00 Matti via nonono <t+x@n> kirjoitti:",
            "mån 23 nov. 2026 kl. 20:00 skrev Matti via nonono <t+x@n>:",
            "E, 23. nov 2026 kell 20:00 Matti via nonono <t+x@n> kirjutas:",
            "On Mon, Nov 23, 2026 at 8:00 PM Matti via nonono <t+x@n> wrote:",
        ] {
            let text = format!("Hoidamme asian.\n\n{attribution}\n> Hei\n");
            assert_eq!(cut(&text), "Hoidamme asian.", "{attribution}");
        }
    }

    /// Issue 18: attribution and separator lines as Gmail, Apple Mail, Thunderbird, Outlook and
    /// Samsung Email write them in the languages they ship.
    #[test]
    fn attribution_and_separator_lines_in_the_languages_clients_ship() {
        for line in [
            "Am Mo., 23. Nov. 2026 um 20:00 Uhr schrieb Matti <m@example.fi>:",
            "Le lun. 23 nov. 2026 à 20:00, Matti <m@example.fi> a écrit :",
            "Op ma 23 nov 2026 om 20:00 schreef Matti <m@example.fi>:",
            "Op 23 nov. 2026 om 20:00 heeft Matti <m@example.fi> het volgende geschreven:",
            "Den man. 23. nov. 2026 kl. 20.00 skrev Matti <m@example.fi>:",
            "man. 23. nov. 2026 kl. 20:00 skrev Matti <m@example.fi>:",
            "пн, 23 нояб. 2026 г. в 20:00, Matti <m@example.fi>:",
            "23 нояб. 2026 г., в 20:00, Matti <m@example.fi> написал(а):",
            "El lun, 23 nov 2026 a las 20:00, Matti (<m@example.fi>) escribió:",
            "Il giorno lun 23 nov 2026 alle ore 20:00 Matti <m@example.fi> ha scritto:",
            "pon., 23 lis 2026 o 20:00 Matti <m@example.fi> napisał(a):",
            "Wiadomość napisana przez Matti <m@example.fi> w dniu 23.11.2026, o godz. 20:00:",
            "Em seg., 23 de nov. de 2026 às 20:00, Matti <m@example.fi> escreveu:",
            "No dia 23/11/2026, às 20:00, Matti <m@example.fi> escreveu:",
            "Matti <m@example.fi> kirjoitti 23.11.2026 kello 20.00:",
            "Matti kirjoitti 23.11.2026 klo 20.00:",
            "23.11.2026 kell 20:00 kirjutas Matti <m@example.fi>:",
            "-----Oprindelig meddelelse-----",
            "-----Opprinnelig melding-----",
            "-------- Originalnachricht --------",
            "-------- Message original --------",
            "---------- Videresendt meddelelse ----------",
            "---------- Mensaje reenviado ---------",
            "---------- Messaggio inoltrato ---------",
            "---------- Wiadomość przekazana dalej ---------",
            "---------- Mensagem encaminhada ---------",
            "---------- Edastatud sõnum ---------",
            "Alkaa välitetty viesti:",
            "Vidarebefordrat brev:",
            "Anfang der weitergeleiteten Nachricht:",
            "Début du message réexpédié :",
            "Begin doorgestuurd bericht:",
            "Start på videresendt besked:",
            "Inicio del mensaje reenviado:",
            "Inizio messaggio inoltrato:",
            "Początek przekazywanej wiadomości:",
            "Início da mensagem reencaminhada:",
            "Начало переадресованного сообщения:",
        ] {
            let text = format!("Hoidamme asian.\n\n{line}\n> Hei\n> lasku tuli kahdesti\n");
            assert_eq!(cut(&text), "Hoidamme asian.", "{line}");
        }
    }

    /// Issue 18: mobile and app footers in the languages phones ship; prose that begins the
    /// same way is the writer's.
    #[test]
    fn footers_in_the_languages_phones_ship_and_prose_that_is_not_one() {
        for footer in [
            "Enviado do meu iPhone",
            "Отправлено с iPhone",
            "Gesendet von meinem iPhone",
            "Inviato dal mio iPhone",
            "Wysłano z mojego iPhone'a",
            "Verzonden met mijn Galaxy",
            "Skaffa Outlook för iOS",
            "Outlook für iOS beziehen",
            "Obtenir Outlook pour iOS",
            "Outlook voor iOS downloaden",
            "Hent Outlook til iOS",
            "Få Outlook for iOS",
            "Obtener Outlook para iOS",
            "Scarica Outlook per iOS",
            "Pobierz program Outlook dla systemu iOS",
            "Obter o Outlook para iOS",
            "Получить Outlook для iOS",
            "Hankige Outlook iOS-i jaoks",
        ] {
            assert_eq!(
                cut(&format!("Hoidamme asian.\n\n{footer}\n")),
                "Hoidamme asian.",
                "{footer}"
            );
        }
        for prose in [
            "Hoidamme asian.\n\nSent by courier on Monday.",
            "Hoidamme asian.\n\nFrom my side the matter is settled.",
        ] {
            assert_eq!(cut(prose), prose);
        }
    }

    #[test]
    fn cuts_outlook_header_blocks_in_finnish() {
        let text = "Pahoittelemme viivettä.\n\nYstävällisin terveisin\nAnna\n\n________________________________\nLähettäjä: Matti via nonono <t+x@n>\nLähetetty: maanantai 23. marraskuuta 2026 20.00\nVastaanottaja: asiakaspalvelu <a@b.fi>\nAihe: Palaute: Lasku\n\nHei,\nlasku tuli kahdesti.\n";
        assert_eq!(
            cut(text),
            "Pahoittelemme viivettä.\n\nYstävällisin terveisin\nAnna"
        );
    }

    #[test]
    fn cuts_signatures_and_mobile_footers() {
        assert_eq!(
            cut("Hoidamme asian.\n-- \nAsiakaspalvelu\n"),
            "Hoidamme asian."
        );
        assert_eq!(
            cut("Selvä, kiitos!\n\nLähetetty iPhonesta\n"),
            "Selvä, kiitos!"
        );
        assert_eq!(cut("Tack!\n\nSkickat från min iPhone\n"), "Tack!");
        assert_eq!(cut("Aitäh!\n\nSaadetud minu iPhone'ist\n"), "Aitäh!");
    }

    #[test]
    fn our_own_text_is_cut_however_it_was_rewrapped() {
        let sent = vec!["Elisa on saanut julkista palautetta nonono-palvelun kautta.\n\nOtsikko: Lasku tuli kahdesti\nKirjoittaja: Matti M.\n\nHei, sain marraskuun laskun kahdesti, ja molemmat veloitettiin tililtäni.\n".to_owned()];
        // A client that dropped the marker and the attribution, and re-wrapped our text.
        let reply = "Palautamme veloituksen.\n\nElisa on saanut julkista palautetta\nnonono-palvelun kautta.\nOtsikko: Lasku tuli kahdesti\nKirjoittaja: Matti M.\nHei, sain marraskuun laskun kahdesti, ja\nmolemmat veloitettiin tililtäni.\n";
        let a = extract_answer(reply, &sent);
        assert_eq!(a.text, "Palautamme veloituksen.");
        assert!(a.trimmed.starts_with("Elisa on saanut"));
    }

    /// Issue 18: most Finnish mail begins "Hei,", and so does the feedback we forward. The
    /// greeting was taken for quoted text, the cut fell on line 0, and the whole quote was
    /// published.
    #[test]
    fn a_greeting_our_mail_also_has_is_the_writers_own_line() {
        let sent = vec!["Elisa on saanut julkista palautetta nonono-palvelun kautta.\n\nHei,\n\nsain marraskuun laskun kahdesti, ja molemmat veloitettiin tililtäni.\n\nKiitos\nMatti\n".to_owned()];
        let quote: String = sent[0].lines().map(|l| format!("> {l}\n")).collect();
        for (opening, closing) in [("Hei,", "Liisa"), ("Kiitos", "Matti"), ("Hei,", "Kiitos")] {
            let reply = format!(
                "{opening}\n\npalautamme toisen veloituksen tällä viikolla.\n\n{closing}\n\nma 23.11.2026 klo 20.15 Matti M. via nonono <t+x@n> kirjoitti:\n\n{quote}"
            );
            let a = extract_answer(&reply, &sent);
            assert_eq!(
                a.text,
                format!("{opening}\n\npalautamme toisen veloituksen tällä viikolla.\n\n{closing}"),
                "{opening} … {closing}"
            );
            assert!(!a.uncut);
        }
    }

    /// Issue 18: text we sent never reaches a page. An answer written under our whole mail,
    /// pasted without quote marks or attribution, cannot be cut apart: it is flagged, and the
    /// pipeline holds it.
    #[test]
    fn an_answer_that_cannot_be_told_from_our_text_is_flagged() {
        let sent = vec![format!(
            "{MARKER_FI}\n\nElisa on saanut julkista palautetta nonono-palvelun kautta.\n\nOtsikko: Lasku tuli kahdesti\nKirjoittaja: Matti M.\n\nHei, sain marraskuun laskun kahdesti, ja molemmat veloitettiin tililtäni.\n"
        )];
        let pasted = format!(
            "{}\nPalautamme toisen veloituksen tällä viikolla.\n",
            sent[0]
        );
        assert!(extract_answer(&pasted, &sent).ours_left);
        let interleaved = "Elisa on saanut julkista palautetta nonono-palvelun kautta.\nOtsikko: Lasku tuli kahdesti\nTämä pitää paikkansa, palautamme rahat.\n";
        assert!(extract_answer(interleaved, &sent).ours_left);
        let clean = extract_answer("Palautamme toisen veloituksen tällä viikolla.", &sent);
        assert!(!clean.ours_left);
    }

    #[test]
    fn quoting_our_words_inside_an_answer_keeps_the_answer() {
        let sent = vec![
            "Hei, sain marraskuun laskun kahdesti, ja molemmat veloitettiin tililtäni.".to_owned(),
        ];
        let reply = "Kirjoitit: \"sain marraskuun laskun kahdesti\". Tarkistimme asian ja palautamme toisen veloituksen tilillesi tällä viikolla, pahoittelemme.";
        assert_eq!(extract_answer(reply, &sent).text, reply);
    }

    #[test]
    fn many_footer_and_signature_lines_cost_one_pass_each() {
        // Each footer line used to be checked against every line after it: 32k lines took
        // 8.6 s, a 25 MB mail hours.
        let footers = "Sent from x\n".repeat(200_000);
        let a = extract_answer(&format!("Kiitos vastauksesta.\n\n{footers}"), &[]);
        assert_eq!(a.text, "Kiitos vastauksesta.");
        let signatures = "-- \nx\n".repeat(100_000);
        let a = extract_answer(&format!("Kiitos.\n{signatures}"), &[]);
        assert!(a.text.starts_with("Kiitos."));
    }

    #[test]
    fn nested_quotes_below_quotes_are_read_once() {
        let layer = "On Mon, Nov 23, 2026 at 8:00 PM Matti <m@example.fi> wrote:\n> x\n\n";
        let a = extract_answer(&layer.repeat(50_000), &[]);
        assert!(a.uncut);
        let answer = extract_answer(&format!("{layer}Vastaus alla.\n"), &[]);
        assert_eq!(answer.text, "Vastaus alla.");
    }

    #[test]
    fn never_empty() {
        let a = extract_answer("> only a quote\n", &[]);
        assert_eq!(a.text, "> only a quote");
        assert!(a.uncut);
    }
}
