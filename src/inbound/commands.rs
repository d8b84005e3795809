//! What each SMTP command does: EHLO to QUIT, the checks at RCPT, and the commit after DATA
//! that comes before `250`.

use super::data::DataReader;
use super::refusals::{self, Refusals};
use super::session::{FLOW_DELAY, Next, Session, State};
use crate::domain::limits;
use crate::domain::mailbox;
use crate::domain::relays::read_attributes;
use crate::domain::route::{self, Recipient, Refusal};
use crate::mail::{Envelope, normalize_address};
use crate::metrics::Refused;
use smtp_proto::{EhloResponse, Request};
use std::time::Duration;
use tokio::time::Instant;

/// The trace line a receiving server puts on top of a message (RFC 5321 4.4), dated as a mail
/// date (RFC 5322 3.6.7) so that mail readers can read it.
pub(super) fn received(helo: &str, peer: std::net::IpAddr, domain: &str, now: i64) -> String {
    format!(
        "Received: from {} ([{peer}])\r\n\tby {domain} (nonono) with ESMTP;\r\n\t{}\r\n",
        crate::mail::write::one_line(helo),
        crate::domain::calendar::rfc5322(now)
    )
}

/// What a trusted relay is told it may say of its clients (Postfix's XFORWARD_README and
/// XCLIENT_README).
const FORWARDING_OFFERED: &[u8] =
    b"250-XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n250 XCLIENT NAME ADDR PORT PROTO HELO LOGIN\r\n";
const XFORWARD_ATTRIBUTES: &[&str] = &["NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE"];
const XCLIENT_ATTRIBUTES: &[&str] = &[
    "NAME", "ADDR", "PORT", "PROTO", "HELO", "LOGIN", "DESTADDR", "DESTPORT",
];

impl Session {
    /// `XFORWARD` (the client of this transaction) and `XCLIENT` (of the rest of the session,
    /// which starts over with a greeting): believed from a trusted relay only.
    pub(super) fn forwarding(&mut self, line: &str, out: &mut Vec<u8>) {
        let (verb, arguments) = line.split_once(' ').unwrap_or((line, ""));
        let verb = verb.to_ascii_uppercase();
        let xclient = verb == "XCLIENT";
        let known = if xclient {
            XCLIENT_ATTRIBUTES
        } else {
            XFORWARD_ATTRIBUTES
        };
        let reply = if !self.trusted {
            tracing::info!(peer = %self.peer.ip(), "smtp: {verb} refused: not a trusted relay");
            format!("550 5.7.0 {verb} is taken only from a trusted relay (smtp.trusted_relays)\r\n")
        } else if self.mail_from.is_some() {
            format!("503 5.5.1 {verb} comes before MAIL FROM\r\n")
        } else {
            match read_attributes(arguments, known) {
                Err(e) => format!("501 5.5.4 {verb}: {e}\r\n"),
                Ok(named) if xclient => {
                    self.xclient = std::mem::take(&mut self.xclient).and(named);
                    self.helo = None;
                    self.reset();
                    format!("220 {} ESMTP nonono ready\r\n", self.config().domain)
                }
                Ok(named) => {
                    self.xforward = std::mem::take(&mut self.xforward).and(named);
                    "250 2.0.0 Ok\r\n".into()
                }
            }
        };
        out.extend_from_slice(reply.as_bytes());
    }

    pub(super) async fn command(
        &mut self,
        request: Request<String>,
        out: &mut Vec<u8>,
        state: &mut State,
    ) -> Next {
        let reply: String = match request {
            Request::Ehlo { host } => {
                self.helo = Some(host);
                self.reset();
                let mut ehlo = EhloResponse::new(self.config().domain.as_str());
                ehlo.capabilities = smtp_proto::EXT_SIZE
                    | smtp_proto::EXT_8BIT_MIME
                    | smtp_proto::EXT_SMTP_UTF8
                    | smtp_proto::EXT_PIPELINING
                    | smtp_proto::EXT_ENHANCED_STATUS_CODES;
                if self.receiver.tls.is_some() && !self.secure {
                    ehlo.capabilities |= smtp_proto::EXT_START_TLS;
                }
                ehlo.size = self.config().smtp.max_message_bytes;
                let start = out.len();
                let _ = ehlo.write(&mut *out);
                if self.trusted {
                    // Our own extensions after smtp-proto's: its last line goes on.
                    let last = out[start..out.len() - 2]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(start, |lf| start + lf + 1);
                    out[last + 3] = b'-';
                    out.extend_from_slice(FORWARDING_OFFERED);
                }
                return Next::Continue;
            }
            Request::Helo { host } => {
                self.helo = Some(host);
                self.reset();
                format!("250 {}\r\n", self.config().domain)
            }
            Request::Lhlo { .. } => "502 5.5.1 This is SMTP, not LMTP\r\n".into(),
            Request::Mail { from } => {
                if self.mail_from.is_some() {
                    "503 5.5.1 Sender already given; send RSET to start over\r\n".into()
                } else if from.size > self.config().smtp.max_message_bytes {
                    self.too_big()
                } else if !from.address.is_ascii() && from.flags & smtp_proto::MAIL_SMTPUTF8 == 0 {
                    "553 5.6.7 An address beyond ASCII needs the SMTPUTF8 parameter (RFC 6531)\r\n"
                        .into()
                } else if from.address.chars().any(crate::mail::is_hidden_or_broken) {
                    // Controls, invisible and direction marks, bytes that were no UTF-8: no one
                    // writes from such an address, and anything accepted from it would wait,
                    // unanswerable, in the holding pen. (A quoted local part is an address:
                    // it is taken, and held with its reason.)
                    "553 5.1.7 This sender address has characters no address is written with; please write from a plain address\r\n".into()
                } else if crate::mail::write::needs_smtputf8(&normalize_address(&from.address))
                    && self.receiver.utf8_reach.refused()
                {
                    "553 5.6.7 We could not write back to an address with letters beyond ASCII: our outgoing mail server does not take them. Please write from an address in ASCII letters\r\n".into()
                } else {
                    self.mail_from = Some(normalize_address(&from.address));
                    "250 2.1.0 Sender OK\r\n".into()
                }
            }
            Request::Rcpt { to } => self.recipient(&to.address).await,
            Request::Data => {
                if self.mail_from.is_none() {
                    "503 5.5.1 Send MAIL FROM first\r\n".into()
                } else if self.rcpt_to.is_empty() {
                    "554 5.5.1 No valid recipients\r\n".into()
                } else {
                    *state = State::Data {
                        receiver: DataReader::default(),
                        message: Vec::new(),
                        too_big: false,
                    };
                    "354 Start mail input; end with <CRLF>.<CRLF>\r\n".into()
                }
            }
            Request::Rset => {
                self.reset();
                "250 2.0.0 OK\r\n".into()
            }
            Request::Noop { .. } => "250 2.0.0 OK\r\n".into(),
            Request::Quit => {
                out.extend_from_slice(b"221 2.0.0 Bye\r\n");
                return Next::Close;
            }
            Request::Vrfy { .. } => {
                "252 2.5.2 Cannot verify addresses; send the mail and we will try\r\n".into()
            }
            Request::Help { .. } => {
                "214 2.0.0 Write to palaute@ with [Company] in the subject\r\n".into()
            }
            Request::StartTls => {
                if self.secure {
                    "503 5.5.1 TLS is already active\r\n".into()
                } else if self.receiver.tls.is_none() {
                    "502 5.5.1 STARTTLS is not offered here\r\n".into()
                } else {
                    out.extend_from_slice(b"220 2.0.0 Ready to start TLS\r\n");
                    return Next::StartTls;
                }
            }
            Request::Auth { .. } => {
                "502 5.5.1 No authentication: this server only receives mail\r\n".into()
            }
            Request::Bdat { .. } => "502 5.5.1 CHUNKING is not offered; use DATA\r\n".into(),
            other => format!("502 5.5.1 {} is not implemented\r\n", other.name()),
        };
        out.extend_from_slice(reply.as_bytes());
        Next::Continue
    }

    /// The reply to a writer who reached one of the abuse limits: try again later.
    fn limit_refusal(&self, reached: limits::Reached) -> String {
        let which: fn(&Refusals) -> &String = match reached {
            limits::Reached::AddressPerHour => |r| &r.address_per_hour,
            limits::Reached::IpPerHour => |r| &r.ip_per_hour,
            limits::Reached::PairPerDay => |r| &r.pair_per_day,
        };
        refusals::reply(451, "4.7.1", which, &[], self.config().language)
    }

    pub(super) async fn recipient(&mut self, address: &str) -> String {
        let Some(mail_from) = self.mail_from.clone() else {
            return "503 5.5.1 Send MAIL FROM first\r\n".into();
        };
        if self.rcpt_to.len() >= self.config().smtp.max_recipients {
            return "452 4.5.3 Too many recipients; send the rest in another message\r\n".into();
        }
        let mut address = normalize_address(address);
        // RFC 5321 4.5.1: the bare "postmaster" must be accepted (smtp-proto gives it as "").
        if address.is_empty() || address == mailbox::POSTMASTER {
            address = mailbox::at(mailbox::POSTMASTER, &self.config().domain);
        }
        let recipient = match route::recipient(&address, self.config(), &self.receiver.key) {
            Ok(r) => r,
            Err(refusal) => {
                // The address is not logged (none is at info level); why, and from where.
                tracing::info!(peer = %self.client_ip(), "smtp: recipient refused: {refusal:?}");
                let domain = &self.config().domain;
                let feedback = mailbox::at(mailbox::FEEDBACK, domain);
                let blanks: [(&str, &dyn std::fmt::Display); 2] =
                    [("feedback", &feedback), ("domain", domain)];
                let (status, which): (_, fn(&Refusals) -> &String) = match refusal {
                    Refusal::OtherDomain => ("5.7.1", |r| &r.other_domain),
                    Refusal::UnknownLocalPart => ("5.1.1", |r| &r.unknown_address),
                    Refusal::BadToken => ("5.1.1", |r| &r.bad_token),
                };
                self.receiver
                    .metrics
                    .refused(if refusal == Refusal::OtherDomain {
                        Refused::Relay
                    } else {
                        Refused::UnknownRecipient
                    });
                return refusals::reply(550, status, which, &blanks, self.config().language);
            }
        };
        if let Recipient::Feedback | Recipient::Provider(_) = &recipient {
            let provider = match &recipient {
                Recipient::Provider(slug) => Some(slug.clone()),
                _ => None,
            };
            let peer = self.client_ip().to_string();
            if let Some(reached) = self
                .receiver
                .limit_reached(&mail_from, &peer, provider, false)
                .await
            {
                self.receiver.metrics.refused(Refused::Limit);
                return self.limit_refusal(reached);
            }
        }
        if !self.rcpt_to.contains(&address) {
            self.rcpt_to.push(address);
            self.recipients.push(recipient);
        }
        "250 2.1.5 Recipient OK\r\n".into()
    }

    /// Whether the message is new feedback, and which company it is about when that can be
    /// told now: a company's address, the subject's tag, or a consumer's reply token. The tag
    /// and the token cost a parse and a store read before `250`, so they are looked at only
    /// when the limits that count them are on.
    pub(super) async fn about(&self, message: &[u8]) -> (bool, Option<String>) {
        let feedback = self
            .recipients
            .iter()
            .any(|r| matches!(r, Recipient::Feedback | Recipient::Provider(_)));
        let look_closer = self.receiver.limits_on();
        for r in &self.recipients {
            if !look_closer && !matches!(r, Recipient::Provider(_)) {
                continue;
            }
            match r {
                Recipient::Provider(slug) => return (feedback, Some(slug.clone())),
                Recipient::Feedback => {
                    let subject = mail_parser::MessageParser::new()
                        .parse_headers(message)
                        .and_then(|m| m.subject().map(str::to_owned))
                        .unwrap_or_default();
                    if let route::Tag::Known { slug, .. } =
                        route::find_tag(&subject, &self.config().providers)
                    {
                        return (feedback, Some(slug));
                    }
                }
                Recipient::Reply(participant) => {
                    let participant = *participant;
                    if let Ok(Some(slug)) = self
                        .receiver
                        .reader
                        .run(move |s| s.consumer_thread_provider(participant))
                        .await
                    {
                        return (feedback, Some(slug));
                    }
                }
                _ => {}
            }
        }
        (feedback, None)
    }

    pub(super) async fn commit(&mut self, message: Vec<u8>) -> String {
        let (feedback, provider) = self.about(&message).await;
        let mail_from = self.mail_from.clone().unwrap_or_default();
        let peer = self.client_ip().to_string();
        if provider.is_some()
            && let Some(reached) = self
                .receiver
                .limit_reached(&mail_from, &peer, provider.clone(), true)
                .await
        {
            self.receiver.metrics.refused(Refused::Limit);
            return self.limit_refusal(reached);
        }
        let waited = Instant::now();
        while self.receiver.metrics.backlog() > crate::store::FLOW_BACKLOG
            && waited.elapsed() < FLOW_DELAY
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let now = crate::clock::now();
        let helo = self.client_helo();
        let envelope = Envelope {
            mail_from: self.mail_from.clone().unwrap_or_default(),
            rcpt_to: self.rcpt_to.clone(),
            peer: peer.clone(),
            helo: helo.clone(),
        };
        let mut raw = received(&helo, self.client_ip(), &self.config().domain, now).into_bytes();
        raw.extend_from_slice(&message);
        let size = raw.len();
        match self
            .receiver
            .intake
            .commit(envelope, raw, now, feedback, provider)
            .await
        {
            Ok(id) => {
                tracing::info!(journal = id, size, "smtp: message accepted");
                self.receiver.metrics.accepted();
                format!("250 2.0.0 Message accepted as {id}\r\n")
            }
            Err(e) => {
                tracing::error!("smtp: {e}");
                self.receiver.metrics.refused(Refused::Store);
                "451 4.3.0 Could not store the message; please try again later\r\n".into()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use mail_parser::{HeaderValue, MessageParser};

    #[test]
    fn a_size_no_number_holds_is_too_big() {
        use super::super::session::declared_size_overflows as overflows;
        assert!(overflows(
            b"MAIL FROM:<a@b.fi> SIZE=99999999999999999999999\r\n"
        ));
        assert!(overflows(
            b"mail from:<a@b.fi> size=18446744073709551616\r\n"
        ));
        assert!(!overflows(
            b"MAIL FROM:<a@b.fi> SIZE=18446744073709551615\r\n"
        ));
        assert!(!overflows(
            b"MAIL FROM:<a@b.fi> SIZE=000000000000000000000001000\r\n"
        ));
        assert!(!overflows(b"MAIL FROM:<a@b.fi> BODY=8BITMIME\r\n"));
    }

    #[test]
    fn the_received_line_is_read_back_with_its_date() {
        let mut raw = super::received(
            "mail.example.fi",
            [192, 0, 2, 7].into(),
            "gw.example",
            1_795_960_800,
        )
        .into_bytes();
        raw.extend_from_slice(b"Subject: [Elisa] Hei\r\n\r\nTeksti\r\n");
        let message = MessageParser::default().parse(&raw).unwrap();
        let HeaderValue::Received(received) = message.header("Received").unwrap() else {
            panic!(
                "not read as a Received line: {:?}",
                message.header("Received")
            );
        };
        assert_eq!(
            received.from().map(|h| h.to_string()).as_deref(),
            Some("mail.example.fi")
        );
        assert_eq!(
            received.by().map(|h| h.to_string()).as_deref(),
            Some("gw.example")
        );
        assert_eq!(
            received.date().map(|d| d.to_timestamp()),
            Some(1_795_960_800)
        );
    }
}
