//! A real SMTP server for outbound tests: records what it is sent, and answers what it is told.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: String,
    /// MAIL FROM carried the SMTPUTF8 parameter (RFC 6531).
    pub smtputf8: bool,
    /// What followed the address in MAIL FROM and in (the last) RCPT TO, as sent.
    pub mail_parameters: String,
    pub rcpt_parameters: String,
}

/// The sink's state, shared with the test.
#[derive(Default)]
pub struct SinkState {
    /// The reply to the end of DATA, such as "250 2.0.0 OK" or "451 4.3.0 Try later".
    pub data_reply: Mutex<String>,
    /// How long to wait before answering the end of DATA: a slow smarthost.
    pub delay: Mutex<std::time::Duration>,
    pub received: Mutex<Vec<Received>>,
    /// Connections accepted so far.
    pub connections: std::sync::atomic::AtomicUsize,
    /// Close each connection right after answering a message, without a word: a server that
    /// dropped an idle client.
    pub hang_up_after_message: std::sync::atomic::AtomicBool,
    /// Leave PIPELINING out of the EHLO reply, as an older server would; a client that sends
    /// a command before the last one's reply then gets "503 pipelining not offered".
    pub no_pipelining: std::sync::atomic::AtomicBool,
    /// Leave SMTPUTF8 out of the EHLO reply, as a server without RFC 6531 support would: an
    /// address beyond ASCII is then refused, as Postfix refuses it.
    pub no_smtputf8: std::sync::atomic::AtomicBool,
    /// Leave DSN out of the EHLO reply (RFC 3461), as a smarthost that sends no reports would.
    pub no_dsn: std::sync::atomic::AtomicBool,
}

/// A running sink.
pub struct Sink {
    pub port: u16,
    pub state: Arc<SinkState>,
}

impl Sink {
    pub async fn start(data_reply: &str) -> Sink {
        Self::start_on(0, data_reply).await
    }

    /// A sink on a given port (0: any free one), such as one a test kept free while the
    /// smarthost was "down".
    pub async fn start_on(port: u16, data_reply: &str) -> Sink {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(SinkState::default());
        *state.data_reply.lock().unwrap() = data_reply.to_owned();
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = shared.clone();
                state.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = session(stream, state).await;
                });
            }
        });
        Sink { port, state }
    }

    pub fn set_delay(&self, delay: std::time::Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    pub fn set_reply(&self, reply: &str) {
        *self.state.data_reply.lock().unwrap() = reply.to_owned();
    }

    pub fn set_hang_up_after_message(&self, hang_up: bool) {
        self.state
            .hang_up_after_message
            .store(hang_up, Ordering::SeqCst);
    }

    pub fn set_pipelining(&self, offered: bool) {
        self.state.no_pipelining.store(!offered, Ordering::SeqCst);
    }

    pub fn set_smtputf8(&self, offered: bool) {
        self.state.no_smtputf8.store(!offered, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages were accepted.
    pub async fn wait(&self, n: usize) -> Vec<Received> {
        for _ in 0..400 {
            if self.received().len() >= n {
                return self.received();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("sink: expected {n} messages, got {}", self.received().len());
    }
}

async fn session(stream: tokio::net::TcpStream, state: Arc<SinkState>) -> std::io::Result<()> {
    let mut s = BufReader::new(stream);
    s.get_mut().write_all(b"220 sink ESMTP\r\n").await?;
    let (mut from, mut to, mut smtputf8) = (String::new(), Vec::new(), false);
    let (mut mail_parameters, mut rcpt_parameters) = (String::new(), String::new());
    let mut line = String::new();
    loop {
        line.clear();
        if s.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.to_ascii_uppercase();
        let pipelining = !state.no_pipelining.load(Ordering::SeqCst);
        let offers_utf8 = !state.no_smtputf8.load(Ordering::SeqCst);
        let reply = if !pipelining && !s.buffer().is_empty() {
            "503 5.5.0 pipelining not offered\r\n".to_owned()
        } else if upper.starts_with("EHLO") {
            let mut ehlo = "250-sink\r\n".to_owned();
            if pipelining {
                ehlo.push_str("250-PIPELINING\r\n");
            }
            if offers_utf8 {
                ehlo.push_str("250-SMTPUTF8\r\n");
            }
            if !state.no_dsn.load(Ordering::SeqCst) {
                ehlo.push_str("250-DSN\r\n");
            }
            ehlo + "250 8BITMIME\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            let asked = upper.split_whitespace().any(|p| p == "SMTPUTF8");
            if asked && !offers_utf8 {
                "555 5.5.4 SMTPUTF8 not offered\r\n".into()
            } else if !asked && !addr(&line).is_ascii() {
                "553 5.6.7 SMTPUTF8 is required for this address\r\n".into()
            } else {
                from = addr(&line);
                to.clear();
                smtputf8 = asked;
                mail_parameters = parameters(&line);
                "250 OK\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            if !smtputf8 && !addr(&line).is_ascii() {
                "553 5.6.7 SMTPUTF8 is required for this address\r\n".into()
            } else {
                to.push(addr(&line));
                rcpt_parameters = parameters(&line);
                "250 OK\r\n".into()
            }
        } else if upper.starts_with("DATA") {
            s.get_mut().write_all(b"354 go\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if s.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(&line);
            }
            let delay = *state.delay.lock().unwrap();
            tokio::time::sleep(delay).await;
            let reply = state.data_reply.lock().unwrap().clone();
            if reply.starts_with('2') {
                state.received.lock().unwrap().push(Received {
                    mail_from: from.clone(),
                    rcpt_to: to.clone(),
                    data,
                    smtputf8,
                    mail_parameters: mail_parameters.clone(),
                    rcpt_parameters: rcpt_parameters.clone(),
                });
            }
            if state.hang_up_after_message.load(Ordering::SeqCst) {
                s.get_mut()
                    .write_all(format!("{reply}\r\n").as_bytes())
                    .await?;
                return Ok(());
            }
            format!("{reply}\r\n")
        } else if upper.starts_with("QUIT") {
            s.get_mut().write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "250 OK\r\n".into()
        };
        s.get_mut().write_all(reply.as_bytes()).await?;
    }
}

/// What follows the `<address>` of a MAIL or RCPT command.
fn parameters(line: &str) -> String {
    line.split_once('>')
        .map_or("", |(_, rest)| rest)
        .trim()
        .to_owned()
}

fn addr(line: &str) -> String {
    line.split_once('<')
        .and_then(|(_, r)| r.split_once('>'))
        .map(|(a, _)| a.to_owned())
        .unwrap_or_default()
}
