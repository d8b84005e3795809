//! The command line: `check-config` names what is wrong, `providers` lists, `export` writes the
//! public archive as JSON Lines.

mod common;

use std::process::Command;

use common::{TestApp, root};

fn nonono(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(args)
        .current_dir(root())
        .env("RUST_LOG", "warn")
        .output()
        .expect("run nonono");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_config_accepts_the_shipped_and_example_configs() {
    for path in [
        "config/default.toml",
        "fixtures/config/minimal.toml",
        "fixtures/config/full.toml",
    ] {
        let (ok, out, err) = nonono(&["check-config", "--config", path]);
        assert!(ok, "{path}: {err}");
        assert!(out.contains("ok"), "{out}");
    }
}

#[test]
fn check_config_names_the_key_that_is_wrong() {
    for (path, expected) in [
        ("fixtures/config/invalid-port.toml", vec!["smtp.listen"]),
        ("fixtures/config/unknown-key.toml", vec!["public_ulr"]),
        (
            "fixtures/config/bad-provider.toml",
            vec![
                "providers[0].slug",
                "providers[0].routes",
                "providers[0].rules[0].pattern",
            ],
        ),
        (
            "fixtures/config/does-not-exist.toml",
            vec!["does-not-exist.toml"],
        ),
    ] {
        let (ok, _, err) = nonono(&["check-config", "--config", path]);
        assert!(!ok, "{path} should fail");
        for key in expected {
            assert!(err.contains(key), "{path}: {key} not named in: {err}");
        }
        assert!(err.starts_with("nonono: "), "{err}");
    }
}

#[test]
fn providers_lists_the_companies() {
    let (ok, out, _) = nonono(&["providers"]);
    assert!(ok);
    assert!(
        out.contains("elisa") && out.contains("Kierrätyskeskus"),
        "{out}"
    );
}

#[tokio::test]
async fn export_writes_one_public_post_a_line() {
    let mut app = TestApp::start().await;
    app.new_thread().await;
    app.stop().await;
    let config = app.cli_config();
    let (ok, out, err) = nonono(&["export", "--config", config.to_str().unwrap()]);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    let post = &lines[0];
    assert_eq!(post["thread"], 1);
    assert_eq!(post["provider"], "elisa");
    assert_eq!(post["kind"], "consumer");
    assert_eq!(post["author"], "Matti M.");
    assert_eq!(post["title"], "Lasku tuli kahdesti");
    assert!(post["body"].as_str().unwrap().contains("laskun kahdesti"));
    assert!(post["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(!out.contains('@'), "no address in the export");

    let (ok, out, _) = nonono(&["queue", "--config", config.to_str().unwrap()]);
    assert!(ok);
    assert!(out.contains("nothing waiting"), "{out}");
}

#[test]
fn serve_logs_its_addresses_and_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[smtp]\nlisten = \"127.0.0.1:0\"\n[http]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().to_str().unwrap()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nonono"))
        .args(["serve", "--config", config.to_str().unwrap()])
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut smtp = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("smtp listening on ").nth(1) {
            smtp = rest.split_whitespace().next().map(str::to_owned);
        }
        if line.contains("http listening on") {
            break;
        }
    }
    let smtp = smtp.expect("the smtp address is logged");
    let mut s = std::net::TcpStream::connect(&smtp).unwrap();
    let mut greeting = [0u8; 3];
    std::io::Read::read_exact(&mut s, &mut greeting).unwrap();
    assert_eq!(&greeting, b"220");
    s.write_all(b"QUIT\r\n").unwrap();

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(lines.any(|l| l.unwrap().contains("stopped")));
}

#[tokio::test]
async fn reprocess_rederives_text_and_a_second_run_changes_nothing() {
    let mut app = TestApp::filled().await;
    app.stop().await;
    // Damage a post's text, as a parser bug would have published it.
    {
        let mut store = nonono::store::Store::open(&nonono::app::store_path(&app.config)).unwrap();
        assert!(store.rewrite_post(2, "garbled", "", false, 0).unwrap());
    }
    let config = app.cli_config();
    let (ok, out, err) = nonono(&["reprocess", "--config", config.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("4 posts read again, 1 changed; 0 failed messages retried"),
        "{out}"
    );
    let store = app.store();
    let post = &store.posts(1).unwrap()[1];
    assert!(
        post.body.contains("Palautamme") && !post.body.contains("kirjoitti:"),
        "{}",
        post.body
    );
    assert_eq!(
        store.search("garbled", 5, 0).unwrap().len(),
        0,
        "search follows the new text"
    );
    assert_eq!(store.search("palautamme", 5, 0).unwrap().len(), 1);
    let (_, again, _) = nonono(&["reprocess", "--config", config.to_str().unwrap()]);
    assert!(
        again.starts_with("4 posts read again, 0 changed"),
        "{again}"
    );
}

#[tokio::test]
async fn backup_takes_a_consistent_copy_while_the_service_runs() {
    let mut app = TestApp::filled().await;
    let config = app.cli_config();
    let copy = app.dir.path().join("copy.sqlite3");
    let (ok, out, err) = nonono(&[
        "backup",
        copy.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("consistent copy"));
    let backup = nonono::store::Store::open_readonly(&copy).unwrap();
    assert_eq!(backup.posts(1).unwrap().len(), 2);
    assert_eq!(
        backup.journal_counts().unwrap(),
        app.store().journal_counts().unwrap()
    );
    let (ok, _, err) = nonono(&[
        "backup",
        copy.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("exists already"), "{err}");
    app.stop().await;
}

#[test]
fn the_systemd_unit_stops_the_service_with_sigterm() {
    let unit = std::fs::read_to_string(root().join("config/nonono.service")).unwrap();
    assert!(unit.contains("KillSignal=SIGTERM"));
    assert!(
        unit.contains("ExecStart=/usr/local/bin/nonono serve --config /etc/nonono/production.toml")
    );
}
