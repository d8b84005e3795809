//! Test harness: starts the real service on ephemeral ports with a temporary data folder, talks
//! real SMTP and HTTP to it, and reads the outbound mail the `file` transport writes.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use nonono::app::{self, Running};
use nonono::config::Config;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The repository's root, where `config/` and `fixtures/` are.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A page without the one address of ours it shows (`tuki+ID@`, where readers add their
/// support): whatever `@` is left would be someone's address.
pub fn without_support_address(page: &str) -> String {
    let mut rest = page;
    let mut out = String::new();
    while let Some(at) = rest.find("tuki+") {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find('<').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A fixture from `fixtures/inbound/`, with `{{name}}` placeholders filled in.
pub fn fixture(name: &str, fill: &[(&str, &str)]) -> Vec<u8> {
    let path = root().join("fixtures/inbound").join(name);
    let mut text =
        String::from_utf8(std::fs::read(&path).expect("fixture")).expect("utf-8 fixture");
    for (key, value) in fill {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    text.into_bytes()
}

/// The embedded default config, moved onto ephemeral ports and a temporary folder.
pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::load(&root().join("config/default.toml")).expect("default config");
    config.data_dir = data_dir.to_owned();
    config.smtp.listen = "127.0.0.1:0".into();
    config.http.listen = "127.0.0.1:0".into();
    config.http.public_url = "https://nonono.test".into();
    config
}

/// Turns the abuse limits off, for tests that send more than a person would.
pub fn no_limits(c: &mut Config) {
    c.limits.new_threads_per_address_per_hour = 0;
    c.limits.new_threads_per_ip_per_hour = 0;
    c.limits.messages_per_pair_per_day = 0;
}

/// A running service and its temporary data folder.
pub struct TestApp {
    pub running: Option<Running>,
    pub dir: tempfile::TempDir,
    pub config: Config,
}

impl TestApp {
    /// Starts the service on the default config.
    pub async fn start() -> TestApp {
        Self::start_with(|_| {}).await
    }

    /// Starts the service after `adjust` has changed the test config.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let running = app::start(config.clone()).await.expect("service starts");
        TestApp {
            running: Some(running),
            dir,
            config,
        }
    }

    /// A store filled through SMTP: a thread with an official answer, a second waiting one, and a hostile one.
    pub async fn filled() -> TestApp {
        let app = TestApp::start().await;
        let (forward, _) = app.new_thread().await;
        app.answer_as_company(&forward).await;
        app.send(
            "liisa@example.fi",
            "elisa@nonono.localhost",
            &fixture("new-feedback-provider-address.eml", &[]),
        )
        .await
        .unwrap();
        app.send(
            "kalle@example.fi",
            "palaute@nonono.localhost",
            &fixture("hostile-markup.eml", &[]),
        )
        .await
        .unwrap();
        app.wait_outbound(7).await;
        app.wait_processed().await;
        app
    }

    /// Sends the tagged feedback fixture from Matti, without waiting for what it brings.
    pub async fn send_feedback(&self) {
        self.send_fixture(
            "matti.meikalainen@example.fi",
            "palaute@nonono.localhost",
            "new-feedback-tagged.eml",
        )
        .await;
    }

    /// Sends the tagged feedback fixture from Matti and returns (the forward to Elisa's
    /// billing route, the acknowledgement to Matti).
    pub async fn new_thread(&self) -> (Outbound, Outbound) {
        let before = self.outbound().len();
        self.send_feedback().await;
        // Both, whatever else the outbox held before or gets meanwhile.
        for _ in 0..400 {
            let out = self.outbound();
            let new = &out[before.min(out.len())..];
            let forward = new.iter().find(|m| m.to.ends_with("@elisa.example"));
            let ack = new.iter().find(|m| m.to == "matti.meikalainen@example.fi");
            if let (Some(forward), Some(ack)) = (forward, ack) {
                return (forward.clone(), ack.clone());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no forward and acknowledgement: {:?}", self.outbound());
    }

    /// Anna of Elisa (a representative) answers `mail` from us, as the official-answer fixture
    /// does, and gets `250`.
    pub async fn answer_as_company(&self, mail: &Outbound) {
        let answer = fixture(
            "provider-reply-official.eml",
            &[("to", &mail.from), ("in_reply_to", &mail.message_id)],
        );
        self.send("anna@elisa.example", &mail.from, &answer)
            .await
            .expect("250 for the company's answer");
    }

    /// Work on the clock at a moment the test chooses: stops the service, runs `work` on its
    /// store with its config and token key, makes what that queued due on the real clock, and
    /// starts the service again so that it goes out.
    pub async fn on_the_clock<T>(
        &mut self,
        work: impl FnOnce(&mut nonono::store::Store, &Config, &nonono::domain::token::TokenKey) -> T,
    ) -> T {
        self.stop().await;
        let key = app::token_key(&self.config).unwrap();
        let mut store = app::open_store(&self.config).unwrap();
        let done = work(&mut store, &self.config, &key);
        store.outbound_retry_now(nonono::clock::now()).unwrap();
        drop(store);
        self.restart(|_| {}).await;
        done
    }

    /// Runs the real `nonono` binary on this app's data folder, with its config file:
    /// (success, stdout, stderr).
    pub fn cli(&self, args: &[&str]) -> (bool, String, String) {
        let config = self.cli_config();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_nonono"))
            .args(args)
            .args(["--config", config.to_str().unwrap()])
            .env("USER", "operaattori")
            .output()
            .expect("run nonono");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// [`TestApp::cli`] that must succeed: its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.cli(args);
        assert!(ok, "nonono {args:?}: {err}");
        out
    }

    /// Registers Acme Oy by the command line (`asiakaspalvelu@acme.example` its route,
    /// `acme.example` and `more` its representatives) and waits until the running service goes
    /// by it.
    pub async fn add_acme(&self, more: &[&str]) {
        let mut args = vec![
            "providers",
            "add",
            "acme",
            "--name",
            "Acme Oy",
            "--route",
            "asiakaspalvelu@acme.example",
            "--representative",
            "acme.example",
        ];
        for r in more {
            args.extend(["--representative", r]);
        }
        self.cli_ok(&args);
        self.registry_seen().await;
    }

    /// Waits until the running service goes by the registry as it is in the store (it looks
    /// every 2 s): `/metrics` says which change it has seen.
    pub async fn registry_seen(&self) {
        let version = self.store().registry_version().unwrap();
        let want = format!("\nnonono_registry_version {version}\n");
        for _ in 0..100 {
            if self.get("/metrics").await.1.contains(&want) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the service never saw registry change {version}");
    }

    /// A config file for the command line: the embedded defaults the app runs on (its
    /// companies too), pointed at this app's data folder.
    pub fn cli_config(&self) -> PathBuf {
        let config = self.dir.path().join("test.toml");
        let defaults = std::fs::read_to_string(root().join("config/default.toml")).unwrap();
        let data_dir = format!("data_dir = {:?}", self.dir.path().to_str().unwrap());
        std::fs::write(
            &config,
            defaults.replacen("data_dir = \"data\"", &data_dir, 1),
        )
        .unwrap();
        config
    }

    /// Stops the service and starts it again on the same data folder (new ports).
    pub async fn restart(&mut self, adjust: impl FnOnce(&mut Config)) {
        self.stop().await;
        adjust(&mut self.config);
        self.running = Some(
            app::start(self.config.clone())
                .await
                .expect("service restarts"),
        );
    }

    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    pub fn smtp_port(&self) -> u16 {
        self.running().smtp_addr.port()
    }

    pub fn http_base(&self) -> String {
        format!("http://{}", self.running().http_addr)
    }

    /// Sends a raw message over SMTP with lettre, as any mail client would.
    pub async fn send(
        &self,
        from: &str,
        to: &str,
        raw: &[u8],
    ) -> Result<(), lettre::transport::smtp::Error> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.smtp_port())
            .timeout(Some(Duration::from_secs(10)))
            .build();
        // "" is the null sender `<>` that bounces use.
        let from = (!from.is_empty()).then(|| from.parse().unwrap());
        let envelope = Envelope::new(from, vec![to.parse().unwrap()]).unwrap();
        transport.send_raw(&envelope, raw).await.map(|_| ())
    }

    /// Sends a fixture from `fixtures/inbound/` as it is, and expects `250`.
    pub async fn send_fixture(&self, from: &str, to: &str, name: &str) {
        self.send(from, to, &fixture(name, &[]))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    /// A raw SMTP conversation, for what lettre will not send.
    pub async fn conversation(&self) -> Conversation {
        Conversation::connect(self.smtp_port()).await
    }

    /// The folder the `file` transport writes to.
    pub fn outbox_dir(&self) -> PathBuf {
        self.config.outbound_dir()
    }

    /// Waits until the outbox folder holds at least `n` messages, and returns them all, in order.
    pub async fn wait_outbound(&self, n: usize) -> Vec<Outbound> {
        for _ in 0..200 {
            let found = self.outbound();
            if found.len() >= n {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "expected {n} outbound messages, found {}",
            self.outbound().len()
        );
    }

    /// Every message the file transport has written so far, in order.
    pub fn outbound(&self) -> Vec<Outbound> {
        let mut paths: Vec<_> = match std::fs::read_dir(self.outbox_dir()) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect(),
            Err(_) => Vec::new(),
        };
        paths.sort();
        paths.iter().map(|p| Outbound::read(p)).collect()
    }

    /// Waits until the pipeline has finished every journal entry.
    pub async fn wait_processed(&self) {
        let store = nonono::store::Store::open_readonly(&app::store_path(&self.config)).unwrap();
        for _ in 0..200 {
            let counts = store.journal_counts().unwrap();
            if !counts.iter().any(|(state, _)| state == "pending") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the pipeline did not finish");
    }

    /// Waits until the pipeline has finished every journal entry and the relay has handed on
    /// all the mail that queued (the file transport takes it at once).
    pub async fn wait_delivered(&self) {
        self.wait_processed().await;
        self.wait_queue(|rows| !rows.iter().any(|row| row.state == "pending"))
            .await;
    }

    /// Waits until the outbox listing (what is not sent yet, and failures) is as `want`s it.
    pub async fn wait_queue(
        &self,
        want: impl Fn(&[nonono::store::QueueRow]) -> bool,
    ) -> Vec<nonono::store::QueueRow> {
        let store = self.store();
        for _ in 0..400 {
            let rows = store.queue_listing().unwrap();
            if want(&rows) {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "queue never reached the expected state: {:?}",
            store.queue_listing().unwrap()
        );
    }

    pub fn store(&self) -> nonono::store::Store {
        nonono::store::Store::open_readonly(&app::store_path(&self.config)).unwrap()
    }

    /// GET a path on the archive: status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        let (status, _, body) = http_get(&self.http_base(), path).await;
        (status, body)
    }
}

/// A minimal HTTP/1.1 GET over a real socket: status, headers (lower-cased names), body.
pub async fn http_get(base: &str, path: &str) -> (u16, Vec<(String, String)>, String) {
    http(base, "GET", path, "").await
}

/// A form POST, as a mail client's one-click unsubscribe sends it (RFC 8058).
pub async fn http_post(base: &str, path: &str, form: &str) -> (u16, Vec<(String, String)>, String) {
    http(base, "POST", path, form).await
}

async fn http(
    base: &str,
    method: &str,
    path: &str,
    form: &str,
) -> (u16, Vec<(String, String)>, String) {
    let host = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).await.expect("http connect");
    let request = if method == "POST" {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
    } else {
        format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
    };
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut raw)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if head.to_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// An outbound message as written by the file transport.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub raw: String,
    /// The envelope sender, from the `Return-Path` the file transport writes.
    pub return_path: String,
    pub from: String,
    pub from_name: String,
    pub reply_to: String,
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub in_reply_to: Vec<String>,
    pub auto_submitted: Option<String>,
    pub text: String,
}

impl Outbound {
    /// The first line a reader sees: the text's first, below our reply marker. A letter of a
    /// thread says there what its subject would have (the subject is the thread's).
    pub fn opening(&self) -> &str {
        self.text
            .lines()
            .find(|l| !l.trim().is_empty() && !l.starts_with("## "))
            .unwrap_or("")
    }

    /// The files it carries: name and decoded bytes.
    pub fn attachments(&self) -> Vec<(String, Vec<u8>)> {
        use mail_parser::MimeHeaders;
        let msg = mail_parser::MessageParser::default()
            .parse(self.raw.as_bytes())
            .expect("outbound parses");
        msg.attachments()
            .map(|a| {
                (
                    a.attachment_name().unwrap_or_default().to_owned(),
                    a.contents().to_vec(),
                )
            })
            .collect()
    }

    /// The text with its lines joined by spaces: a sentence reads whole whatever the wrapping.
    pub fn flat_text(&self) -> String {
        self.text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn read(path: &Path) -> Outbound {
        let raw = std::fs::read(path).unwrap();
        let msg = mail_parser::MessageParser::default()
            .parse(&raw)
            .expect("outbound parses");
        let first = |a: Option<&mail_parser::Address<'_>>| {
            a.and_then(|a| a.first())
                .map(|a| {
                    (
                        a.name().unwrap_or("").to_owned(),
                        a.address().unwrap_or("").to_owned(),
                    )
                })
                .unwrap_or_default()
        };
        let (from_name, from) = first(msg.from());
        let in_reply_to = match msg.in_reply_to() {
            mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
            mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
            _ => Vec::new(),
        };
        Outbound {
            return_path: msg
                .header_raw("Return-Path")
                .unwrap_or("")
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .to_owned(),
            from_name,
            from,
            reply_to: first(msg.reply_to()).1,
            to: first(msg.to()).1,
            subject: msg.subject().unwrap_or("").to_owned(),
            message_id: msg.message_id().unwrap_or("").to_owned(),
            in_reply_to,
            auto_submitted: msg
                .header_raw("Auto-Submitted")
                .map(|v| v.trim().to_owned()),
            text: msg.body_text(0).unwrap_or_default().replace("\r\n", "\n"),
            raw: String::from_utf8_lossy(&raw).into_owned(),
        }
    }
}

/// A line-by-line SMTP client.
pub struct Conversation {
    reader: BufReader<TcpStream>,
}

impl Conversation {
    pub async fn connect(port: u16) -> Conversation {
        Self::connect_from("127.0.0.1".parse().unwrap(), port).await
    }

    /// A conversation from the loopback address `source` (any of 127.0.0.0/8): a client of
    /// its own, as a front MTA sees it.
    pub async fn connect_from(source: std::net::IpAddr, port: u16) -> Conversation {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind((source, 0).into())
            .expect("bind the source address");
        let stream = socket
            .connect(([127, 0, 0, 1], port).into())
            .await
            .expect("smtp connect");
        let mut c = Conversation {
            reader: BufReader::new(stream),
        };
        let greeting = c.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        c
    }

    /// Sends raw bytes without waiting.
    pub async fn write(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.unwrap();
    }

    /// Sends one command line and returns the whole (possibly multi-line) reply.
    pub async fn command(&mut self, line: &str) -> String {
        self.write(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Reads one whole reply.
    pub async fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(10), self.reader.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap();
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return all;
            }
        }
    }
}
pub mod signing;
pub mod sink;
