//! SMTP delivery to the smarthost over a cache of open connections.
//!
//! The client is ours, a few commands over tokio: it pipelines the envelope and `DATA` when the
//! server offers PIPELINING (RFC 2920) and writes a message with its final `.` in one write, so
//! a delivery is two round trips and two segments, where lettre's took five of each (and its
//! pool asked NOOP before every reuse). Like Postfix's connection cache, a connection that
//! worked goes back for the next delivery; one that sat idle is checked first, one that failed
//! is dropped, and a message that failed on a cached connection without an answer is tried once
//! on a new one.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::retry::Delivery;
use super::tls::{Credentials, Security, Stream};
use crate::config::OutboundTls;

/// Longest wait for the smarthost at any step of a delivery.
const TIMEOUT: Duration = Duration::from_secs(60);
/// A cached connection idle for longer is asked NOOP before it is trusted with a message.
const CHECK_AFTER: Duration = Duration::from_secs(2);
/// A cached connection idle for longer is closed (servers drop idle clients after a while).
const IDLE_LIMIT: Duration = Duration::from_secs(30);
/// Longest reply line we read (RFC 5321 allows 512; servers write longer texts).
const REPLY_LINE: usize = 4096;
/// Most lines of one reply: a real EHLO reply has a dozen; an endless one would fill memory
/// (before STARTTLS, anyone on the way could send it).
const REPLY_LINES: usize = 100;
/// Most of a server's words kept with a delivery's outcome, in the queue and in notices.
const TOLD: usize = 1000;

/// One envelope: a sender (empty for the null sender `<>`) and a recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    from: String,
    to: String,
    /// An address has letters beyond ASCII: only a server that offers SMTPUTF8 takes it.
    smtputf8: bool,
    /// Ask for delivery status notifications, of success too, under this envelope id.
    report: Option<String>,
}

impl Envelope {
    /// The envelope of a delivery, its addresses checked: they go into SMTP commands as they
    /// are.
    pub fn new(from: &str, to: &str) -> Result<Envelope, String> {
        use crate::mail::write::{is_address, needs_smtputf8};
        if !from.is_empty() && !is_address(from) {
            return Err(format!("sender address {from:?} cannot be used in SMTP"));
        }
        if !is_address(to) {
            return Err(format!("recipient address {to:?} cannot be used in SMTP"));
        }
        Ok(Envelope {
            from: from.to_owned(),
            to: to.to_owned(),
            smtputf8: needs_smtputf8(from) || needs_smtputf8(to),
            report: None,
        })
    }

    /// Asks for delivery status notifications (RFC 3461) where the smarthost offers DSN: of
    /// the delivery as well as of a failure, so that the receiving server's acceptance can
    /// be shown. `envid` tells the reports apart; it is ours, letters, digits and `-`.
    pub fn with_delivery_report(self, envid: &str) -> Envelope {
        let usable = !envid.is_empty()
            && envid.len() <= 100
            && envid
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        Envelope {
            report: usable.then(|| envid.to_owned()),
            ..self
        }
    }
}

/// RFC 3461's xtext: `+` and `=`, and what is not printable ASCII, as `+XX`.
fn xtext(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'+' && b != b'=' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("+{b:02X}"));
        }
    }
    out
}

/// A reply from the server: its code and its text, lines joined.
struct Reply {
    code: u16,
    text: String,
}

impl Reply {
    fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// Why a delivery on one connection did not end in `250`.
enum Failure {
    /// The server answered no: the message, not the connection, is at fault.
    Refused(Reply),
    /// The connection broke, the server did not speak SMTP, or it is closing the connection
    /// (421), before it answered the message.
    Lost(String),
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Lost(format!("connection to the smarthost: {e}"))
    }
}

/// One open SMTP session with the smarthost.
struct Connection {
    stream: BufReader<Stream>,
    /// The server said PIPELINING in its EHLO reply.
    pipelining: bool,
    /// The server said SMTPUTF8 in its EHLO reply (RFC 6531).
    smtputf8: bool,
    /// The server said DSN in its EHLO reply (RFC 3461).
    dsn: bool,
}

/// The keywords of an EHLO reply, one a line (`PIPELINING`, `AUTH PLAIN LOGIN`); none after
/// HELO.
struct Extensions(Vec<String>);

impl Extensions {
    fn offers(&self, keyword: &str) -> bool {
        self.0.iter().any(|line| line.eq_ignore_ascii_case(keyword))
    }

    /// The AUTH mechanisms offered, upper case (`AUTH PLAIN LOGIN`, or the old `AUTH=LOGIN`).
    fn auth(&self) -> Vec<String> {
        self.0
            .iter()
            .filter_map(|line| {
                let head = line.get(..5)?;
                (head.eq_ignore_ascii_case("AUTH ") || head.eq_ignore_ascii_case("AUTH="))
                    .then(|| line[5..].to_ascii_uppercase())
            })
            .flat_map(|rest| {
                rest.split_whitespace()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

impl Connection {
    /// Connects, secures the connection as configured (TLS first, or STARTTLS after EHLO),
    /// greets (HELO if EHLO is refused) and authenticates.
    async fn open(addr: &str, hello: &str, security: &Security) -> Result<Connection, Failure> {
        let tcp = TcpStream::connect(addr)
            .await
            .map_err(|e| Failure::Lost(format!("connecting to the smarthost {addr}: {e}")))?;
        // Every write is a whole step of the dialogue: nothing to gain from Nagle's delay.
        tcp.set_nodelay(true)?;
        let tls_failed =
            |e: std::io::Error| Failure::Lost(format!("TLS with the smarthost {addr}: {e}"));
        let stream = if security.mode == OutboundTls::Implicit {
            security.handshake(tcp).await.map_err(tls_failed)?
        } else {
            Stream::Plain(tcp)
        };
        let mut conn = Connection {
            stream: BufReader::new(stream),
            pipelining: false,
            smtputf8: false,
            dsn: false,
        };
        let greeting = conn.reply().await?;
        if greeting.code != 220 {
            return Err(Failure::Lost(format!(
                "greeting the smarthost {addr}: {greeting}"
            )));
        }
        let mut extensions = conn.hello(addr, hello).await?;
        if security.mode == OutboundTls::Starttls {
            if !extensions.offers("STARTTLS") {
                return Err(Failure::Lost(format!(
                    "the smarthost {addr} does not offer STARTTLS, which outbound.tls asks for; nothing was sent to it in the clear"
                )));
            }
            let reply = conn.command("STARTTLS\r\n").await?;
            if reply.code != 220 {
                return Err(Failure::Lost(format!(
                    "the smarthost {addr} refused STARTTLS: {reply}"
                )));
            }
            // What came after its "go ahead" was sent in the clear by anyone on the way, to
            // be read as if over TLS (CVE-2011-0411): nothing may have.
            if !conn.stream.buffer().is_empty() {
                return Err(Failure::Lost(format!(
                    "the smarthost {addr} sent more after agreeing to STARTTLS; the connection was dropped"
                )));
            }
            let Stream::Plain(tcp) = conn.stream.into_inner() else {
                unreachable!("STARTTLS is said in the clear")
            };
            conn.stream = BufReader::new(security.handshake(tcp).await.map_err(tls_failed)?);
            extensions = conn.hello(addr, hello).await?;
        }
        if let Some(credentials) = &security.credentials {
            conn.authenticate(addr, credentials, &extensions).await?;
        }
        Ok(conn)
    }

    /// Says EHLO (HELO if EHLO is refused), and learns what the server offers.
    async fn hello(&mut self, addr: &str, hello: &str) -> Result<Extensions, Failure> {
        let ehlo = self.command(&format!("EHLO {hello}\r\n")).await?;
        if ehlo.code != 250 {
            let helo = self.command(&format!("HELO {hello}\r\n")).await?;
            if helo.code != 250 {
                return Err(Failure::Lost(format!(
                    "greeting the smarthost {addr}: {helo}"
                )));
            }
            self.pipelining = false;
            self.smtputf8 = false;
            self.dsn = false;
            return Ok(Extensions(Vec::new()));
        }
        // The first line is the server's name, the others its extensions.
        let extensions = Extensions(
            ehlo.text
                .split('\n')
                .skip(1)
                .map(|line| line.trim().to_owned())
                .collect(),
        );
        self.pipelining = extensions.offers("PIPELINING");
        self.smtputf8 = extensions.offers("SMTPUTF8");
        self.dsn = extensions.offers("DSN");
        Ok(extensions)
    }

    /// AUTH PLAIN, or LOGIN when that is all the server offers. A refusal is temporary, as
    /// Postfix holds it: the mail waits while the operator fixes the password.
    async fn authenticate(
        &mut self,
        addr: &str,
        credentials: &Credentials,
        extensions: &Extensions,
    ) -> Result<(), Failure> {
        let offered = extensions.auth();
        let reply = if offered.iter().any(|m| m == "PLAIN") {
            self.command(&format!("AUTH PLAIN {}\r\n", credentials.plain()))
                .await?
        } else if offered.iter().any(|m| m == "LOGIN") {
            let [user, password] = credentials.login();
            let mut reply = self.command("AUTH LOGIN\r\n").await?;
            for answer in [user, password] {
                if reply.code != 334 {
                    break;
                }
                reply = self.command(&format!("{answer}\r\n")).await?;
            }
            reply
        } else {
            return Err(Failure::Lost(format!(
                "the smarthost {addr} offers no AUTH we speak (PLAIN, LOGIN){}",
                if offered.is_empty() {
                    String::from(": it offers none (not before TLS, perhaps)")
                } else {
                    format!(": it offers {}", offered.join(" "))
                }
            )));
        };
        if reply.code == 235 {
            Ok(())
        } else {
            Err(Failure::Lost(format!(
                "the smarthost {addr} did not take our login as {}: {reply}",
                credentials.user()
            )))
        }
    }

    /// Writes `command` and reads its reply.
    async fn command(&mut self, command: &str) -> Result<Reply, Failure> {
        self.stream.get_mut().write_all(command.as_bytes()).await?;
        self.reply().await
    }

    /// Reads one reply, all its lines.
    async fn reply(&mut self) -> Result<Reply, Failure> {
        let mut text = String::new();
        let mut line = Vec::new();
        for _ in 0..REPLY_LINES {
            line.clear();
            let read = (&mut self.stream)
                .take(REPLY_LINE as u64)
                .read_until(b'\n', &mut line)
                .await?;
            if read == 0 {
                return Err(Failure::Lost("the smarthost closed the connection".into()));
            }
            // What the server says reaches the queue listing, logs and notices: no control
            // characters (a terminal would obey them).
            let line: String = String::from_utf8_lossy(&line)
                .trim_end()
                .chars()
                .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
                .collect();
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| {
                    let shown: String = line.chars().take(200).collect();
                    Failure::Lost(format!("the smarthost answered {shown:?}"))
                })?;
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(line.get(4..).unwrap_or(""));
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply { code, text });
            }
        }
        Err(Failure::Lost(format!(
            "the smarthost's reply went on past {REPLY_LINES} lines"
        )))
    }

    /// Sends one message: the envelope and `DATA` in one write when the server pipelines,
    /// then the message and its final dot in another.
    async fn send(&mut self, envelope: &Envelope, raw: &[u8]) -> Result<(), Failure> {
        let mut parameters = String::new();
        let mut recipient = String::new();
        if envelope.smtputf8 {
            if !self.smtputf8 {
                // Postfix's words for the same case: there is no form of the address a hop
                // without RFC 6531 takes, and asking again will not change it.
                return Err(Failure::Refused(Reply {
                    code: 553,
                    text: "5.6.7 SMTPUTF8 is required for an address beyond ASCII, but the smarthost does not offer it".into(),
                }));
            }
            parameters.push_str(" SMTPUTF8");
        }
        if let Some(envid) = envelope.report.as_deref().filter(|_| self.dsn) {
            parameters.push_str(&format!(" RET=HDRS ENVID={envid}"));
            recipient.push_str(" NOTIFY=SUCCESS,FAILURE");
            // The original recipient, as the report will name it (RFC 3461 4.2); an address
            // beyond ASCII would need RFC 6533's form, and goes without.
            if envelope.to.is_ascii() {
                recipient.push_str(&format!(" ORCPT=rfc822;{}", xtext(&envelope.to)));
            }
        }
        let commands = [
            format!("MAIL FROM:<{}>{parameters}\r\n", envelope.from),
            format!("RCPT TO:<{}>{recipient}\r\n", envelope.to),
            "DATA\r\n".to_owned(),
        ];
        let mut replies = Vec::with_capacity(3);
        if self.pipelining {
            self.stream
                .get_mut()
                .write_all(commands.concat().as_bytes())
                .await?;
            for _ in &commands {
                replies.push(self.reply().await?);
            }
        } else {
            for command in &commands {
                let reply = self.command(command).await?;
                let refused = !reply.is_positive();
                replies.push(reply);
                if refused {
                    break;
                }
            }
        }
        if let Some(i) = replies.iter().position(|r| !r.is_positive()) {
            // A pipelining server may take DATA all the same: end it empty (RFC 2920 §3.1).
            if replies.get(2).is_some_and(|data| data.code == 354) {
                self.command(".\r\n").await?;
            }
            return Err(refused(replies.swap_remove(i)));
        }
        if replies[2].code != 354 {
            return Err(refused(replies.swap_remove(2)));
        }
        self.stream.get_mut().write_all(&dot_stuffed(raw)).await?;
        let reply = self.reply().await?;
        if reply.code / 100 == 2 {
            Ok(())
        } else {
            Err(refused(reply))
        }
    }
}

/// A refusal, but 421: the server is closing the connection, so the message may go on another.
fn refused(reply: Reply) -> Failure {
    if reply.code == 421 {
        Failure::Lost(reply.to_string())
    } else {
        Failure::Refused(reply)
    }
}

/// The message as `DATA` carries it (RFC 5321 §4.5.2): a line that starts with a dot gets
/// another, and it ends with CRLF and the final `.` line.
fn dot_stuffed(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 64 + 8);
    let mut line_start = true;
    for &b in raw {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !raw.is_empty() && !raw.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Whether the next hop takes addresses beyond ASCII (RFC 6531): not known until the smarthost
/// has greeted us. The receiver reads it to refuse, with a sentence, a writer we could never
/// write back to.
#[derive(Debug, Default)]
pub struct Utf8Reach(AtomicU8);

impl Utf8Reach {
    const OFFERED: u8 = 1;
    const NOT_OFFERED: u8 = 2;

    /// A hop that takes every address (the file transport).
    pub fn everywhere() -> Utf8Reach {
        Utf8Reach(AtomicU8::new(Self::OFFERED))
    }

    /// What the smarthost's latest EHLO reply said.
    pub fn learned(&self, offered: bool) {
        let value = if offered {
            Self::OFFERED
        } else {
            Self::NOT_OFFERED
        };
        self.0.store(value, Ordering::Relaxed);
    }

    /// The smarthost said it does not take such addresses.
    pub fn refused(&self) -> bool {
        self.0.load(Ordering::Relaxed) == Self::NOT_OFFERED
    }
}

/// The smarthost and the connections open to it.
pub struct Smarthost {
    addr: String,
    hello: String,
    security: Security,
    /// Whether it takes addresses beyond ASCII, as its last EHLO reply said.
    reach: Arc<Utf8Reach>,
    /// Connections not in use, with when each was last used. At most `keep` of them.
    idle: Mutex<Vec<(Connection, Instant)>>,
    keep: usize,
}

impl Smarthost {
    /// A smarthost at `host:port`, greeted as `hello`, keeping up to `keep` connections open.
    pub fn new(host: &str, port: u16, hello: &str, keep: usize) -> Smarthost {
        // `[192.0.2.1]`, as Postfix writes a host not to be looked up in MX, is the address.
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addr = if host.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Smarthost {
            addr,
            hello: hello.to_owned(),
            security: Security::none(),
            reach: Arc::new(Utf8Reach::default()),
            idle: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// The same smarthost, reached over TLS and with a login as `security` says.
    pub fn secured(self, security: Security) -> Smarthost {
        Smarthost { security, ..self }
    }

    /// One delivery attempt of `raw` to the envelope's recipient.
    pub async fn deliver(&self, envelope: &Envelope, raw: &[u8]) -> Delivery {
        let attempt = async {
            if let Some(conn) = self.cached().await {
                match self.send(conn, envelope, raw).await {
                    // The server closed the cached connection meanwhile: that says nothing
                    // about the message, which goes out on a new connection.
                    Err(Failure::Lost(_)) => {}
                    outcome => return outcome,
                }
            }
            let conn = self.open().await?;
            self.send(conn, envelope, raw).await
        };
        match tokio::time::timeout(TIMEOUT, attempt).await {
            Ok(Ok(())) => Delivery::Sent,
            // 530: the smarthost wants a login we did not give. That is ours to fix, not the
            // message's fault: it waits, as after a refused login.
            Ok(Err(Failure::Refused(reply))) if reply.code >= 500 && reply.code != 530 => {
                Delivery::Permanent(self.told(&reply.to_string()))
            }
            Ok(Err(Failure::Refused(reply))) => Delivery::Temporary(self.told(&reply.to_string())),
            Ok(Err(Failure::Lost(e))) => Delivery::Temporary(self.told(&e)),
            Err(_) => Delivery::Temporary(format!(
                "the smarthost {} did not answer within {} s",
                self.addr,
                TIMEOUT.as_secs()
            )),
        }
    }

    /// What a server said, as it is kept: our credentials hidden, should it have repeated our
    /// AUTH line, and at most [`TOLD`] characters.
    fn told(&self, text: &str) -> String {
        let text = self.security.hide_credentials(text);
        match text.char_indices().nth(TOLD) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }

    /// What the smarthost said of SMTPUTF8 when last asked.
    pub fn utf8_reach(&self) -> Arc<Utf8Reach> {
        self.reach.clone()
    }

    /// Connects and greets, so the receiver knows before the first delivery whether the
    /// smarthost takes addresses beyond ASCII; the connection is kept for that delivery.
    pub async fn probe(&self) {
        match tokio::time::timeout(TIMEOUT, self.open()).await {
            Ok(Ok(conn)) => self.keep_idle(conn),
            Ok(Err(Failure::Lost(e) | Failure::Refused(Reply { text: e, .. }))) => {
                let e = self.told(&e);
                tracing::warn!("relay: the smarthost did not answer a first greeting: {e}");
            }
            Err(_) => tracing::warn!("relay: the smarthost {} did not greet in time", self.addr),
        }
    }

    /// A new connection, and what it offers learned.
    async fn open(&self) -> Result<Connection, Failure> {
        let conn = Connection::open(&self.addr, &self.hello, &self.security).await?;
        self.reach.learned(conn.smtputf8);
        Ok(conn)
    }

    /// Keeps `conn` for a later delivery, if there is room.
    fn keep_idle(&self, conn: Connection) {
        let mut idle = self.idle.lock().expect("smarthost connections");
        if idle.len() < self.keep {
            idle.push((conn, Instant::now()));
        }
    }

    /// Sends on `conn`, and keeps it for the next delivery if it worked.
    async fn send(
        &self,
        mut conn: Connection,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<(), Failure> {
        conn.send(envelope, raw).await?;
        self.keep_idle(conn);
        Ok(())
    }

    /// A cached connection that still answers, if there is one.
    async fn cached(&self) -> Option<Connection> {
        loop {
            let (mut conn, since) = {
                let mut idle = self.idle.lock().expect("smarthost connections");
                idle.retain(|(_, since)| since.elapsed() < IDLE_LIMIT);
                idle.pop()?
            };
            if since.elapsed() < CHECK_AFTER
                || conn
                    .command("NOOP\r\n")
                    .await
                    .is_ok_and(|reply| reply.code == 250)
            {
                return Some(conn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_say_what_the_server_offers_and_its_auth_mechanisms() {
        let ehlo = Extensions(
            [
                "PIPELINING",
                "auth plain LOGIN",
                "AUTH=CRAM-MD5",
                "STARTTLS",
                "AUTHX Y",
            ]
            .map(str::to_owned)
            .to_vec(),
        );
        assert!(ehlo.offers("starttls") && ehlo.offers("PIPELINING"));
        assert!(!ehlo.offers("SMTPUTF8"));
        assert_eq!(ehlo.auth(), ["PLAIN", "LOGIN", "CRAM-MD5"]);
        assert!(Extensions(Vec::new()).auth().is_empty());
    }

    /// A server whose EHLO reply never ends (before STARTTLS, anyone on the way could send
    /// it) costs a hundred lines, not the machine's memory; a server that repeats our login
    /// has it hidden.
    #[tokio::test]
    async fn an_endless_reply_is_cut_off() {
        use tokio::io::AsyncWriteExt as _;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.write_all(b"220 hostile\r\n").await.unwrap();
            let line = format!("250-{}\r\n", "x".repeat(1000));
            while s.write_all(line.as_bytes()).await.is_ok() {}
        });
        let smarthost = Smarthost::new("[127.0.0.1]", port, "nonono.localhost", 1);
        let to = Envelope::new("", "a@b.fi").unwrap();
        match smarthost.deliver(&to, b"x").await {
            Delivery::Temporary(e) => assert!(e.contains("past 100 lines"), "{e}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn data_is_dot_stuffed_and_ended() {
        assert_eq!(
            dot_stuffed(b".a\r\nb\r\n..c\r\n"),
            b"..a\r\nb\r\n...c\r\n.\r\n".to_vec()
        );
        assert_eq!(dot_stuffed(b"no end"), b"no end\r\n.\r\n".to_vec());
    }

    #[test]
    fn envelope_addresses_cannot_carry_commands() {
        assert!(Envelope::new("", "a@b.fi").is_ok(), "the null sender");
        assert!(Envelope::new("b+1@gw.example", "a@b.fi").is_ok());
        assert!(Envelope::new("x@y.fi>\r\nRCPT TO:<c@d.fi", "a@b.fi").is_err());
        assert!(Envelope::new("", "a@b.fi> NOTIFY=NEVER").is_err());
        assert!(Envelope::new("", "jyrki.mäkelä@b.fi\u{2028}RCPT").is_err());
        let utf8 = Envelope::new("b+1@gw.example", "jyrki.mäkelä@esimerkki.fi").unwrap();
        assert!(utf8.smtputf8);
        assert!(!Envelope::new("", "a@b.fi").unwrap().smtputf8);
    }
}
