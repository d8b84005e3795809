//! nonono against real mail written by other people (`../shared/corpora/`): the share handled
//! right per corpus and per category, asserted so it cannot silently fall. Run with
//! `cargo test --test corpus -- --nocapture` to see the tables that BENCHMARKS.md quotes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nonono::mail::{self, Class, Envelope};

fn corpora() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora")
}

/// Right and total per category, printed as a table.
#[derive(Default)]
struct Tally(BTreeMap<String, (usize, usize)>);

impl Tally {
    fn add(&mut self, category: &str, right: bool) {
        let e = self.0.entry(category.to_owned()).or_default();
        e.0 += usize::from(right);
        e.1 += 1;
    }
    fn total(&self) -> (usize, usize) {
        self.0
            .values()
            .fold((0, 0), |(r, t), (a, b)| (r + a, t + b))
    }
    /// Prints the table and what was wrong, then holds the totals to their floors.
    fn check(&self, corpus: &str, wrong: &[String], min_total: usize, floor: usize) {
        self.print(corpus);
        println!("wrong: {wrong:?}");
        let (right, total) = self.total();
        assert!(total >= min_total, "corpus incomplete: {total} checks");
        assert!(
            right >= floor,
            "{right}/{total} right, floor {floor}: {wrong:?}"
        );
    }

    fn print(&self, corpus: &str) {
        println!("\n{corpus}\n| category | right | total | share |\n|---|---|---|---|");
        for (category, (right, total)) in &self.0 {
            println!(
                "| {category} | {right} | {total} | {:.0} % |",
                *right as f64 * 100.0 / *total as f64
            );
        }
        let (right, total) = self.total();
        println!(
            "| **all** | {right} | {total} | {:.1} % |",
            right as f64 * 100.0 / total as f64
        );
    }
}

/// The names of the files in a corpus folder that end with `ext`, sorted.
fn files(dir: &std::path::Path, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("the corpus is beside the repository")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(ext))
        .collect();
    names.sort();
    names
}

fn category(name: &str) -> String {
    let stem = name.trim_end_matches(".txt").trim_end_matches(".eml");
    let trimmed = stem.trim_end_matches(|c: char| c.is_ascii_digit() || c == '_' || c == '-');
    for (prefix, category) in [
        ("embedded_email", "embedded email (quote headers)"),
        ("email_headers", "Outlook header blocks"),
        ("forwarded", "forwarded"),
        ("signatures", "signatures"),
        ("usenet", "signatures"),
        ("quote", "quotes"),
    ] {
        if trimmed.starts_with(prefix) {
            return category.into();
        }
    }
    "other".into()
}

#[test]
fn email_reply_trimmer_replies_are_cut_where_people_stopped_writing() {
    let dir = corpora().join("email-reply-trimmer/test");
    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    let names = files(&dir.join("emails"), ".txt");
    for name in &names {
        let email = String::from_utf8_lossy(&std::fs::read(dir.join("emails").join(name)).unwrap())
            .into_owned();
        let expected =
            String::from_utf8_lossy(&std::fs::read(dir.join("trimmed").join(name)).unwrap())
                .into_owned();
        let answer = mail::reply::extract_answer(&email, &[]);
        let normalize = |s: &str| s.replace("\r\n", "\n").trim().to_owned();
        let right = normalize(&answer.text) == normalize(&expected);
        tally.add(&category(name), right);
        if !right {
            wrong.push(name.clone());
        }
    }
    tally.check(
        "email-reply-trimmer (trimmed text equals the expected text)",
        &wrong,
        60,
        FLOOR_REPLY_TRIMMER,
    );
}

/// Raise these when the code gets better; never lower them without saying why.
const FLOOR_REPLY_TRIMMER: usize = 59;

#[test]
fn sisimai_bounces_and_auto_replies_are_never_taken_for_people() {
    let root = corpora().join("sisimai-set-of-emails/maildir");
    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    for folder in ["bsd", "dos", "not"] {
        let names = files(&root.join(folder), ".eml");
        for name in names {
            let raw = std::fs::read(root.join(folder).join(&name)).unwrap();
            let parsed = mail::parse(&raw);
            // What the envelope would say: bounces come from <>, the rest from their From.
            let envelope = Envelope {
                mail_from: if name.starts_with("rfc3834") || folder == "not" {
                    parsed
                        .from
                        .as_ref()
                        .map(|m| m.address.clone())
                        .unwrap_or_default()
                } else {
                    String::new()
                },
                ..Envelope::default()
            };
            let class = mail::classify(&parsed, &envelope);
            let (category, right) = if folder == "not" {
                // Not delivery failures: a person, or automatic mail that is not a bounce.
                ("not a bounce", class != Class::Bounce)
            } else if name.starts_with("rfc3834") {
                ("auto-reply (RFC 3834)", class == Class::AutoReply)
            } else if name.starts_with("arf") {
                ("ARF feedback report", class == Class::Bounce)
            } else {
                ("bounce (DSN)", class == Class::Bounce)
            };
            tally.add(category, right);
            if !right {
                wrong.push(format!("{folder}/{name}: {class:?}"));
            }
        }
    }
    tally.check(
        "sisimai set-of-emails (classified as expected)",
        &wrong,
        700,
        FLOOR_SISIMAI,
    );
}

const FLOOR_SISIMAI: usize = 706;

/// The delivery reports in sisimai's bounces, written by mail servers nobody here wrote: a
/// `message/delivery-status` part that says anything of its recipient (an Action or a Status)
/// is read, with a status; a report of a delay is no failure, a 5.x.x status always is.
#[test]
fn sisimai_delivery_reports_are_read_with_their_status() {
    let root = corpora().join("sisimai-set-of-emails/maildir/bsd");
    let status = regex::Regex::new(r"^[245]\.\d{1,3}\.\d{1,3}").unwrap();
    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    for name in files(&root, ".eml") {
        let raw = std::fs::read(root.join(&name)).unwrap();
        let text = String::from_utf8_lossy(&raw).to_ascii_lowercase();
        let Some(start) = text.find("content-type: message/delivery-status") else {
            continue;
        };
        let part = &text[start..];
        let part = &part[..part.find("\n--").unwrap_or(part.len())];
        let says = part.contains("\naction:") || part.contains("\nstatus:");
        let report = nonono::mail::dsn::read(&raw);
        let (category, right) = match &report {
            None => ("part without a recipient's fields", !says),
            Some(r) if r.status.starts_with('5') => ("5.x.x: a failure", r.failed()),
            Some(r) => (
                "read with its status",
                status.is_match(&r.status) || r.status.is_empty() && r.failed(),
            ),
        };
        tally.add(category, right);
        if !right {
            wrong.push(format!("{name}: {report:?}"));
        }
    }
    tally.check(
        "sisimai delivery reports (read, with their status)",
        &wrong,
        340,
        FLOOR_DSN,
    );
}

/// Raise when the code gets better.
const FLOOR_DSN: usize = 348;

#[test]
fn mail_parser_messages_decode_to_the_expected_text_and_never_panic() {
    let root = corpora().join("mail-parser-eml/resources/eml");
    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    let tag = regex::Regex::new(r"<(p|div|br|span|table|td|a\s|img|html|body)\b").unwrap();
    for folder in ["rfc", "thirdparty", "malformed"] {
        let names = files(&root.join(folder), ".eml");
        for name in names {
            let raw = std::fs::read(root.join(folder).join(&name)).unwrap();
            let expected: serde_json::Value = serde_json::from_slice(
                &std::fs::read(root.join(folder).join(name.replace(".eml", ".json"))).unwrap(),
            )
            .unwrap();
            let outcome = std::panic::catch_unwind(|| {
                let parsed = mail::parse(&raw);
                let _ = mail::classify(&parsed, &Envelope::default());
                let _ = mail::reply::extract_answer(
                    &parsed.text,
                    std::slice::from_ref(&parsed.subject),
                );
                parsed.text
            });
            let Ok(text) = outcome else {
                tally.add(&format!("{folder}: no panic"), false);
                wrong.push(format!("{folder}/{name}: panicked"));
                continue;
            };
            tally.add(&format!("{folder}: no panic"), true);
            // The first text body, as mail-parser's own expected output has it.
            let first = expected["text_body"].get(0).and_then(|i| i.as_u64());
            let body = first.map(|i| &expected["parts"][i as usize]["body"]);
            let (category, right) = match body {
                Some(b) if b.get("Text").is_some() => {
                    let want = b["Text"]
                        .as_str()
                        .unwrap()
                        .replace("\r\n", "\n")
                        .replace('\r', "\n");
                    ("plain text as expected", text.trim() == want.trim())
                }
                // HTML must come out as text: something readable, no markup left.
                Some(b) if b.get("Html").is_some() => (
                    "HTML read as text",
                    !text.trim().is_empty() && !tag.is_match(&text),
                ),
                _ => continue,
            };
            tally.add(&format!("{folder}: {category}"), right);
            if !right {
                wrong.push(format!("{folder}/{name}"));
            }
        }
    }
    tally.check(
        "mail-parser eml (decoded body text)",
        &wrong,
        90,
        FLOOR_MAIL_PARSER,
    );
}

const FLOOR_MAIL_PARSER: usize = 95;

/// Mail written by other people for other readers (replies, messages of every shape, bounces)
/// sent to the company desk: none reads as a command, so a stray mail, a forwarded thread or
/// an autoresponder's text changes no company. And a yes to a change is rare in it.
#[test]
fn mail_nobody_wrote_for_the_desk_reads_as_no_command() {
    use nonono::config::Language;
    use nonono::domain::desk;
    let mut texts = Vec::new();
    let trimmer = corpora().join("email-reply-trimmer/test/emails");
    for name in files(&trimmer, ".txt") {
        texts.push((
            name.clone(),
            String::from_utf8_lossy(&std::fs::read(trimmer.join(&name)).unwrap()).into_owned(),
        ));
    }
    let eml = corpora().join("mail-parser-eml/resources/eml");
    for folder in ["rfc", "thirdparty", "malformed"] {
        for name in files(&eml.join(folder), ".eml") {
            let raw = std::fs::read(eml.join(folder).join(&name)).unwrap();
            texts.push((format!("{folder}/{name}"), mail::parse(&raw).text));
        }
    }
    let mut tally = Tally::default();
    let mut wrong = Vec::new();
    let mut yes = Vec::new();
    for (name, text) in &texts {
        let answer = mail::reply::extract_answer(text, &[]).text;
        let commands = desk::parse(&answer).commands;
        let right = commands.iter().all(|c| *c == desk::Command::Help);
        tally.add("no command read", right);
        if !right {
            wrong.push(format!("{name}: {commands:?}"));
        }
        if desk::answer(&answer, Language::Fi) == desk::Answer::Yes {
            yes.push(name.clone());
        }
    }
    println!("read as a yes: {yes:?}");
    assert!(yes.len() * 20 <= texts.len(), "{yes:?}");
    tally.check(
        "the company desk (no command in mail not written for it)",
        &wrong,
        100,
        texts.len(),
    );
}
