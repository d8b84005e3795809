//! STARTTLS: offered when a certificate is configured, mail goes through over TLS, and nothing a
//! client pipelined in plain text after STARTTLS survives into the encrypted session.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, fixture, root};
use lettre::address::Envelope;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

async fn tls_app() -> TestApp {
    TestApp::start_with(|c| {
        c.smtp.tls_cert = Some(root().join("fixtures/tls/cert.pem"));
        c.smtp.tls_key = Some(root().join("fixtures/tls/key.pem"));
    })
    .await
}

#[tokio::test]
async fn a_client_that_requires_tls_delivers_feedback() {
    let app = tls_app().await;
    let cert = std::fs::read(root().join("fixtures/tls/ca.pem")).unwrap();
    let tls = TlsParameters::builder("nonono.localhost".into())
        .add_root_certificate(Certificate::from_pem(&cert).unwrap())
        .build_rustls()
        .unwrap();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(app.smtp_port())
        .tls(Tls::Required(tls))
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let envelope = Envelope::new(
        Some("matti.meikalainen@example.fi".parse().unwrap()),
        vec!["palaute@nonono.localhost".parse().unwrap()],
    )
    .unwrap();
    let raw = fixture("new-feedback-tagged.eml", &[]);
    transport.send_raw(&envelope, &raw).await.unwrap();
    let out = app.wait_outbound(2).await;
    assert!(out.iter().any(|m| m.to.ends_with("@elisa.example")));
}

#[tokio::test]
async fn starttls_is_offered_only_with_a_certificate() {
    let plain = TestApp::start().await;
    let mut c = plain.conversation().await;
    assert!(!c.command("EHLO client.example").await.contains("STARTTLS"));
    assert!(c.command("STARTTLS").await.starts_with("502 "));

    let app = tls_app().await;
    let mut c = app.conversation().await;
    assert!(
        c.command("EHLO client.example")
            .await
            .contains("250-STARTTLS")
    );
}

#[tokio::test]
async fn commands_pipelined_before_the_handshake_are_dropped() {
    let app = tls_app().await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", app.smtp_port()))
        .await
        .unwrap();
    let mut plain = BufReader::new(stream);
    let mut line = String::new();
    plain.read_line(&mut line).await.unwrap();
    plain.get_mut().write_all(b"EHLO a\r\n").await.unwrap();
    loop {
        line.clear();
        plain.read_line(&mut line).await.unwrap();
        if line.starts_with("250 ") {
            break;
        }
    }
    // An attacker in the path appends a command to the client's STARTTLS.
    plain
        .get_mut()
        .write_all(b"STARTTLS\r\nRSET\r\n")
        .await
        .unwrap();
    line.clear();
    plain.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("220 "), "{line}");

    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(root().join("fixtures/tls/ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let stream = plain.into_inner();
    let mut tls = TlsConnector::from(Arc::new(client))
        .connect(ServerName::try_from("nonono.localhost").unwrap(), stream)
        .await
        .expect("TLS handshake");
    tls.write_all(b"NOOP\r\n").await.unwrap();
    let mut reply = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut reply))
        .await
        .unwrap()
        .unwrap();
    let reply = String::from_utf8_lossy(&reply[..n]);
    // The first answer inside TLS is the NOOP's: the injected RSET was never read.
    assert_eq!(reply, "250 2.0.0 OK\r\n");
}
