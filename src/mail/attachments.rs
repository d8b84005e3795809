//! Files a person attached to their mail, passed on privately to the other side of the
//! thread (they are never published): taken out of the raw message, within a size budget,
//! leaving out what a click would run as a program.

use mail_parser::{MessageParser, MimeHeaders};

use crate::domain::names::is_invisible;

/// One file to pass on, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The file name to show, one line, no folders; made up from the type when none was given.
    pub name: String,
    /// `type/subtype`, lower-cased tokens (`application/octet-stream` when the mail's was not).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Why a file was not passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOut {
    /// It did not fit in what is left of the budget.
    TooBig,
    /// A program or script: mail services refuse to carry these, and so do we.
    Program,
    /// More files than one message carries.
    TooMany,
    /// Its sender did not prove to be who they claim (an unverified answer).
    Unverified,
    /// The company gets a notice of feedback, not the feedback itself.
    NoticeOnly,
    /// The service passes no attachments on at all (a budget of 0).
    NoneCarried,
}

impl LeftOut {
    /// Whether sending it again, smaller or in parts, would get it through.
    pub fn can_resend(self) -> bool {
        matches!(self, LeftOut::TooBig | LeftOut::TooMany)
    }
}

/// A file not passed on, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Omitted {
    pub name: String,
    /// Decoded size in bytes.
    pub size: usize,
    pub why: LeftOut,
}

/// A message's attachments, split into what is passed on and what is not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attachments {
    pub carried: Vec<Attachment>,
    pub left_out: Vec<Omitted>,
}

impl Attachments {
    /// Whether the message had no attachments at all.
    pub fn is_empty(&self) -> bool {
        self.carried.is_empty() && self.left_out.is_empty()
    }

    /// The names of every attachment, passed on or not.
    pub fn names(&self) -> Vec<&str> {
        self.carried
            .iter()
            .map(|a| a.name.as_str())
            .chain(self.left_out.iter().map(|o| o.name.as_str()))
            .collect()
    }

    /// Everything left out, for the same reason: a message whose attachments are not passed
    /// on at all (an unverified sender, a company on the notice plan).
    pub fn withheld(self, why: LeftOut) -> Attachments {
        let left_out = self
            .carried
            .into_iter()
            .map(|a| Omitted {
                size: a.bytes.len(),
                name: a.name,
                why,
            })
            .chain(self.left_out)
            .collect();
        Attachments {
            carried: Vec::new(),
            left_out,
        }
    }
}

/// Most files one message carries; the rest are named as left out.
pub const MAX_CARRIED: usize = 20;

/// Longest file name kept, in characters (the extension is kept whole).
const MAX_NAME: usize = 80;

/// Extensions that open as programs or scripts when clicked, after Gmail's list of blocked
/// file types: a feedback gateway must not become a way to deliver them.
const PROGRAMS: &[&str] = &[
    "ade",
    "adp",
    "apk",
    "appx",
    "appxbundle",
    "application",
    "appref-ms",
    "bat",
    "cab",
    "chm",
    "cmd",
    "com",
    "cpl",
    "diagcab",
    "diagcfg",
    "diagpkg",
    "dll",
    "dmg",
    "ex",
    "ex_",
    "exe",
    "gadget",
    "hta",
    "img",
    "ins",
    "iso",
    "isp",
    "jar",
    "jnlp",
    "js",
    "jse",
    "lib",
    "lnk",
    "mde",
    "mjs",
    "msc",
    "msh",
    "msi",
    "msix",
    "msixbundle",
    "msp",
    "mst",
    "msu",
    "nsh",
    "pif",
    "ps1",
    "psm1",
    "reg",
    "scf",
    "scr",
    "sct",
    "settingcontent-ms",
    "shb",
    "sys",
    "url",
    "vb",
    "vbe",
    "vbs",
    "vhd",
    "vhdx",
    "vxd",
    "wsc",
    "wsf",
    "wsh",
    "xll",
];

/// How deep forwarded mail inside forwarded mail is searched for programs.
const NESTING: usize = 8;

/// Content types that are programs whatever the name says.
const PROGRAM_TYPES: &[&str] = &[
    "application/x-msdownload",
    "application/x-dosexec",
    "application/x-executable",
    "application/x-msdos-program",
    "application/x-ms-installer",
    "application/java-archive",
    "application/vnd.microsoft.portable-executable",
];

/// The attachments of a raw message: passed on in order while their decoded sizes fit in
/// `budget` bytes together, at most [`MAX_CARRIED`]. Never fails: a message that does not
/// parse has none.
pub fn take(raw: &[u8], budget: usize) -> Attachments {
    let Some(msg) = std::panic::catch_unwind(|| MessageParser::default().parse(raw))
        .ok()
        .flatten()
    else {
        return Attachments::default();
    };
    let mut out = Attachments::default();
    let mut left = budget;
    for (n, part) in msg.attachments().enumerate() {
        let mut content_type = part
            .content_type()
            .map(|ct| {
                let subtype = ct.subtype().unwrap_or("octet-stream");
                format!("{}/{}", ct.ctype(), subtype).to_ascii_lowercase()
            })
            .filter(|t| is_content_type(t))
            .unwrap_or_else(|| "application/octet-stream".into());
        let bytes = part.contents();
        let name = match part.message() {
            // A forwarded mail goes as the .eml file mail programs open (message/rfc822 may
            // not be base64), named by its subject.
            Some(inner) => {
                content_type = "application/octet-stream".into();
                let name = file_name(inner.subject(), "message/eml", n + 1);
                if name.starts_with("attachment-") {
                    name
                } else {
                    format!("{name}.eml")
                }
            }
            None => file_name(part.attachment_name(), &content_type, n + 1),
        };
        let why = if is_program(&name, &content_type)
            || runs_as_program(bytes)
            || zip_names(bytes).any(|inner| is_program(&inner, ""))
            || part.message().is_some_and(|m| carries_program(m, NESTING))
        {
            Some(LeftOut::Program)
        } else if budget == 0 {
            Some(LeftOut::NoneCarried)
        } else if out.carried.len() == MAX_CARRIED {
            Some(LeftOut::TooMany)
        } else if bytes.len() > left {
            Some(LeftOut::TooBig)
        } else {
            None
        };
        match why {
            Some(why) => out.left_out.push(Omitted {
                name,
                size: bytes.len(),
                why,
            }),
            None => {
                left -= bytes.len();
                out.carried.push(Attachment {
                    name,
                    content_type,
                    bytes: bytes.to_vec(),
                });
            }
        }
    }
    out
}

/// Whether forwarded mail carries a program, in itself or in mail forwarded inside it.
fn carries_program(msg: &mail_parser::Message<'_>, depth: usize) -> bool {
    depth > 0
        && msg.attachments().any(|part| {
            let named = part.attachment_name().unwrap_or_default();
            is_program(named, "")
                || runs_as_program(part.contents())
                || zip_names(part.contents()).any(|inner| is_program(&inner, ""))
                || part
                    .message()
                    .is_some_and(|m| carries_program(m, depth - 1))
        })
}

/// Whether bytes are a program whatever their name: a Windows or a Linux executable.
fn runs_as_program(bytes: &[u8]) -> bool {
    bytes.starts_with(b"MZ") || bytes.starts_with(b"\x7fELF")
}

/// The names of the files in a zip archive, read from its central directory (what any unzip
/// shows): mail services refuse an archive holding a program. Bounded by the archive's own
/// entry count and size; anything that is not a well-formed zip has none.
fn zip_names(bytes: &[u8]) -> impl Iterator<Item = String> + '_ {
    const END: &[u8] = b"PK\x05\x06";
    const ENTRY: &[u8] = b"PK\x01\x02";
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    // The end record is in the last 64 KiB (its comment is at most 65,535 bytes).
    let tail = bytes.len().saturating_sub(65_557);
    let end = bytes[tail..]
        .windows(4)
        .rposition(|w| w == END)
        .map(|i| tail + i);
    let (count, mut at) = end
        .and_then(|e| Some((u16_at(e + 10)?, u32_at(e + 16)?)))
        .unwrap_or((0, 0));
    (0..count).map_while(move |_| {
        if bytes.get(at..at + 4) != Some(ENTRY) {
            return None;
        }
        let (name_len, extra, comment) = (u16_at(at + 28)?, u16_at(at + 30)?, u16_at(at + 32)?);
        let name = bytes.get(at + 46..at + 46 + name_len)?;
        at += 46 + name_len + extra + comment;
        Some(String::from_utf8_lossy(name).into_owned())
    })
}

/// `type/subtype` of RFC 2045 tokens.
fn is_content_type(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    t.split_once('/')
        .is_some_and(|(ty, sub)| token(ty) && token(sub))
}

/// The name a file is shown and sent under: the writer's, one line, without folders or
/// characters that hide what it is, shortened keeping its extension; `attachment-N.jpg` (the
/// extension from the type) when it has none.
fn file_name(given: Option<&str>, content_type: &str, n: usize) -> String {
    let given = given.unwrap_or_default();
    // The last path segment: a name may not say where it is saved.
    let base = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base
        .split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|&c| !is_invisible(c) && c != '"')
        .collect();
    // What a reader would take for an encoded word is not left for it to decode into another
    // name (`=?utf-8?b?bGFza3UuZXhl?=` reads as `lasku.exe`).
    let clean = clean.replace("=?", "=_");
    let clean = clean.trim_matches(|c: char| c == '.' || c == ' ');
    if clean.is_empty() {
        let sub = content_type.split('/').nth(1).unwrap_or("bin");
        let ext = match sub {
            "jpeg" => "jpg",
            "plain" => "txt",
            "octet-stream" => "bin",
            s if s.len() <= 5 && s.bytes().all(|b| b.is_ascii_alphanumeric()) => s,
            _ => "bin",
        };
        return format!("attachment-{n}.{ext}");
    }
    if clean.chars().count() <= MAX_NAME {
        return clean.to_owned();
    }
    let (stem, ext) = match clean.rsplit_once('.') {
        Some((stem, ext)) if ext.chars().count() <= 10 => (stem, format!(".{ext}")),
        _ => (clean, String::new()),
    };
    let keep = MAX_NAME - 1 - ext.chars().count();
    format!("{}…{ext}", stem.chars().take(keep).collect::<String>())
}

/// Whether a file would run as a program: by its extension (what a click goes by, also
/// with trailing dots or spaces, which Windows drops) or by its type.
fn is_program(name: &str, content_type: &str) -> bool {
    let name = name.trim_end_matches(['.', ' ']).to_lowercase();
    // The extension as a click reads it: what follows stands for nothing (`exe::$DATA`, a
    // filler or a joiner after `exe`).
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let ext_len = ext
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(ext.len());
    PROGRAMS.contains(&&ext[..ext_len]) || PROGRAM_TYPES.contains(&content_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
        use base64::Engine as _;
        let mut m = b"From: a@example.net\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
            Content-Type: text/plain; charset=utf-8\r\n\r\nHei, liitteena kuva.\r\n"
            .to_vec();
        for (name, ty, bytes) in parts {
            m.extend_from_slice(
                format!(
                    "--b\r\nContent-Type: {ty}\r\nContent-Disposition: attachment; \
                     filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                )
                .as_bytes(),
            );
        }
        m.extend_from_slice(b"--b--\r\n");
        m
    }

    #[test]
    fn files_are_passed_on_decoded_with_their_names_and_types() {
        let raw = mail(&[
            ("väärä tuote.jpg", "image/jpeg", b"\xff\xd8\xff\xe0jpeg"),
            ("veloitukset.csv", "text/csv", b"pvm;summa\n1.12.;39,90\n"),
        ]);
        let got = take(&raw, 1000);
        assert!(got.left_out.is_empty(), "{got:?}");
        assert_eq!(got.names(), ["väärä tuote.jpg", "veloitukset.csv"]);
        assert_eq!(got.carried[0].content_type, "image/jpeg");
        assert_eq!(got.carried[0].bytes, b"\xff\xd8\xff\xe0jpeg");
        assert_eq!(got.carried[1].bytes, b"pvm;summa\n1.12.;39,90\n");
    }

    #[test]
    fn what_does_not_fit_the_budget_is_named_not_carried() {
        let raw = mail(&[
            ("big.mov", "video/quicktime", &[7u8; 600]),
            ("small.pdf", "application/pdf", &[1u8; 300]),
            ("second.pdf", "application/pdf", &[2u8; 300]),
        ]);
        let got = take(&raw, 500);
        assert_eq!(
            got.carried.iter().map(|a| &a.name).collect::<Vec<_>>(),
            ["small.pdf"]
        );
        assert_eq!(
            got.left_out,
            [
                Omitted {
                    name: "big.mov".into(),
                    size: 600,
                    why: LeftOut::TooBig
                },
                Omitted {
                    name: "second.pdf".into(),
                    size: 300,
                    why: LeftOut::TooBig
                }
            ]
        );
        let none = take(&raw, 0);
        assert!(none.carried.is_empty());
        assert!(
            none.left_out
                .iter()
                .all(|o| o.why == LeftOut::NoneCarried && !o.why.can_resend()),
            "sending them smaller would not help: {none:?}"
        );
    }

    #[test]
    fn programs_are_never_carried_whatever_they_pretend() {
        let raw = mail(&[
            ("lasku.pdf.exe", "application/pdf", b"MZ"),
            ("LASKU.JS", "text/plain", b"x"),
            ("kuitti.scr. . ", "image/png", b"x"),
            ("kuva.png", "application/x-msdownload", b"MZ"),
            ("ok.png", "image/png", b"png"),
        ]);
        let got = take(&raw, 1000);
        assert_eq!(got.names()[0], "ok.png");
        assert_eq!(got.left_out.len(), 4, "{got:?}");
        assert!(got.left_out.iter().all(|o| o.why == LeftOut::Program));
    }

    /// Found by breaking it (issue 21): names that decode to a program, extensions with
    /// something after them, a program named as a PDF, and archives holding one.
    #[test]
    fn programs_dressed_up_are_still_programs() {
        let zip = |inner: &str| {
            let mut z = b"PK\x03\x04local".to_vec();
            let cd = z.len();
            z.extend_from_slice(b"PK\x01\x02");
            z.extend_from_slice(&[0; 24]);
            z.extend_from_slice(&(inner.len() as u16).to_le_bytes());
            z.extend_from_slice(&[0; 16]);
            z.extend_from_slice(inner.as_bytes());
            let size = z.len() - cd;
            z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
            z.extend_from_slice(&(size as u32).to_le_bytes());
            z.extend_from_slice(&(cd as u32).to_le_bytes());
            z.extend_from_slice(b"\0\0");
            z
        };
        let (bad_zip, good_zip) = (zip("lasku/lasku.exe"), zip("kuvat/kuva.jpg"));
        let raw = mail(&[
            ("=?utf-8?b?bGFza3UuZXhl?=", "application/pdf", b"%PDF"),
            ("lasku.exe\u{3164}", "application/pdf", b"x"),
            ("lasku.exe::$DATA", "application/pdf", b"x"),
            ("skripti.mjs", "text/plain", b"x"),
            ("linkki.url", "text/plain", b"x"),
            ("lasku.pdf", "application/pdf", b"MZ\x90\0"),
            ("laskut.zip", "application/zip", &bad_zip),
            ("kuvat.zip", "application/zip", &good_zip),
        ]);
        let got = take(&raw, 1 << 20);
        let carried: Vec<&str> = got.carried.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(carried, ["kuvat.zip"], "{got:?}");
        assert_eq!(got.left_out.len(), 7);
        assert!(got.left_out.iter().all(|o| o.why == LeftOut::Program));
        // An encoded word written as the name itself (RFC 2231 percent-encoded) is not left
        // for a reader to decode.
        let literal = String::from_utf8(mail(&[("x", "application/pdf", b"%PDF")]))
            .unwrap()
            .replace(
                "filename=\"x\"",
                "filename*=utf-8''%3D%3Futf-8%3Fb%3FbGFza3UuZXhl%3F%3D",
            );
        let got = take(literal.as_bytes(), 1 << 20);
        assert_eq!(got.carried[0].name, "=_utf-8?b?bGFza3UuZXhl?=", "{got:?}");
    }

    #[test]
    fn forwarded_mail_goes_as_an_eml_file_unless_it_carries_a_program() {
        let inner = |attached: &str| {
            format!(
                "From: a@b.fi\r\nSubject: Alkuperainen lasku\r\nContent-Type: multipart/mixed; \
                 boundary=\"i\"\r\n\r\n--i\r\nContent-Type: text/plain\r\n\r\nteksti\r\n--i\r\n\
                 Content-Type: application/octet-stream\r\nContent-Disposition: attachment; \
                 filename=\"{attached}\"\r\n\r\nx\r\n--i--\r\n"
            )
        };
        let outer = |inner: String| {
            format!(
                "From: m@x.fi\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary=\"o\"\r\n\r\n\
                 --o\r\nContent-Type: text/plain\r\n\r\nHei\r\n--o\r\nContent-Type: message/rfc822\r\n\
                 Content-Disposition: attachment\r\n\r\n{inner}--o--\r\n"
            )
        };
        let got = take(outer(inner("kuitti.pdf")).as_bytes(), 1 << 20);
        assert_eq!(got.carried.len(), 1, "{got:?}");
        assert_eq!(got.carried[0].name, "Alkuperainen lasku.eml");
        assert_eq!(got.carried[0].content_type, "application/octet-stream");
        let got = take(outer(inner("evil.exe")).as_bytes(), 1 << 20);
        assert!(got.carried.is_empty(), "{got:?}");
        assert_eq!(got.left_out[0].why, LeftOut::Program);
    }

    #[test]
    fn names_cannot_carry_folders_lines_or_hidden_characters() {
        let long = format!("{}.pdf", "a".repeat(300));
        let raw = mail(&[
            ("../../etc/passwd", "text/plain", b"x"),
            ("C:\\\\Users\\\\m\\\\kuva.jpg", "image/jpeg", b"x"),
            ("lasku\u{202e}fdp.exe", "application/pdf", b"x"),
            (&long, "application/pdf", b"x"),
            ("", "image/jpeg", b"x"),
        ]);
        let got = take(&raw, 1000);
        let names = got.names();
        assert!(names.contains(&"passwd"), "{names:?}");
        assert!(names.contains(&"kuva.jpg"), "{names:?}");
        assert!(names.contains(&"laskufdp.exe"), "{names:?}");
        assert!(
            names
                .iter()
                .any(|n| n.ends_with("….pdf") && n.chars().count() == MAX_NAME)
        );
        assert!(names.contains(&"attachment-5.jpg"), "{names:?}");
    }

    #[test]
    fn no_more_than_one_message_carries() {
        let files: Vec<(String, &str, &[u8])> = (0..MAX_CARRIED + 3)
            .map(|i| (format!("f{i}.txt"), "text/plain", &b"x"[..]))
            .collect();
        let parts: Vec<(&str, &str, &[u8])> =
            files.iter().map(|(n, t, b)| (n.as_str(), *t, *b)).collect();
        let got = take(&mail(&parts), 1 << 20);
        assert_eq!(got.carried.len(), MAX_CARRIED);
        assert_eq!(got.left_out.len(), 3);
        assert!(got.left_out.iter().all(|o| o.why == LeftOut::TooMany));
    }

    #[test]
    fn a_plain_message_has_none() {
        assert!(take(b"From: a@b\r\n\r\nhei\r\n", 1000).is_empty());
        assert!(take(b"", 1000).is_empty());
    }
}
