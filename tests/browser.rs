//! The archive as a person sees it: headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser/`) loads every page kind at desktop (1280 px) and phone
//! (390 px) widths, checks what is visible, that nothing is wider than the screen, contrast,
//! keyboard focus and axe-core's accessibility rules (WCAG 2.1 AA), and saves screenshots
//! under `target/screenshots/`; and the W3C Nu HTML checker (vnu.jar, from PyPI's `vnujar`)
//! validates every page as HTML5. `.ci/run` installs all three; elsewhere a test whose tool is
//! missing is skipped with a note.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestApp, fixture, http_get, root};

/// Every page kind, and a thread with every kind of post: the filled store, plus on thread 1
/// an unverified answer, an automatic reply and the writer's follow-up (hidden by the
/// moderators), and a fourth thread whose attachments were not published.
async fn every_page_kind() -> TestApp {
    let app = TestApp::filled().await;
    let out = app.outbound();
    let forward = out
        .iter()
        .find(|m| m.to.ends_with("@elisa.example"))
        .unwrap();
    let ack = out
        .iter()
        .find(|m| m.to == "matti.meikalainen@example.fi")
        .unwrap();
    for (from, to, raw) in [
        (
            "someone@freemail.example",
            &forward.from,
            fixture("provider-reply-unverified.eml", &[("to", &forward.from)]),
        ),
        (
            "anna@elisa.example",
            &forward.from,
            fixture("auto-reply-ooo.eml", &[("to", &forward.from)]),
        ),
        (
            "matti.meikalainen@example.fi",
            &ack.from,
            fixture(
                "consumer-followup.eml",
                &[("to", &ack.from), ("in_reply_to", &ack.message_id)],
            ),
        ),
        (
            "matti.meikalainen@example.fi",
            &"palaute@nonono.localhost".to_owned(),
            fixture("new-feedback-gmail-attachments.eml", &[]),
        ),
    ] {
        app.send(from, to, &raw).await.unwrap();
        app.wait_processed().await;
    }
    // A post the moderators hid, as its tombstone.
    let follow_up = app.store().posts(1).unwrap().last().unwrap().id.to_string();
    let config = app.cli_config();
    let hidden = Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(["moderate", "post", &follow_up, "--reason", "Henkilötietoja"])
        .args(["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(hidden.status.success(), "{hidden:?}");
    app
}

/// The paths of every page kind, named as the screenshots are.
const PAGES: &[(&str, &str)] = &[
    ("home", "/"),
    ("companies", "/p"),
    ("company", "/p/elisa"),
    ("company-waiting", "/p/elisa?filter=waiting"),
    ("thread", "/t/1"),
    ("thread-waiting", "/t/2"),
    ("thread-markup", "/t/3"),
    ("thread-attachments", "/t/4"),
    ("search", "/search?q=lasku"),
    ("search-empty", "/search?q=zzz"),
    ("method", "/menetelma"),
    ("unsubscribe", "/u/not-a-token"),
];

fn browser_available() -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Err(format!("{chromium} is missing (apt-get install chromium)"));
    }
    if !root()
        .join("tests/browser/node_modules/playwright-core")
        .exists()
    {
        return Err("tests/browser/node_modules is missing (npm ci --prefix tests/browser)".into());
    }
    Ok(())
}

#[tokio::test]
async fn pages_read_well_in_a_real_browser_at_desktop_and_phone_widths() {
    if let Err(missing) = browser_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: {missing}"
        );
        eprintln!("skipping the browser test: {missing}");
        return;
    }
    let mut app = every_page_kind().await;
    let base = app.http_base();
    let shots = root().join("target/screenshots");
    let pages: Vec<String> = PAGES.iter().map(|(n, p)| format!("{n}={p}")).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(root().join("tests/browser/check.mjs"))
            .arg(&base)
            .arg(&shots)
            .args(&pages)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    app.stop().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser checks failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

/// Where vnu.jar is: `VNU_JAR`, or the one PyPI's `vnujar` package installed.
fn vnu_jar() -> Result<String, String> {
    if let Ok(jar) = std::env::var("VNU_JAR") {
        return Ok(jar);
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import vnujar, os; print(os.path.join(os.path.dirname(vnujar.__file__), 'vnu.jar'))",
        ])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    let jar = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() && Path::new(&jar).exists() {
        Ok(jar)
    } else {
        Err("vnu.jar is missing (pip install html5validator)".into())
    }
}

#[tokio::test]
async fn every_page_is_valid_html5() {
    let jar = match vnu_jar() {
        Ok(jar) => jar,
        Err(missing) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI must validate the pages: {missing}"
            );
            eprintln!("skipping HTML validation: {missing}");
            return;
        }
    };
    let mut app = every_page_kind().await;
    let dir = tempfile::tempdir().unwrap();
    let pages: Vec<&str> = PAGES.iter().map(|(_, p)| *p).collect();
    for (i, path) in pages.iter().enumerate() {
        let (status, _, body) = http_get(&app.http_base(), path).await;
        assert_eq!(status, 200, "{path}");
        std::fs::write(dir.path().join(format!("page{i}.html")), body).unwrap();
    }
    app.stop().await;
    let out = Command::new("java")
        .args(["-jar", &jar, "--errors-only", "--format", "text"])
        .args((0..pages.len()).map(|i| {
            dir.path()
                .join(format!("page{i}.html"))
                .display()
                .to_string()
        }))
        .output()
        .expect("java runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "HTML errors (pages {pages:?}):\n{report}"
    );
}
