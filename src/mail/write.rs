//! The RFC 5322 form of mail we write: header fields (RFC 2047 encoded words for text that is
//! not plain ASCII, folded lines) and a text body in the transfer encoding that suits it.
//!
//! Every value is made one line before it is written, so no name or subject can add a header
//! field; addresses are checked, never encoded.

use base64::Engine as _;

use super::attachments::Attachment;

/// Longest line we write, without its CRLF (RFC 5322's "SHOULD" limit).
const LINE: usize = 78;
/// Longest encoded word (RFC 2047).
const WORD: usize = 75;

/// An address that cannot stand in a header as written (a display name would be encoded; an
/// address cannot be).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address {0:?} cannot be written in a mail header")]
pub struct BadAddress(pub String);

/// A message being written: header fields in order, then the body.
#[derive(Debug, Default)]
pub struct MessageWriter {
    out: Vec<u8>,
}

impl MessageWriter {
    pub fn new() -> Self {
        MessageWriter {
            out: Vec::with_capacity(4096),
        }
    }

    /// A field of unstructured text (such as `Subject`): encoded when it is not plain ASCII.
    pub fn text(&mut self, name: &str, value: &str) {
        let value = one_line(value);
        if needs_encoding(&value) {
            self.encoded(name, &value);
            self.out.extend_from_slice(b"\r\n");
        } else {
            self.folded(name, &value);
        }
    }

    /// A field of ASCII tokens the caller has checked (message ids, dates, URLs), folded at
    /// spaces.
    pub fn raw(&mut self, name: &str, value: &str) {
        self.folded(name, &one_line(value));
    }

    /// A mailbox field: `Name <address>`, or the address alone.
    pub fn mailbox(
        &mut self,
        name: &str,
        display_name: Option<&str>,
        address: &str,
    ) -> Result<(), BadAddress> {
        if !is_address(address) {
            return Err(BadAddress(address.to_owned()));
        }
        let display_name = display_name.map(one_line).filter(|n| !n.is_empty());
        match display_name {
            None => self.folded(name, address),
            Some(n) if needs_encoding(&n) => {
                self.encoded(name, &n);
                self.out.extend_from_slice(b"\r\n <");
                self.out.extend_from_slice(address.as_bytes());
                self.out.push(b'>');
                self.out.extend_from_slice(b"\r\n");
            }
            Some(n) => {
                let phrase = if n.bytes().all(|b| b == b' ' || is_atext(b)) {
                    n
                } else {
                    format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\""))
                };
                self.folded(name, &format!("{phrase} <{address}>"));
            }
        }
        Ok(())
    }

    /// Ends the header with the MIME fields for a plain-text body and writes the body: 7bit when
    /// it is short-lined ASCII, quoted-printable when it is mostly ASCII, base64 otherwise.
    pub fn text_body(mut self, body: &str) -> Vec<u8> {
        self.raw("MIME-Version", "1.0");
        self.text_part(body);
        self.out
    }

    /// Ends the header with a `multipart/mixed` body: the text, then each attachment in
    /// base64 with its name (RFC 2231, so any name reads back as written).
    pub fn mixed_body(mut self, body: &str, attachments: &[Attachment]) -> Vec<u8> {
        if attachments.is_empty() {
            return self.text_body(body);
        }
        let mut random = [0u8; 12];
        aws_lc_rs::rand::fill(&mut random).expect("system randomness");
        // No line of a base64 or quoted-printable body can hold "=_", so the boundary is
        // never met inside a part.
        let boundary = format!(
            "=_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
        );
        self.raw("MIME-Version", "1.0");
        self.raw(
            "Content-Type",
            &format!("multipart/mixed; boundary=\"{boundary}\""),
        );
        self.out.extend_from_slice(b"\r\n");
        let delimiter = format!("--{boundary}\r\n");
        self.out.extend_from_slice(delimiter.as_bytes());
        self.text_part(body);
        for a in attachments {
            self.out.extend_from_slice(delimiter.as_bytes());
            let ascii = ascii_name(&a.name);
            self.raw(
                "Content-Type",
                &format!("{}; name=\"{ascii}\"", a.content_type),
            );
            if ascii == a.name {
                self.raw(
                    "Content-Disposition",
                    &format!("attachment; filename=\"{ascii}\""),
                );
            } else {
                self.extended_name(&a.name);
            }
            self.raw("Content-Transfer-Encoding", "base64");
            self.out.extend_from_slice(b"\r\n");
            base64_lines(&a.bytes, &mut self.out);
        }
        self.out
            .extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.out
    }

    /// The MIME fields and the body of a text part, in the encoding that suits it.
    fn text_part(&mut self, body: &str) {
        self.raw("Content-Type", "text/plain; charset=utf-8");
        let ascii = body.is_ascii();
        // 7bit only for lines of printable text: a stray CR or control character is encoded.
        let printable = |l: &str| l.bytes().all(|b| b == b'\t' || (b' '..=b'~').contains(&b));
        if ascii && body.lines().all(|l| l.len() <= LINE && printable(l)) {
            self.raw("Content-Transfer-Encoding", "7bit");
            self.out.extend_from_slice(b"\r\n");
            crlf_lines(body, &mut self.out);
        } else if ascii || body.bytes().filter(|b| !b.is_ascii()).count() * 3 < body.len() {
            self.raw("Content-Transfer-Encoding", "quoted-printable");
            self.out.extend_from_slice(b"\r\n");
            quoted_printable(body, &mut self.out);
        } else {
            self.raw("Content-Transfer-Encoding", "base64");
            self.out.extend_from_slice(b"\r\n");
            let mut crlf = Vec::with_capacity(body.len() + body.len() / 32);
            crlf_lines(body, &mut crlf);
            base64_lines(&crlf, &mut self.out);
        }
    }

    /// `Content-Disposition` with a name beyond ASCII, percent-encoded in RFC 2231
    /// continuations short enough for a line each.
    fn extended_name(&mut self, name: &str) {
        let mut encoded = String::with_capacity(name.len() * 3);
        for &b in name.as_bytes() {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                encoded.push(char::from(b));
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        self.out
            .extend_from_slice(b"Content-Disposition: attachment");
        let mut rest = encoded.as_str();
        let mut n = 0;
        while !rest.is_empty() {
            // Never split a `%XX`.
            let mut cut = rest.len().min(50);
            while rest.as_bytes()[..cut]
                .iter()
                .rev()
                .take(2)
                .any(|&b| b == b'%')
            {
                cut -= 1;
            }
            let charset = if n == 0 { "utf-8''" } else { "" };
            self.out.extend_from_slice(
                format!(";\r\n filename*{n}*={charset}{}", &rest[..cut]).as_bytes(),
            );
            rest = &rest[cut..];
            n += 1;
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// `Name: value` with the value broken at spaces so that lines stay within [`LINE`] where
    /// a space allows it.
    fn folded(&mut self, name: &str, value: &str) {
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b':');
        let mut column = name.len() + 1;
        for word in value.split(' ').filter(|w| !w.is_empty()) {
            if column + 1 + word.len() > LINE && column > name.len() + 1 {
                self.out.extend_from_slice(b"\r\n");
                column = 0;
            }
            self.out.push(b' ');
            self.out.extend_from_slice(word.as_bytes());
            column += 1 + word.len();
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// `Name: =?utf-8?q?...?=` words, one per line after the first, lines within 76 characters
    /// as RFC 2047 asks; decoders drop the folding between encoded words, and spaces are encoded
    /// within them. Leaves the line open.
    fn encoded(&mut self, name: &str, value: &str) {
        const OPEN: &[u8] = b"=?utf-8?q?";
        const CLOSE: &[u8] = b"?=";
        let overhead = OPEN.len() + CLOSE.len();
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b':');
        let mut room = (76 - overhead).saturating_sub(name.len() + 2).max(12);
        let mut word: Vec<u8> = Vec::with_capacity(WORD);
        let mut buf = [0u8; 4];
        let mut chars = value.chars().peekable();
        while let Some(c) = chars.next() {
            // A character's bytes stay in one word (a decoder may decode each word alone): a
            // word is closed while the longest character, 12 bytes encoded, still fits.
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                match b {
                    b' ' => word.push(b'_'),
                    b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'!' | b'*' | b'+' | b'-' | b'/' => {
                        word.push(b)
                    }
                    _ => word.extend_from_slice(&hex_escape(b)),
                }
            }
            if chars.peek().is_none_or(|_| word.len() + 12 > room) {
                self.out.push(b' ');
                self.out.extend_from_slice(OPEN);
                self.out.extend_from_slice(&word);
                self.out.extend_from_slice(CLOSE);
                if chars.peek().is_some() {
                    self.out.extend_from_slice(b"\r\n");
                }
                word.clear();
                room = WORD - overhead;
            }
        }
    }
}

/// `=XX`, how both encodings write a byte they do not write as it is.
fn hex_escape(b: u8) -> [u8; 3] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]
}

/// A name's ASCII stand-in for readers that know no RFC 2231: what is not printable ASCII,
/// and the quote and backslash, become `_`.
fn ascii_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if (' '..='~').contains(&c) && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Bytes as base64 in lines of 76 characters.
fn base64_lines(bytes: &[u8], out: &mut Vec<u8>) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    for chunk in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
}

/// Control characters and line breaks removed: header text is always one line.
pub fn one_line(s: &str) -> String {
    let mut line = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_control() || c.is_whitespace()) {
        if !word.is_empty() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    line
}

/// Whether header text must be encoded: anything but printable ASCII, a word too long to fold,
/// or what a decoder would take for an encoded word.
fn needs_encoding(value: &str) -> bool {
    !value.bytes().all(|b| (b' '..=b'~').contains(&b))
        || value.split(' ').any(|w| w.len() > LINE - 10)
        || value.contains("=?")
}

/// RFC 5322 `atext`: what a display name may hold without quotes.
fn is_atext(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b)
}

/// A `local@domain` that stands in a header and an SMTP command without quoting: a dot-atom
/// local part and a domain name (or an address literal). The local part may have letters
/// beyond ASCII (RFC 6531), which only a hop that offers SMTPUTF8 carries; the domain is in
/// its ASCII form (see [`super::address::normalize_address`]).
pub fn is_address(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let literal = domain.len() > 2
        && domain.starts_with('[')
        && domain.ends_with(']')
        && domain[1..domain.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".:".contains(&b));
    address.len() <= 254
        && !local.is_empty()
        && local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(is_address_char))
        && (literal || is_domain(domain))
}

/// A character of a dot-atom local part: ASCII `atext`, or (RFC 6531) a letter, mark, digit or
/// symbol beyond ASCII; never a space, a control or a format character.
fn is_address_char(c: char) -> bool {
    if c.is_ascii() {
        is_atext(c as u8)
    } else {
        !c.is_whitespace() && !super::text::is_hidden_or_broken(c)
    }
}

/// Whether an address needs a hop that offers SMTPUTF8.
pub fn needs_smtputf8(address: &str) -> bool {
    !address.is_ascii()
}

/// A domain name: dot-separated labels of ASCII letters, digits and hyphens.
pub fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// The text with every line ended by CRLF.
fn crlf_lines(text: &str, out: &mut Vec<u8>) {
    for line in text.lines() {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// Quoted-printable (RFC 2045 §6.7) of a text whose line breaks are hard breaks: lines within
/// 76 characters by soft breaks, spaces at a line's end and a leading dot encoded.
fn quoted_printable(text: &str, out: &mut Vec<u8>) {
    out.reserve(text.len() + text.len() / 8);
    for line in text.lines() {
        let bytes = line.as_bytes();
        let mut column = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let mut literal = match b {
                b' ' | b'\t' => !last,
                b'=' => false,
                33..=126 => true,
                _ => false,
            };
            // Room for the soft break's `=`, except on a line's last character.
            if column + if literal { 1 } else { 3 } > if last { 76 } else { 75 } {
                out.extend_from_slice(b"=\r\n");
                column = 0;
            }
            // A line that starts with a dot is one some mail software mistakes for the end.
            literal &= !(b == b'.' && column == 0);
            if literal {
                out.push(b);
                column += 1;
            } else {
                out.extend_from_slice(&hex_escape(b));
                column += 3;
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(raw: &[u8]) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default().parse(raw).unwrap()
    }

    fn written(name: Option<&str>, subject: &str, body: &str) -> Vec<u8> {
        let mut w = MessageWriter::new();
        w.mailbox("From", name, "t+abc@gw.example").unwrap();
        w.text("Subject", subject);
        w.text_body(body)
    }

    #[test]
    fn finnish_names_subjects_and_bodies_read_back_as_written() {
        let body = "Hei,\n\nlasku tuli kahdesti. Äänestin jaloillani ja vaihdoin operaattoria, mutta laskutus jatkui yhä vain ja yhä uudelleen kuukaudesta toiseen.\n.\nTerveisin  \n";
        let subject = "Palautteesi on julkaistu: Lasku tuli kahdesti – taas, ja vielä kerran pitkä otsikko joka ei mahdu riville";
        let raw = written(Some("Äiti \"Ö\" Meikäläinen via nonono"), subject, body);
        for line in raw.split(|&b| b == b'\n') {
            assert!(line.len() <= LINE + 1, "{}", String::from_utf8_lossy(line));
        }
        let m = parsed(&raw);
        assert_eq!(m.subject(), Some(subject));
        let from = m.from().unwrap().first().unwrap();
        assert_eq!(from.name(), Some("Äiti \"Ö\" Meikäläinen via nonono"));
        assert_eq!(from.address(), Some("t+abc@gw.example"));
        assert_eq!(
            m.body_text(0).unwrap().replace("\r\n", "\n").trim_end(),
            body.trim_end()
        );
    }

    #[test]
    fn plain_ascii_stays_readable_and_specials_are_quoted() {
        let raw = written(
            Some("Matti M. via nonono"),
            "Feedback: bill",
            "Short lines.\n",
        );
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(text.contains("From: \"Matti M. via nonono\" <t+abc@gw.example>\r\n"));
        assert!(text.contains("Subject: Feedback: bill\r\n"));
        assert!(text.contains("Content-Transfer-Encoding: 7bit\r\n\r\nShort lines.\r\n"));
        let m = parsed(&raw);
        assert_eq!(
            m.from().unwrap().first().unwrap().name(),
            Some("Matti M. via nonono")
        );
    }

    #[test]
    fn a_stray_carriage_return_is_encoded_not_sent_bare() {
        let raw = written(None, "x", "one\rtwo\r\nthree\n");
        let text = String::from_utf8(raw).unwrap();
        assert!(
            text.contains("quoted-printable\r\n\r\none=0Dtwo\r\nthree\r\n"),
            "{text}"
        );
    }

    #[test]
    fn mostly_non_latin_text_is_base64() {
        let body = "Счёт пришёл дважды. ".repeat(20);
        let raw = written(None, "Счёт", &body);
        let text = String::from_utf8(raw.clone()).unwrap();
        assert!(text.contains("Content-Transfer-Encoding: base64"));
        assert_eq!(
            parsed(&raw).body_text(0).unwrap().trim_end(),
            body.trim_end()
        );
    }

    #[test]
    fn no_value_can_add_a_header_field_and_bad_addresses_are_refused() {
        let raw = written(
            Some("Evil\r\nBcc: victim@example.com"),
            "Hi\r\nBcc: victim@example.com\n",
            "x",
        );
        let text = String::from_utf8(raw).unwrap();
        assert!(!text.lines().any(|l| l.starts_with("Bcc:")), "{text}");
        let mut w = MessageWriter::new();
        for bad in [
            "a@b\r\nBcc: c@d",
            "no-at",
            "a b@c.fi",
            "<a@b.fi>",
            "a@b..fi",
            "a@äö.fi",
            "jyrki\u{200B}@b.fi",
            "jyrki\u{A0}mäkelä@b.fi",
            "jyrki\u{85}@b.fi",
        ] {
            assert!(w.mailbox("To", None, bad).is_err(), "{bad:?}");
        }
        for good in [
            "matti.m+x@elisa.example",
            "a@[127.0.0.1]",
            "o'brien@x-y.fi",
            "jyrki.mäkelä@esimerkki.fi",
            "δοκιμή@xn--4ca0b.fi",
        ] {
            assert!(w.mailbox("To", None, good).is_ok(), "{good}");
        }
    }

    /// RFC 6531: a local part beyond ASCII stands in a header as it is, and needs SMTPUTF8; a
    /// domain beyond ASCII is written as its A-label, which every hop carries.
    #[test]
    fn addresses_beyond_ascii() {
        assert_eq!(
            super::super::address::normalize_address("<Jyrki.Mäkelä@Esimerkki.fi>"),
            "jyrki.mäkelä@esimerkki.fi"
        );
        assert_eq!(
            super::super::address::normalize_address("matti@Äö.fi"),
            "matti@xn--4ca0b.fi"
        );
        assert!(needs_smtputf8("jyrki.mäkelä@esimerkki.fi"));
        assert!(!needs_smtputf8("matti@xn--4ca0b.fi"));
        let mut w = MessageWriter::new();
        w.mailbox("To", Some("Jyrki Mäkelä"), "jyrki.mäkelä@esimerkki.fi")
            .unwrap();
        let text = String::from_utf8(w.out).unwrap();
        assert!(text.ends_with(" <jyrki.mäkelä@esimerkki.fi>\r\n"), "{text}");
    }

    #[test]
    fn header_text_is_one_line_of_single_spaces() {
        assert_eq!(one_line(" a\r\n\tb \u{0}c\u{85}d  "), "a b c d");
        assert_eq!(one_line("Äiti  M."), "Äiti M.");
    }

    #[test]
    fn quoted_printable_breaks_long_lines_and_encodes_what_it_must() {
        let mut out = Vec::new();
        quoted_printable(&format!("{}ä\n.dot\nend \nx=1", "a".repeat(80)), &mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().all(|l| l.len() <= 76), "{text}");
        assert!(
            text.contains("=C3=A4\r\n=2Edot\r\nend=20\r\nx=3D1\r\n"),
            "{text}"
        );
    }

    #[test]
    fn attachments_read_back_with_their_names_and_bytes() {
        use mail_parser::MimeHeaders;
        let files = [
            Attachment {
                name: "väärä tuote – kuva ".repeat(4) + ".jpg",
                content_type: "image/jpeg".into(),
                bytes: (0..=255).cycle().take(5000).collect(),
            },
            Attachment {
                name: "veloitukset.csv".into(),
                content_type: "text/csv".into(),
                bytes: b"pvm;summa\n".to_vec(),
            },
        ];
        let mut w = MessageWriter::new();
        w.text("Subject", "Palaute");
        let raw = w.mixed_body("Hei, liitteenä kuva.\n", &files);
        for line in raw.split(|&b| b == b'\n') {
            assert!(line.len() <= LINE + 1, "{}", String::from_utf8_lossy(line));
        }
        let m = parsed(&raw);
        assert_eq!(m.body_text(0).unwrap().trim_end(), "Hei, liitteenä kuva.");
        let got: Vec<_> = m.attachments().collect();
        assert_eq!(got.len(), 2);
        for (part, file) in got.iter().zip(&files) {
            assert_eq!(part.attachment_name(), Some(file.name.as_str()));
            assert_eq!(part.contents(), file.bytes.as_slice());
        }
        let back = super::super::attachments::take(&raw, 1 << 20);
        assert_eq!(back.carried, files);
    }
}
