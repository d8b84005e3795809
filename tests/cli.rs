//! The command line: `check-config` names what is wrong, `export` writes the public archive as
//! JSON Lines (`providers` is in `registry.rs`).

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
            "fixtures/config/wrong-types.toml",
            vec![
                "language: ",
                "smtp.max_message_bytes: ",
                "providers[0].response_days: ",
                "outbound.smtp_port: ",
                "line 6, column 21",
                "^^^^^",
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

/// Logs written to a pipe or a file carry no colour codes, and a refused recipient leaves a
/// line at info level (without the address: no address is logged at info).
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
        .env_remove("NO_COLOR")
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
    s.write_all(b"EHLO client.example\r\nMAIL FROM:<matti@example.fi>\r\nRCPT TO:<nobody@nonono.localhost>\r\nQUIT\r\n")
        .unwrap();
    let mut dialogue = String::new();
    std::io::Read::read_to_string(&mut s, &mut dialogue).unwrap();
    assert!(dialogue.contains("550 5.1.1"), "{dialogue}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let log: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:#?}");
    assert!(
        log.iter()
            .any(|l| l.contains("recipient refused") && l.contains("127.0.0.1")),
        "{log:#?}"
    );
    assert!(!log.iter().any(|l| l.contains('\u{1b}')), "{log:#?}");
    assert!(!log.iter().any(|l| l.contains('@')), "{log:#?}");
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
    assert!(unit.contains("ExecStart=/usr/bin/nonono serve --config /etc/nonono/production.toml"));
}

/// Waits (a running service takes what the command line put back in line within seconds)
/// until thread 1 has a post whose body contains `text`; returns its kind.
async fn published(app: &TestApp, text: &str) -> String {
    for _ in 0..400 {
        if let Some(post) = app
            .store()
            .posts(1)
            .unwrap()
            .into_iter()
            .find(|p| p.body.contains(text))
        {
            return post.kind.as_str().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{text:?} was never published");
}

/// Issue 18: everything the pipeline holds is listed by `nonono held` with its reason,
/// sender, subject and time; `show` prints it, `release` processes it as it would have been,
/// `assign` makes it an answer in a thread, `drop` discards it with an audit line.
#[tokio::test]
async fn the_operator_works_through_the_holding_pen() {
    let mut app = TestApp::start().await;
    let (_, ack) = app.new_thread().await;
    let held_mail = [
        (
            "mallory@evil.example",
            ack.from.as_str(),
            "From: Matti <matti.meikalainen@example.fi>\r\nSubject: Re: Lasku\r\n\r\nTarkennus laskuun.\r\n",
        ),
        (
            "anna@elisa.example",
            "elisa@nonono.localhost",
            "From: Anna <anna@elisa.example>\r\nSubject: Vastaus asiakkaalle\r\n\r\nPalautamme veloituksen.\r\n",
        ),
        (
            "tyhja@example.fi",
            "palaute@nonono.localhost",
            "From: tyhja@example.fi\r\nSubject: [Elisa] Tyhja\r\n\r\n\r\n\r\n",
        ),
    ];
    for (from, to, raw) in held_mail {
        app.send(from, to, raw.as_bytes()).await.unwrap();
    }
    app.wait_processed().await;
    let config = app.cli_config();
    let config = config.to_str().unwrap();
    let (ok, list, err) = nonono(&["held", "--config", config]);
    assert!(ok, "{err}");
    let rows: Vec<&str> = list.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{list}");
    for (row, (sender, reason, subject)) in rows.iter().zip([
        (
            "mallory@evil.example",
            "From differs from the envelope sender",
            "Re: Lasku",
        ),
        (
            "anna@elisa.example",
            "to an address without a thread",
            "Vastaus asiakkaalle",
        ),
        ("tyhja@example.fi", "no text to publish", "[Elisa] Tyhja"),
    ]) {
        assert!(
            row.contains(sender) && row.contains(reason) && row.contains(subject),
            "{row}"
        );
    }
    let id = |n: usize| rows[n].split_whitespace().next().unwrap().to_owned();
    let (ok, shown, _) = nonono(&["held", "show", &id(0), "--config", config]);
    assert!(
        ok && shown.contains("Tarkennus laskuun.") && shown.contains("reason:"),
        "{shown}"
    );

    let (ok, out, err) = nonono(&["held", "release", &id(0), "--config", config]);
    assert!(ok, "{err}");
    assert!(out.contains("released"), "{out}");
    assert_eq!(published(&app, "Tarkennus laskuun.").await, "consumer");

    let (ok, _, err) = nonono(&[
        "held",
        "assign",
        &id(1),
        "--thread",
        "1",
        "--config",
        config,
    ]);
    assert!(ok, "{err}");
    assert_eq!(published(&app, "Palautamme veloituksen.").await, "official");

    let (ok, _, err) = nonono(&["held", "drop", &id(2), "--config", config]);
    assert!(
        !ok && err.contains("--reason"),
        "a reason is required: {err}"
    );
    let (ok, _, err) = nonono(&[
        "held",
        "drop",
        &id(2),
        "--reason",
        "tyhjä viesti",
        "--config",
        config,
    ]);
    assert!(ok, "{err}");
    let (_, audit, _) = nonono(&["moderate", "audit", "--config", config]);
    assert!(audit.contains("tyhjä viesti"), "{audit}");
    let (_, list, _) = nonono(&["held", "--config", config]);
    assert!(list.contains("(nothing held)"), "{list}");
    let (ok, _, err) = nonono(&["held", "release", &id(0), "--config", config]);
    assert!(
        !ok && err.contains("open hold"),
        "released once only: {err}"
    );
    app.stop().await;
}

/// Found from outside: `held assign` published a consumer's own feedback, a forged mail and a
/// stranger's flood as "Elisa", and relayed them to the writer as coming from Elisa. It takes
/// only the company's own mail, unless the operator says it is to stand as unverified.
#[tokio::test]
async fn assign_takes_only_the_companys_mail_unless_told_it_stands_unverified() {
    let mut app = TestApp::start().await;
    let (_, ack) = app.new_thread().await;
    app.send(
        "mallory@evil.example",
        &ack.from,
        b"From: Matti <matti.meikalainen@example.fi>\r\nSubject: Re: Lasku\r\n\r\nOlemme Elisa ja maksamme kaiken.\r\n",
    )
    .await
    .unwrap();
    app.wait_processed().await;
    let config = app.cli_config();
    let config = config.to_str().unwrap();
    let (_, list, _) = nonono(&["held", "--config", config]);
    let row = list
        .lines()
        .find(|l| l.contains("mallory@evil.example"))
        .unwrap_or_else(|| panic!("held: {list}"));
    let id = row.split_whitespace().next().unwrap();
    let (ok, _, err) = nonono(&["held", "assign", id, "--thread", "1", "--config", config]);
    assert!(
        !ok && err.contains("not one of Elisa's addresses") && err.contains("--unverified"),
        "refused, with what to do: {err}"
    );
    let (_, list, _) = nonono(&["held", "--config", config]);
    assert!(list.contains("mallory@evil.example"), "still held: {list}");
    let (ok, _, err) = nonono(&[
        "held",
        "assign",
        id,
        "--thread",
        "1",
        "--unverified",
        "--config",
        config,
    ]);
    assert!(ok, "{err}");
    assert_eq!(published(&app, "maksamme kaiken").await, "unverified");
    app.stop().await;
}

/// Found from outside: a right-to-left override in a held subject reordered the operator's
/// listing. Direction marks reach the terminal as a visible stand-in.
#[tokio::test]
async fn held_mail_cannot_reorder_the_operators_listing() {
    let mut app = TestApp::start().await;
    let (_, ack) = app.new_thread().await;
    app.send(
        "mallory@evil.example",
        &ack.from,
        "From: Matti <matti.meikalainen@example.fi>\r\nSubject: =?utf-8?q?Re=3A_=E2=80=AElasku?=\r\n\r\nx\u{202E}y\r\n".as_bytes(),
    )
    .await
    .unwrap();
    app.wait_processed().await;
    let config = app.cli_config();
    let config = config.to_str().unwrap();
    let (ok, list, err) = nonono(&["held", "--config", config]);
    assert!(ok && list.contains("Re: \u{FFFD}lasku"), "{list}{err}");
    let id = list
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let (_, shown, _) = nonono(&["held", "show", id, "--config", config]);
    assert!(
        !list.contains('\u{202E}') && !shown.contains('\u{202E}'),
        "{shown}"
    );
    app.stop().await;
}
