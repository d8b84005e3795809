//! Email addresses never reach the logs at info level, over the whole loop and a failing
//! smarthost. This binary owns the global log subscriber, so it holds this one test only.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::TestApp;
use common::sink::Sink;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_address_is_logged_at_info_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let sink = Sink::start("550 5.1.1 <laskutus@elisa.example>: Recipient address rejected").await;
    let port = sink.port;
    let mut app = TestApp::start_with(move |c| {
        c.outbound.transport = nonono::config::Transport::Smtp;
        c.outbound.smtp_port = port;
    })
    .await;
    app.send_fixture(
        "matti.meikalainen@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-tagged.eml",
    )
    .await;
    app.send_fixture(
        "pekka@example.fi",
        "palaute@nonono.localhost",
        "new-feedback-no-tag.eml",
    )
    .await;
    app.wait_processed().await;
    let store = app.store();
    for _ in 0..200 {
        if store
            .queue_listing()
            .unwrap()
            .iter()
            .filter(|r| r.state == "failed")
            .count()
            == 3
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    app.stop().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("message accepted") && logs.contains("permanent failure"),
        "{logs}"
    );
    let re = regex::Regex::new(r"[\w.+-]+@[\w-]+\.[\w.-]+").unwrap();
    let found: Vec<&str> = re.find_iter(&logs).map(|m| m.as_str()).collect();
    assert!(found.is_empty(), "addresses in the log: {found:?}\n{logs}");
}
