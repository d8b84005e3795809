//! Delivery through a smarthost that demands TLS and a login, as hosted ones do (Amazon SES
//! requires TLS; Mailgun, Postmark and Microsoft 365 require AUTH). The smarthost is aiosmtpd
//! (PyPI, installed by `.ci/run`), software we did not write, serving `fixtures/tls/`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use common::sink::Sink;
use common::{TestApp, root};
use nonono::config::{Config, OutboundTls, Transport};

const USER: &str = "nonono";
const PASSWORD: &str = "kissanhäntä-42";

/// aiosmtpd on a free port, demanding TLS (`starttls` or `implicit`) and our login.
struct Smarthost {
    child: Child,
    port: u16,
    out: tempfile::TempDir,
}

impl Smarthost {
    fn start(tls: &str) -> Smarthost {
        let out = tempfile::tempdir().unwrap();
        let fixture = |name: &str| root().join("fixtures/tls").join(name);
        let mut child = Command::new("python3")
            .arg(root().join("tests/verify/smarthost.py"))
            .arg(out.path())
            .args(["--tls", tls, "--user", USER, "--password", PASSWORD])
            .arg("--cert")
            .arg(fixture("cert.pem"))
            .arg("--key")
            .arg(fixture("key.pem"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let Some(port) = first.strip_prefix("listening ") else {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("aiosmtpd did not start (python3 -m pip install aiosmtpd): {err}");
        };
        Smarthost {
            port: port.trim().parse().unwrap(),
            child,
            out,
        }
    }

    /// The envelopes it kept: whether each came over TLS and whose login sent it.
    async fn wait(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..400 {
            let kept = kept(self.out.path());
            if kept.len() >= n {
                return kept;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!(
            "aiosmtpd kept {} messages, not {n}",
            kept(self.out.path()).len()
        );
    }
}

impl Drop for Smarthost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kept(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

/// The service delivering to 127.0.0.1:`port` with `tls`, trusting the fixture CA and logging
/// in with the password from a file; `adjust` changes more.
async fn app(port: u16, tls: OutboundTls, adjust: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::start_with(move |c| {
        c.outbound.transport = Transport::Smtp;
        c.outbound.smtp_host = "127.0.0.1".into();
        c.outbound.smtp_port = port;
        c.outbound.tls = tls;
        c.outbound.tls_ca = Some(root().join("fixtures/tls/ca.pem"));
        c.outbound.auth_user = Some(USER.into());
        std::fs::write(c.data_dir.join("smtp-password"), format!("{PASSWORD}\n")).unwrap();
        c.outbound.auth_password_file = Some("smtp-password".into());
        adjust(c);
    })
    .await
}

fn assert_sent_securely(kept: &[serde_json::Value]) {
    for m in kept {
        assert_eq!(m["tls"], true, "{m}");
        assert_eq!(m["authenticated"], true, "{m}");
        assert_eq!(m["login"], USER, "{m}");
    }
}

/// The first delivery error the queue shows, once there is one.
async fn first_error(app: &TestApp) -> String {
    let rows = app
        .wait_queue(|rows| rows.iter().any(|r| r.last_error.is_some()))
        .await;
    rows.into_iter().find_map(|r| r.last_error).unwrap()
}

#[tokio::test]
async fn mail_goes_over_starttls_with_a_login() {
    let smarthost = Smarthost::start("starttls");
    let app = app(smarthost.port, OutboundTls::Starttls, |_| {}).await;
    app.send_feedback().await;
    let kept = smarthost.wait(2).await;
    assert_sent_securely(&kept);
    assert!(
        kept.iter()
            .any(|m| m["rcpt_to"][0] == "laskutus@elisa.example"),
        "{kept:?}"
    );
}

#[tokio::test]
async fn mail_goes_over_implicit_tls_with_a_login() {
    let smarthost = Smarthost::start("implicit");
    let app = app(smarthost.port, OutboundTls::Implicit, |_| {}).await;
    app.send_feedback().await;
    assert_sent_securely(&smarthost.wait(2).await);
}

/// A wrong password keeps the mail waiting (as Postfix holds it) and says whose login failed,
/// never the password.
#[tokio::test]
async fn a_refused_login_keeps_the_mail_and_never_shows_the_password() {
    let smarthost = Smarthost::start("starttls");
    let app = app(smarthost.port, OutboundTls::Starttls, |c| {
        std::fs::write(c.data_dir.join("smtp-password"), "wrong\n").unwrap();
    })
    .await;
    app.send_feedback().await;
    let error = first_error(&app).await;
    assert!(
        error.contains("did not take our login as nonono"),
        "{error}"
    );
    assert!(
        !error.contains("wrong") && !error.contains(PASSWORD),
        "{error}"
    );
    assert!(kept(smarthost.out.path()).is_empty());
    let rows = app.store().queue_listing().unwrap();
    assert!(rows.iter().all(|r| r.state == "pending"), "{rows:?}");
}

/// A certificate no trusted CA signed is refused, and nothing is sent; `tls_verify = false`
/// takes it, for a smarthost on a network the operator trusts.
#[tokio::test]
async fn an_unknown_certificate_is_refused_unless_verification_is_off() {
    let smarthost = Smarthost::start("starttls");
    let refusing = app(smarthost.port, OutboundTls::Starttls, |c| {
        c.outbound.tls_ca = None;
    })
    .await;
    refusing.send_feedback().await;
    let error = first_error(&refusing).await;
    assert!(
        error.contains("TLS with the smarthost") && error.contains("certificate"),
        "{error}"
    );
    assert!(kept(smarthost.out.path()).is_empty());
    drop(refusing);

    let trusting = app(smarthost.port, OutboundTls::Starttls, |c| {
        c.outbound.tls_ca = None;
        c.outbound.tls_verify = false;
    })
    .await;
    trusting.send_feedback().await;
    assert_sent_securely(&smarthost.wait(2).await);
}

/// A smarthost that does not offer STARTTLS when it is asked for gets nothing in the clear.
#[tokio::test]
async fn without_starttls_offered_nothing_is_sent_in_the_clear() {
    let sink = Sink::start("250 2.0.0 OK").await;
    let app = app(sink.port, OutboundTls::Starttls, |_| {}).await;
    app.send_feedback().await;
    let error = first_error(&app).await;
    assert!(error.contains("does not offer STARTTLS"), "{error}");
    assert!(sink.received().is_empty());
}

/// A password file that cannot be read stops the start with a sentence that names the key.
#[tokio::test]
async fn a_missing_password_file_is_named_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    config.outbound.transport = Transport::Smtp;
    config.outbound.tls = OutboundTls::Starttls;
    config.outbound.auth_user = Some(USER.into());
    config.outbound.auth_password_file = Some("missing".into());
    let Err(e) = nonono::app::start(config).await else {
        panic!("started without its password");
    };
    assert!(
        e.to_string().starts_with("outbound.auth_password_file"),
        "{e}"
    );
}
