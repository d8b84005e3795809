//! The SMTP receiver: a tokio accept loop and one session task per connection, over smtp-proto.
//!
//! Recipients are checked at `RCPT` time (only our domain, only addresses that exist, tokens
//! with a valid HMAC: never an open relay). Lines are bounded by smtp-proto, message size by
//! `SIZE`, and sessions by idle and total timeouts. At the end of `DATA` the raw message and its
//! envelope are committed to the journal, and only then is `250` answered; if the commit fails
//! the answer is `451` and the client keeps the message and retries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use smtp_proto::request::receiver::RequestReceiver;
use smtp_proto::{EhloResponse, Error as ProtoError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

use crate::config::Config;
use crate::domain::limits;
use crate::domain::route::{self, Recipient, Refusal};
use crate::domain::slots::{Slots, network};
use crate::domain::token::TokenKey;
use crate::journal::Journal;
use crate::mail::{Envelope, normalize_address};
use crate::metrics::{Metrics, Refused};
use crate::store::Shared;

mod data;

use data::DataReader;

/// Most simultaneous sessions; more connections are told to come back later.
const MAX_SESSIONS: usize = 512;
const FLOW_DELAY: Duration = Duration::from_secs(1);

/// Largest header section accepted: headers are parsed before anything else, and no real mail
/// client writes this much.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Least average rate of a message's data, in bytes a second, once the idle time has passed
/// (Postfix's `smtpd_min_data_rate` is the same): a client that sends one byte per idle time
/// cannot hold a session for its whole length.
const MIN_DATA_RATE: f64 = 500.0;

/// What every session needs.
pub struct Receiver {
    pub config: Arc<Config>,
    pub key: TokenKey,
    pub journal: Journal,
    /// A read-only store connection, for counting what the abuse limits count.
    pub reader: Shared,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Offers STARTTLS when a certificate is configured.
    pub tls: Option<TlsAcceptor>,
    /// Whether the outbound hop takes addresses beyond ASCII: a writer we could never write
    /// back to is refused before anything is accepted.
    pub utf8_reach: Arc<crate::relay::Utf8Reach>,
}

impl Receiver {
    fn limits_on(&self) -> bool {
        let l = &self.config.limits;
        l.new_threads_per_address_per_hour != 0
            || l.new_threads_per_ip_per_hour != 0
            || l.messages_per_pair_per_day != 0
    }

    /// The limit one more message would pass, if any: all of them for new feedback at `RCPT`,
    /// only the company pair once the message shows what it is about. A store that cannot
    /// count lets mail in: refusing everyone would lose more than a missed limit.
    async fn limit_reached(
        &self,
        mail_from: &str,
        peer: &str,
        provider: Option<String>,
        pair_only: bool,
    ) -> Option<limits::Reached> {
        if !self.limits_on() {
            return None;
        }
        let (key, peer) = (limits::sender_key(mail_from), peer.to_owned());
        let now = crate::clock::now();
        match self
            .reader
            .run(move |s| s.limit_counts(&key, &peer, provider.as_deref(), now))
            .await
        {
            Ok(counts) if pair_only => limits::reached(
                &self.config.limits,
                &limits::Counts {
                    pair_day: counts.pair_day,
                    ..limits::Counts::default()
                },
            ),
            Ok(counts) => limits::reached(&self.config.limits, &counts),
            Err(e) => {
                tracing::error!("smtp: counting for limits: {e}");
                None
            }
        }
    }
}

/// Accepts connections until `shutdown` turns true, then tells sessions in flight to finish
/// (each answers `421` unless it is committing a message) and waits for them.
pub async fn run(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_SESSIONS));
    let per_ip = Arc::new(Slots::default());
    let per_network = Arc::new(Slots::default());
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("smtp: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let smtp = &receiver.config.smtp;
                let (Some(network_slot), Some(ip_slot), Ok(slot)) = (
                    Slots::take(&per_network, network(peer.ip()), smtp.max_sessions_per_network),
                    Slots::take(&per_ip, peer.ip(), smtp.max_sessions_per_client),
                    slots.clone().try_acquire_owned(),
                ) else {
                    receiver.metrics.refused(Refused::Connections);
                    sessions.spawn(async move {
                        let mut stream = stream;
                        let _ = stream.write_all(b"421 4.3.2 Too many connections, try again later\r\n").await;
                    });
                    continue;
                };
                let receiver = receiver.clone();
                let shutdown = shutdown.clone();
                sessions.spawn(async move {
                    let _slots = (slot, ip_slot, network_slot);
                    receiver.metrics.session();
                    if let Err(e) = Session::new(receiver, peer).run(stream, shutdown).await {
                        tracing::debug!("smtp: session from {peer} ended: {e}");
                    }
                });
            }
            _ = shutdown.changed() => break,
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    while sessions.join_next().await.is_some() {}
}

/// Writes a reply and pushes it out (TLS buffers what it encrypts).
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// The STARTTLS acceptor `[smtp] tls_cert` and `tls_key` ask for, if any.
pub fn tls_acceptor(config: &Config) -> Result<Option<TlsAcceptor>, TlsError> {
    let (Some(cert), Some(key)) = (&config.smtp.tls_cert, &config.smtp.tls_key) else {
        return Ok(None);
    };
    let (cert, key) = (config.data_dir.join(cert), config.data_dir.join(key));
    let chain = CertificateDer::pem_file_iter(&cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Pem {
            key: "smtp.tls_cert",
            path: cert.clone(),
            reason: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| TlsError::Pem {
        key: "smtp.tls_key",
        path: key.clone(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Some(TlsAcceptor::from(Arc::new(server))))
}

/// Why the STARTTLS certificate cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key} {}: {reason}", .path.display())]
    Pem {
        key: &'static str,
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("smtp.tls_cert, smtp.tls_key: {0}")]
    Config(String),
}

enum State {
    Command,
    Data {
        receiver: DataReader,
        message: Vec<u8>,
        too_big: bool,
    },
}

struct Session {
    receiver: Arc<Receiver>,
    peer: SocketAddr,
    /// The session runs over TLS (after STARTTLS).
    secure: bool,
    helo: Option<String>,
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
    /// What each of `rcpt_to` is.
    recipients: Vec<Recipient>,
}

/// What to do after handling input.
enum Next {
    Continue,
    Close,
    /// `220` to STARTTLS is written: the TLS handshake comes next.
    StartTls,
}

impl Session {
    fn new(receiver: Arc<Receiver>, peer: SocketAddr) -> Self {
        Session {
            receiver,
            peer,
            secure: false,
            helo: None,
            mail_from: None,
            rcpt_to: Vec::new(),
            recipients: Vec::new(),
        }
    }

    fn config(&self) -> &Config {
        &self.receiver.config
    }

    fn too_big(&self) -> String {
        self.receiver.metrics.refused(Refused::TooBig);
        format!(
            "552 5.3.4 Message too big: the limit is {} bytes\r\n",
            self.config().smtp.max_message_bytes
        )
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpt_to.clear();
        self.recipients.clear();
    }

    async fn run(
        mut self,
        mut stream: TcpStream,
        mut shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        let deadline =
            Instant::now() + Duration::from_secs(self.config().smtp.session_timeout_secs);
        let greeting = format!("220 {} ESMTP nonono ready\r\n", self.config().domain);
        stream.write_all(greeting.as_bytes()).await?;
        let Some(plain) = self.converse(stream, &mut shutdown, deadline).await? else {
            return Ok(());
        };
        let Some(acceptor) = self.receiver.tls.clone() else {
            return Ok(());
        };
        let tls = timeout_at(deadline, acceptor.accept(plain))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "TLS handshake"))??;
        // RFC 3207: after the handshake the client starts over with EHLO, and nothing said
        // before it counts.
        self.secure = true;
        self.helo = None;
        self.reset();
        self.converse(tls, &mut shutdown, deadline).await?;
        Ok(())
    }

    /// Talks SMTP over `stream` until the session ends (`None`) or the client asks for TLS
    /// (the plain stream comes back, with anything it pipelined after STARTTLS dropped).
    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        mut stream: S,
        shutdown: &mut watch::Receiver<bool>,
        deadline: Instant,
    ) -> std::io::Result<Option<S>> {
        let idle = Duration::from_secs(self.config().smtp.idle_timeout_secs);

        let mut requests = RequestReceiver::default();
        let mut state = State::Command;
        let mut buf = vec![0u8; 16 * 1024];
        // After a line that was too long, the rest of it up to LF is thrown away.
        let mut discarding = false;
        // A command must arrive whole within the idle time from the last reply, however it
        // trickles in: a byte now and then does not hold a session. Data must keep up
        // [`MIN_DATA_RATE`] on average once the idle time has passed.
        let mut waiting_since = Instant::now();
        let mut data_bytes = 0usize;
        // The start of the command line being read, as sent: smtp-proto turns a `SIZE=` too
        // large for a number into a small one, so we read that parameter ourselves.
        let mut line = Vec::with_capacity(LINE_KEPT);
        loop {
            let read_by = match state {
                State::Command => waiting_since + idle,
                State::Data { .. } => Instant::now() + idle,
            }
            .min(deadline);
            let n = tokio::select! {
                r = timeout_at(read_by, stream.read(&mut buf)) => match r {
                    Ok(r) => r?,
                    Err(_) => {
                        let text = if Instant::now() >= deadline {
                            "421 4.4.2 Session too long, closing\r\n"
                        } else {
                            "421 4.4.2 Idle too long, closing\r\n"
                        };
                        send(&mut stream, text.as_bytes()).await?;
                        return Ok(None);
                    }
                },
                _ = shutdown.changed() => {
                    send(&mut stream, b"421 4.3.2 Service shutting down, try again later\r\n").await?;
                    return Ok(None);
                }
            };
            if n == 0 {
                return Ok(None);
            }
            if let State::Data { .. } = state {
                data_bytes += n;
                let taken = waiting_since.elapsed();
                if taken > idle && (data_bytes as f64) < MIN_DATA_RATE * taken.as_secs_f64() {
                    send(&mut stream, b"421 4.4.2 Data too slow, closing\r\n").await?;
                    return Ok(None);
                }
            }
            let mut out = Vec::new();
            let mut bytes = buf[..n].iter();
            loop {
                if discarding {
                    let rest = bytes.as_slice();
                    match rest.iter().position(|&b| b == b'\n') {
                        Some(lf) => {
                            bytes = rest[lf + 1..].iter();
                            discarding = false;
                        }
                        None => break,
                    }
                }
                match &mut state {
                    State::Command => {
                        let before = bytes.as_slice();
                        let parsed = requests.ingest(&mut bytes);
                        let taken = &before[..before.len() - bytes.len()];
                        line.extend_from_slice(&taken[..taken.len().min(LINE_KEPT - line.len())]);
                        match parsed {
                            Ok(request) => {
                                waiting_since = Instant::now();
                                data_bytes = 0;
                                let request = request.into_owned();
                                let size_overflows = matches!(request, Request::Mail { .. })
                                    && declared_size_overflows(&line);
                                line.clear();
                                if size_overflows {
                                    let refusal = self.too_big();
                                    out.extend_from_slice(refusal.as_bytes());
                                    continue;
                                }
                                match self.command(request, &mut out, &mut state).await {
                                    Next::Continue => {}
                                    Next::Close => {
                                        send(&mut stream, &out).await?;
                                        return Ok(None);
                                    }
                                    Next::StartTls => {
                                        send(&mut stream, &out).await?;
                                        return Ok(Some(stream));
                                    }
                                }
                            }
                            Err(ProtoError::NeedsMoreData { .. }) => break,
                            Err(e) => {
                                line.clear();
                                discarding = e == ProtoError::ResponseTooLong;
                                out.extend_from_slice(protocol_error(&e).as_bytes());
                            }
                        }
                    }
                    State::Data {
                        receiver,
                        message,
                        too_big,
                    } => {
                        let done = receiver.ingest(&mut bytes, message);
                        if message.len() > self.config().smtp.max_message_bytes {
                            // Keep reading to the end of DATA, but hold nothing more.
                            *too_big = true;
                            message.clear();
                        }
                        if !done {
                            break;
                        }
                        let (message, too_big) = (std::mem::take(message), *too_big);
                        state = State::Command;
                        // Answers to pipelined commands go out before the commit waits.
                        send(&mut stream, &out).await?;
                        out.clear();
                        let reply = if too_big {
                            self.too_big()
                        } else if header_size(&message) > MAX_HEADER_BYTES {
                            self.receiver.metrics.refused(Refused::TooBig);
                            format!(
                                "552 5.3.4 Header section too large: the limit is {MAX_HEADER_BYTES} bytes\r\n"
                            )
                        } else {
                            self.commit(message).await
                        };
                        self.reset();
                        waiting_since = Instant::now();
                        out.extend_from_slice(reply.as_bytes());
                    }
                }
                if bytes.len() == 0 {
                    break;
                }
            }
            if !out.is_empty() {
                send(&mut stream, &out).await?;
            }
        }
    }

    async fn command(
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
                let _ = ehlo.write(&mut *out);
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
                } else if from.address.chars().any(|c| {
                    c.is_control()
                        || crate::mail::is_invisible(c)
                        || c == char::REPLACEMENT_CHARACTER
                }) {
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

    async fn recipient(&mut self, address: &str) -> String {
        let Some(mail_from) = self.mail_from.clone() else {
            return "503 5.5.1 Send MAIL FROM first\r\n".into();
        };
        if self.rcpt_to.len() >= self.config().smtp.max_recipients {
            return "452 4.5.3 Too many recipients; send the rest in another message\r\n".into();
        }
        let mut address = normalize_address(address);
        // RFC 5321 4.5.1: the bare "postmaster" must be accepted (smtp-proto gives it as "").
        if address.is_empty() || address == "postmaster" {
            address = format!("postmaster@{}", self.config().domain);
        }
        let recipient = match route::recipient(&address, self.config(), &self.receiver.key) {
            Ok(r) => r,
            Err(refusal @ Refusal::OtherDomain) => {
                self.receiver.metrics.refused(Refused::Relay);
                return format!("550 5.7.1 Relaying denied: {refusal}\r\n");
            }
            Err(refusal) => {
                self.receiver.metrics.refused(Refused::UnknownRecipient);
                return format!("550 5.1.1 {}\r\n", upper_first(&refusal.to_string()));
            }
        };
        if let Recipient::Feedback | Recipient::Provider(_) = &recipient {
            let provider = match &recipient {
                Recipient::Provider(slug) => Some(slug.clone()),
                _ => None,
            };
            let peer = self.peer.ip().to_string();
            if let Some(reached) = self
                .receiver
                .limit_reached(&mail_from, &peer, provider, false)
                .await
            {
                self.receiver.metrics.refused(Refused::Limit);
                return format!("{reached}\r\n");
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
    async fn about(&self, message: &[u8]) -> (bool, Option<String>) {
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

    async fn commit(&mut self, message: Vec<u8>) -> String {
        let (feedback, provider) = self.about(&message).await;
        let mail_from = self.mail_from.clone().unwrap_or_default();
        let peer = self.peer.ip().to_string();
        if provider.is_some()
            && let Some(reached) = self
                .receiver
                .limit_reached(&mail_from, &peer, provider.clone(), true)
                .await
        {
            self.receiver.metrics.refused(Refused::Limit);
            return format!("{reached}\r\n");
        }
        let waited = Instant::now();
        while self.receiver.metrics.backlog() > crate::store::FLOW_BACKLOG
            && waited.elapsed() < FLOW_DELAY
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let now = crate::clock::now();
        let helo = self.helo.clone().unwrap_or_default();
        let envelope = Envelope {
            mail_from: self.mail_from.clone().unwrap_or_default(),
            rcpt_to: self.rcpt_to.clone(),
            peer: self.peer.ip().to_string(),
            helo: helo.clone(),
        };
        let mut raw = received(&helo, self.peer.ip(), &self.config().domain, now).into_bytes();
        raw.extend_from_slice(&message);
        let size = raw.len();
        match self
            .receiver
            .journal
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

/// How much of a command line is kept to read its `SIZE=` again: a MAIL command with every
/// parameter registered is far shorter.
const LINE_KEPT: usize = 1024;

/// Whether a MAIL command declares a `SIZE=` no number holds. smtp-proto 0.2.5 saturates, and
/// then restarts from the next digit, so `SIZE=99999999999999999999999` read as a small size
/// and got `250`; such a message is too big for any limit.
fn declared_size_overflows(line: &[u8]) -> bool {
    let upper = line.to_ascii_uppercase();
    let Some(at) = upper.windows(5).position(|w| w == b"SIZE=") else {
        return false;
    };
    let digits: Vec<u8> = upper[at + 5..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .skip_while(|&b| b == b'0')
        .collect();
    std::str::from_utf8(&digits)
        .ok()
        .is_some_and(|d| !d.is_empty() && d.parse::<usize>().is_err())
}

/// Bytes before the blank line that ends the header section (all of it when there is none);
/// lenient about bare LF line ends, as the parser is.
fn header_size(message: &[u8]) -> usize {
    let mut at = 0;
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            return at;
        }
        at += line.len();
    }
    message.len()
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn protocol_error(e: &ProtoError) -> String {
    match e {
        ProtoError::ResponseTooLong => "500 5.5.2 Line too long\r\n".into(),
        ProtoError::UnknownCommand => "500 5.5.1 Unknown command\r\n".into(),
        ProtoError::InvalidSenderAddress => "501 5.1.7 Bad sender address syntax\r\n".into(),
        ProtoError::InvalidRecipientAddress => "501 5.1.3 Bad recipient address syntax\r\n".into(),
        ProtoError::SyntaxError { syntax } => format!("501 5.5.4 Syntax: {syntax}\r\n"),
        ProtoError::InvalidParameter { param } => {
            format!("501 5.5.4 Invalid parameter {param}\r\n")
        }
        ProtoError::UnsupportedParameter { param } => {
            format!("555 5.5.4 Unsupported parameter {param}\r\n")
        }
        _ => "500 5.5.0 Command not understood\r\n".into(),
    }
}

/// The trace line a receiving server puts on top of a message (RFC 5321 4.4), dated as a mail
/// date (RFC 5322 3.6.7) so that mail readers can read it.
fn received(helo: &str, peer: std::net::IpAddr, domain: &str, now: i64) -> String {
    format!(
        "Received: from {} ([{peer}])\r\n\tby {domain} (nonono) with ESMTP;\r\n\t{}\r\n",
        crate::mail::write::one_line(helo),
        crate::domain::calendar::rfc5322(now)
    )
}

#[cfg(test)]
mod tests {
    use mail_parser::{HeaderValue, MessageParser};

    #[test]
    fn a_size_no_number_holds_is_too_big() {
        use super::declared_size_overflows as overflows;
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
