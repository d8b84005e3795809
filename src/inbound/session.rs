//! One SMTP session: reading commands and data with their deadlines, bounded, and answering.

use super::data::DataReader;
use super::receiver::Receiver;
use crate::config::Config;
use crate::domain::relays::Forwarded;
use crate::domain::route::Recipient;
use crate::metrics::Refused;
use smtp_proto::request::receiver::RequestReceiver;
use smtp_proto::{Error as ProtoError, Request};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, timeout_at};

pub(super) const FLOW_DELAY: Duration = Duration::from_secs(1);

/// Largest header section accepted: headers are parsed before anything else, and no real mail
/// client writes this much.
pub(super) const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Least average rate of a message's data, in bytes a second, once the idle time has passed
/// (Postfix's `smtpd_min_data_rate` is the same): a client that sends one byte per idle time
/// cannot hold a session for its whole length.
pub(super) const MIN_DATA_RATE: f64 = 500.0;

pub(super) enum State {
    Command,
    Data {
        receiver: DataReader,
        message: Vec<u8>,
        too_big: bool,
    },
}

pub(super) struct Session {
    pub(super) receiver: Arc<Receiver>,
    /// The config this transaction goes by: taken anew at each reset, so a company registered
    /// while a front MTA keeps its connection open is known at its next message.
    config: Arc<Config>,
    pub(super) peer: SocketAddr,
    /// The session runs over TLS (after STARTTLS).
    pub(super) secure: bool,
    pub(super) helo: Option<String>,
    pub(super) mail_from: Option<String>,
    pub(super) rcpt_to: Vec<String>,
    /// What each of `rcpt_to` is.
    pub(super) recipients: Vec<Recipient>,
    /// The peer is a trusted relay: its `XFORWARD` and `XCLIENT` are believed.
    pub(super) trusted: bool,
    /// The client a trusted relay named with `XCLIENT`, for the rest of the session.
    pub(super) xclient: Forwarded,
    /// The client a trusted relay named with `XFORWARD`, for this transaction.
    pub(super) xforward: Forwarded,
}

/// What to do after handling input.
pub(super) enum Next {
    Continue,
    Close,
    /// `220` to STARTTLS is written: the TLS handshake comes next.
    StartTls,
}

/// Whether a command line is `XFORWARD` or `XCLIENT`, read whole (within [`LINE_KEPT`]).
fn is_forwarding(line: &[u8]) -> bool {
    let verb = line.split(|&b| b == b' ').next().unwrap_or(b"");
    line.ends_with(b"\n")
        && (verb.eq_ignore_ascii_case(b"XFORWARD") || verb.eq_ignore_ascii_case(b"XCLIENT"))
}

/// How much of a command line is kept to read its `SIZE=` again, or an `XFORWARD`: a MAIL
/// command with every parameter registered is far shorter, and Postfix's XFORWARD too.
pub(super) const LINE_KEPT: usize = 1024;

/// Whether a MAIL command declares a `SIZE=` no number holds. smtp-proto 0.2.5 saturates, and
/// then restarts from the next digit, so `SIZE=99999999999999999999999` read as a small size
/// and got `250`; such a message is too big for any limit.
pub(super) fn declared_size_overflows(line: &[u8]) -> bool {
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
pub(super) fn header_size(message: &[u8]) -> usize {
    let mut at = 0;
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line == b"\r\n" || line == b"\n" {
            return at;
        }
        at += line.len();
    }
    message.len()
}

pub(super) fn protocol_error(e: &ProtoError) -> String {
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

impl Session {
    pub(super) fn new(receiver: Arc<Receiver>, peer: SocketAddr) -> Self {
        Session {
            config: receiver.live.get(),
            trusted: receiver.trusts(peer.ip()),
            xclient: Forwarded::default(),
            xforward: Forwarded::default(),
            receiver,
            peer,
            secure: false,
            helo: None,
            mail_from: None,
            rcpt_to: Vec::new(),
            recipients: Vec::new(),
        }
    }

    pub(super) fn config(&self) -> &Config {
        &self.config
    }

    pub(super) fn too_big(&self) -> String {
        self.receiver.metrics.refused(Refused::TooBig);
        super::refusals::reply(
            552,
            "5.3.4",
            |r| &r.too_big,
            &[("limit", &self.config().smtp.max_message_bytes)],
            self.config().language,
        )
    }

    pub(super) fn reset(&mut self) {
        self.config = self.receiver.live.get();
        self.mail_from = None;
        self.rcpt_to.clear();
        self.recipients.clear();
        self.xforward = Forwarded::default();
    }

    /// The client the mail comes from: the peer, or the one a trusted relay named.
    pub(super) fn client_ip(&self) -> std::net::IpAddr {
        self.xforward
            .addr
            .or(self.xclient.addr)
            .unwrap_or(self.peer.ip())
    }

    /// The name the client greeted with, from whoever named the client: a relay that named
    /// the address but not the greeting leaves it unknown (the relay's own is not the client's).
    pub(super) fn client_helo(&self) -> String {
        let named = if self.xforward.addr.is_some() {
            &self.xforward.helo
        } else if self.xclient.addr.is_some() {
            &self.xclient.helo
        } else {
            &self.helo
        };
        named.clone().unwrap_or_default()
    }

    pub(super) async fn run(
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
    pub(super) async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
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
                            // Postfix's XFORWARD and XCLIENT, which smtp-proto does not know.
                            Err(ProtoError::UnknownCommand) if is_forwarding(&line) => {
                                let command = String::from_utf8_lossy(&line).into_owned();
                                line.clear();
                                waiting_since = Instant::now();
                                self.forwarding(command.trim_end(), &mut out);
                            }
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
}

/// Writes a reply and pushes it out (TLS buffers what it encrypts).
pub(super) async fn send<S: AsyncWrite + Unpin>(
    stream: &mut S,
    bytes: &[u8],
) -> std::io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inbound::intake_writer::IntakeWriter;
    use crate::store::intake::{Intake, Mover};
    use crate::store::{Shared, Store};
    use tokio::io::{AsyncBufReadExt, BufReader};

    /// A whole dialogue over an in-memory stream, the same code as over TCP: the message is in
    /// the intake when `250` comes, and a refused recipient is refused with a reason.
    #[tokio::test]
    async fn a_dialogue_over_an_in_memory_stream_commits_before_250() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite3");
        let store = Store::open(&path).unwrap();
        let intake_path = crate::store::intake_path(&path);
        let (intake, _writer) =
            IntakeWriter::start(Intake::open(&store, &intake_path).unwrap(), || {}).unwrap();
        let mut config = Config::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/default.toml"),
        )
        .unwrap();
        config.data_dir = dir.path().to_owned();
        let receiver = Arc::new(Receiver {
            live: Arc::new(config.into()),
            key: crate::domain::token::TokenKey::new(&[7; 32]),
            intake,
            reader: Shared::new(Store::open_readonly(&path).unwrap()),
            metrics: Arc::default(),
            tls: None,
            utf8_reach: Arc::new(crate::relay::Utf8Reach::everywhere()),
            trusted_relays: Vec::new(),
        });
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (_stop, mut shutdown) = watch::channel(false);
        let session = tokio::spawn(async move {
            let mut session = Session::new(receiver, "192.0.2.1:40000".parse().unwrap());
            let deadline = Instant::now() + Duration::from_secs(30);
            session.converse(server, &mut shutdown, deadline).await
        });
        let (read, mut write) = tokio::io::split(client);
        let mut read = BufReader::new(read);
        let mut say = async |line: &str| {
            write
                .write_all(format!("{line}\r\n").as_bytes())
                .await
                .unwrap();
            let mut reply = String::new();
            loop {
                let mut l = String::new();
                read.read_line(&mut l).await.unwrap();
                reply.push_str(&l);
                if l.as_bytes().get(3) != Some(&b'-') {
                    return reply;
                }
            }
        };
        assert!(say("EHLO client.example").await.contains("SMTPUTF8"));
        assert!(say("MAIL FROM:<matti@example.fi>").await.starts_with("250"));
        let relay = say("RCPT TO:<someone@elsewhere.example>").await;
        assert!(
            relay.starts_with("550-5.7.1 Otamme postia vastaan vain"),
            "{relay}"
        );
        assert!(relay.contains("550 5.7.1 Relaying denied"), "{relay}");
        assert!(
            say("RCPT TO:<palaute@nonono.localhost>")
                .await
                .starts_with("250")
        );
        assert!(say("DATA").await.starts_with("354"));
        let accepted =
            say("From: matti@example.fi\r\nSubject: [Elisa] Lasku\r\n\r\nHei.\r\n.").await;
        assert!(accepted.starts_with("250"), "{accepted}");
        let waiting = Mover::open(&intake_path, Store::open(&path).unwrap())
            .unwrap()
            .waiting()
            .unwrap();
        assert_eq!(waiting, 1, "committed before 250");
        assert!(say("QUIT").await.starts_with("221"));
        assert!(session.await.unwrap().unwrap().is_none());
    }
}
