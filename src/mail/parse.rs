//! Bytes to the fields nonono needs, leniently: any input yields a [`ParsedMail`], never a panic.

use mail_parser::{HeaderValue, MessageParser, MimeHeaders, PartType};

/// A display name and an address, as in `From:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    /// Lower-cased.
    pub address: String,
}

/// What the pipeline reads from a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedMail {
    pub from: Option<Mailbox>,
    pub subject: String,
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The readable text of the message (HTML turned to text when there is no plain part).
    pub text: String,
    /// Attachments that are not published; they stay in the raw message.
    pub attachments: usize,
    /// Header fields that tell automatic mail apart, lower-cased names, raw values.
    pub auto_headers: Vec<(String, String)>,
    /// `Content-Type` of the top part, lower-cased, such as `multipart/report`.
    pub content_type: String,
    /// `Content-Type` of every part, lower-cased (`message/delivery-status` marks a bounce).
    pub part_types: Vec<String>,
    /// Our own loop marker, present when this message is one we sent.
    pub loop_marker: Option<String>,
    /// Why the writer cannot be told from the header, if it cannot: two `From` fields, several
    /// mailboxes in one, or a header section broken by a line that is not a field. Readers
    /// disagree on such mail (sender authentication may read one From, this parser another),
    /// so it speaks for no one.
    pub sender_doubt: Option<&'static str>,
    /// The addresses of `To` and `Cc`, lower-cased: whom the writer meant the message for.
    pub addressed_to: Vec<String>,
    /// `Date`, in seconds since the epoch, when it reads.
    pub date: Option<i64>,
}

/// Header fields that say a message was written by a program.
const AUTO_HEADERS: &[&str] = &[
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "precedence",
    "x-precedence",
    "list-id",
    "list-unsubscribe",
    "x-failed-recipients",
    "feedback-id",
];

/// Addresses of `To` and `Cc` kept at most: a mail to thousands says no more.
const MOST_ADDRESSED: usize = 100;

/// The header nonono puts on every message it sends, to recognise its own mail coming back.
pub const LOOP_HEADER: &str = "X-Nonono-Loop";

/// Parses a raw message. Never fails and never panics: a message with no headers has empty
/// fields, and one the parser cannot take apart (fuzzing found inputs that trip an assertion
/// inside mail-parser) is kept whole as its text.
pub fn parse(raw: &[u8]) -> ParsedMail {
    std::panic::catch_unwind(|| parse_parts(raw)).unwrap_or_else(|_| unparsed(raw))
}

fn unparsed(raw: &[u8]) -> ParsedMail {
    ParsedMail {
        text: String::from_utf8_lossy(raw).into_owned(),
        ..ParsedMail::default()
    }
}

fn parse_parts(raw: &[u8]) -> ParsedMail {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return unparsed(raw);
    };
    // A From with a name and no address ("MAILER-DAEMON <>") keeps its name.
    let mailboxes = msg.from().map_or(0, |a| a.iter().count());
    let from = msg.from().and_then(|a| a.first()).and_then(|addr| {
        let mut address = addr.address().unwrap_or("").trim().to_lowercase();
        let mut name = addr.name().map(|n| n.trim().to_owned());
        // mail-parser reads a quoted local part (`"john smith"@example.net`) as a name and an
        // address of the domain alone; put it back together, unquoted as comparisons want it.
        if address.starts_with('@')
            && let Some(local) = name.take()
        {
            address = format!("{}{address}", local.to_lowercase());
        }
        let name = name.filter(|n| !n.is_empty() && n.to_lowercase() != address);
        // The envelope's form: a domain beyond ASCII as its A-label (RFC 6532 clients write
        // the U-label in the header, and it must compare equal to the envelope sender).
        let address = if address.is_ascii() {
            address
        } else {
            super::address::normalize_address(&address)
        };
        (!address.is_empty() || name.is_some()).then_some(Mailbox { name, address })
    });
    let auto_headers = msg
        .headers_raw()
        .filter_map(|(name, value)| {
            let name = name.to_ascii_lowercase();
            AUTO_HEADERS
                .contains(&name.as_str())
                .then(|| (name, value.trim().to_owned()))
        })
        .collect();
    let loop_marker = msg
        .headers_raw()
        .find(|(name, _)| name.eq_ignore_ascii_case(LOOP_HEADER))
        .map(|(_, v)| v.trim().to_owned());
    let type_of = |part: &mail_parser::MessagePart<'_>| {
        part.content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "text/plain".into())
            .to_ascii_lowercase()
    };
    let content_type = type_of(msg.root_part());
    let part_types = msg.parts.iter().map(type_of).collect();
    let text = normalize_newlines(&body_text(&msg));
    ParsedMail {
        from,
        subject: msg.subject().unwrap_or_default().trim().to_owned(),
        message_id: msg.message_id().map(str::to_owned),
        in_reply_to: id_list(msg.in_reply_to()),
        references: id_list(msg.references()),
        text,
        attachments: msg.attachment_count(),
        auto_headers,
        content_type,
        part_types,
        loop_marker,
        sender_doubt: header_doubt(raw).or((mailboxes > 1).then_some("several mailboxes in From")),
        addressed_to: msg
            .to()
            .into_iter()
            .chain(msg.cc())
            .flat_map(|a| a.iter())
            .filter_map(|a| a.address())
            .take(MOST_ADDRESSED)
            .map(|a| a.trim().to_lowercase())
            .collect(),
        date: msg.date().map(|d| d.to_timestamp()),
    }
}

/// What makes the header section ambiguous about its writer, read from the raw bytes as every
/// reader would have to agree: each line up to the blank one is a field (`name:`) or the
/// continuation of one, and there is at most one `From`.
fn header_doubt(raw: &[u8]) -> Option<&'static str> {
    let mut froms = 0;
    for (n, line) in raw.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if n == 0 {
                return Some("a header section that starts with a continuation line");
            }
            continue;
        }
        let name_end = line
            .iter()
            .position(|&b| !(33..=126).contains(&b) || b == b':')
            .unwrap_or(line.len());
        // Obsolete syntax allows white space between the name and the colon.
        let colon = line[name_end..]
            .iter()
            .position(|&b| b != b' ' && b != b'\t')
            .is_some_and(|at| line[name_end + at] == b':');
        if name_end == 0 || !colon {
            return Some("a header line that is not a field");
        }
        if line[..name_end].eq_ignore_ascii_case(b"from") {
            froms += 1;
            if froms > 1 {
                return Some("two From fields");
            }
        }
    }
    None
}

/// The readable text: the first text part; HTML through our converter (mail-parser's own runs
/// list items together); 8-bit text with no declared charset read as windows-1252 when it is not
/// UTF-8, as old Finnish mail often is.
fn body_text(msg: &mail_parser::Message<'_>) -> String {
    let Some(part) = msg.text_part(0) else {
        return String::new();
    };
    match &part.body {
        PartType::Html(html) => super::html::to_text(html),
        PartType::Text(text) => {
            let declared = part
                .content_type()
                .and_then(|ct| ct.attribute("charset"))
                .is_some();
            let encoded = part.content_transfer_encoding().is_some_and(|e| {
                e.eq_ignore_ascii_case("base64") || e.eq_ignore_ascii_case("quoted-printable")
            });
            if !declared && !encoded && text.contains('\u{FFFD}') {
                let raw = msg
                    .raw_message()
                    .get(part.offset_body as usize..part.offset_end as usize)
                    .unwrap_or_default();
                if std::str::from_utf8(raw).is_err() {
                    return windows_1252(raw);
                }
            }
            text.to_string()
        }
        _ => msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
    }
}

/// Decodes windows-1252 (a superset of Latin-1 that mail clients actually sent).
pub fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[(b - 0x80) as usize],
            _ => char::from(b),
        })
        .collect()
}

fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn normalize_newlines(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input a fuzzer crashed on, kept in `fuzz/regressions/mail/`.
    #[test]
    fn fuzz_findings_parse_without_panicking() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/mail");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let raw = std::fs::read(entry.unwrap().path()).unwrap();
            let _ = crate::mail::classify(&parse(&raw), &crate::mail::Envelope::default());
            seen += 1;
        }
        assert!(seen > 0);
    }

    #[test]
    fn undeclared_latin1_is_read_as_windows_1252() {
        let mut raw = b"From: a@b.fi\r\nSubject: x\r\n\r\n".to_vec();
        raw.extend_from_slice(b"P\xe4\xe4t\xf6s \x80 5\r\n");
        assert_eq!(parse(&raw).text, "Päätös € 5\n");
    }

    #[test]
    fn html_only_mail_becomes_readable_text() {
        let raw = "From: a@b.fi\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hei,</p><ul><li>yksi</li><li>kaksi</li></ul>\r\n";
        assert_eq!(parse(raw.as_bytes()).text, "Hei,\n\n- yksi\n- kaksi\n");
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            &b""[..],
            b"\xff\xfe\x00",
            b"no headers at all",
            b"Subject: =?x?Q?",
            b"\r\n\r\n",
        ] {
            let _ = parse(raw);
        }
    }

    #[test]
    fn a_header_section_that_readers_could_read_two_ways_has_no_clear_sender() {
        let body = "\r\nVastaus.\r\n";
        for (head, doubt) in [
            ("From: a@x.fi\r\nSubject: s\r\n", None),
            ("Received: from x\r\n\tby y;\r\nFrom : a@x.fi\r\n", None),
            ("From: a@x.fi\nSubject: bare LF\n", None),
            (
                "From: m@evil.example\r\nno colon here\r\nFrom: Liisa <l@elisa.example>\r\n",
                Some("a header line that is not a field"),
            ),
            (
                "From: m@evil.example\r\nFROM: l@elisa.example\r\n",
                Some("two From fields"),
            ),
            (
                "From: l@elisa.example, m@evil.example\r\n",
                Some("several mailboxes in From"),
            ),
            (
                " folded: first\r\nFrom: a@x.fi\r\n",
                Some("a header section that starts with a continuation line"),
            ),
            (
                ": empty name\r\nFrom: a@x.fi\r\n",
                Some("a header line that is not a field"),
            ),
        ] {
            assert_eq!(
                parse(format!("{head}{body}").as_bytes()).sender_doubt,
                doubt,
                "{head:?}"
            );
        }
    }

    /// Found from outside: an internationalised client writes the domain's U-label in From,
    /// the envelope carries either form, and the two did not compare equal.
    #[test]
    fn a_domain_beyond_ascii_in_from_is_read_as_its_a_label() {
        let m = parse("From: Jyrki <Jyrki@Mäkelä.fi>\r\n\r\nHei\r\n".as_bytes());
        let from = m.from.unwrap();
        assert_eq!(
            from.address,
            super::super::address::normalize_address("jyrki@mäkelä.fi")
        );
        assert!(from.address.is_ascii() && from.address.ends_with("@xn--mkel-load.fi"));
    }

    #[test]
    fn a_quoted_local_part_is_one_address() {
        let m = parse(b"From: \"John Smith\"@Example.net\r\n\r\nHei\r\n");
        let from = m.from.unwrap();
        assert_eq!(from.address, "john smith@example.net");
        assert_eq!(from.name, None);
    }

    #[test]
    fn fields_are_read_and_rfc2047_decoded() {
        let raw = b"From: =?utf-8?q?Matti_M=C3=A4kel=C3=A4?= <Matti@Example.FI>\r\n\
Subject: =?utf-8?q?=5BElisa=5D_Lasku_tuli_kahdesti?=\r\n\
Message-ID: <abc@example.fi>\r\n\
References: <a@x> <b@x>\r\n\
Auto-Submitted: no\r\n\
\r\n\
Hei,\r\nlasku tuli kahdesti.\r\n";
        let m = parse(raw);
        let from = m.from.unwrap();
        assert_eq!(from.address, "matti@example.fi");
        assert_eq!(from.name.as_deref(), Some("Matti Mäkelä"));
        assert_eq!(m.subject, "[Elisa] Lasku tuli kahdesti");
        assert_eq!(m.message_id.as_deref(), Some("abc@example.fi"));
        assert_eq!(m.references, vec!["a@x", "b@x"]);
        assert_eq!(m.text, "Hei,\nlasku tuli kahdesti.\n");
        assert_eq!(
            m.auto_headers,
            vec![("auto-submitted".to_owned(), "no".to_owned())]
        );
    }
}
