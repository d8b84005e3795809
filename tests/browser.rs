//! The archive as a person sees it: headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser/`) loads the home, company, thread and search pages at
//! desktop and phone widths, checks what is visible, and saves screenshots under
//! `target/screenshots/`. `.ci/run` installs Chromium and the driver; elsewhere the test is
//! skipped with a note when they are missing.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestApp, root};

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
    let mut app = TestApp::filled().await;
    let base = app.http_base();
    let shots = root().join("target/screenshots");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(root().join("tests/browser/check.mjs"))
            .arg(&base)
            .arg(&shots)
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
