//! The public archive, filled through the real SMTP path: every page, feed and the export;
//! escaping; no address in any rendered byte; search with and without ä/ö; figures; caching.

mod common;

use common::{TestApp, http_get};

const CONSUMER: &str = "matti.meikalainen@example.fi";

/// Addresses the archive may show: the gateway's own.
fn foreign_addresses(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"[\w.+-]+@[\w-]+(\.[\w-]+)+").unwrap();
    re.find_iter(text)
        .map(|m| m.as_str().to_owned())
        .filter(|a| !a.ends_with("@nonono.localhost") || a.starts_with("t+"))
        .collect()
}

#[tokio::test]
async fn every_page_feed_and_export_is_served_escaped_and_without_addresses() {
    let mut app = TestApp::filled().await;
    let paths = [
        "/",
        "/t/1",
        "/t/2",
        "/t/3",
        "/p/elisa",
        "/p/elisa?filter=waiting",
        "/p/elisa?filter=answered",
        "/p/kierratyskeskus",
        "/search?q=lasku",
        "/search?q=%3Cscript%3E",
        "/feed.atom",
        "/p/elisa.atom",
        "/export.jsonl",
        "/style.css",
    ];
    for path in paths {
        let (status, headers, body) = http_get(&app.http_base(), path).await;
        assert_eq!(status, 200, "{path}");
        let csp = headers
            .iter()
            .find(|(k, _)| k == "content-security-policy")
            .map(|(_, v)| v.as_str());
        assert!(
            csp.is_some_and(|v| v.contains("default-src 'none'")),
            "{path}: CSP {csp:?}"
        );
        assert!(
            headers
                .iter()
                .any(|(k, v)| k == "x-content-type-options" && v == "nosniff")
        );
        let leaked = foreign_addresses(&body);
        assert!(leaked.is_empty(), "{path} shows addresses {leaked:?}");
        if path == "/export.jsonl" || path == "/style.css" {
            // Data, not markup: served as JSON Lines / CSS with nosniff.
            continue;
        }
        assert!(!body.contains("<script"), "{path} runs a script");
        assert!(!body.contains("<img"), "{path} shows markup from mail");
        assert!(!body.contains("<a href=\"javascript"), "{path}");
        if path.ends_with(".atom") {
            continue;
        }
        assert!(
            body.starts_with("<!DOCTYPE html>\n<html lang=\"fi\">"),
            "{path}"
        );
        assert_eq!(body.matches("<h1>").count(), 1, "{path}: one h1");
        assert_eq!(
            body.matches("<article").count(),
            body.matches("</article>").count(),
            "{path}"
        );
    }
    let (_, hostile) = app.get("/t/3").await;
    assert!(
        hostile.contains(
            "<h1>&#60;script&#62;alert(1)&#60;/script&#62; Äänestys &#38; &#34;lainaus&#34;</h1>"
        ),
        "{hostile}"
    );
    assert!(
        hostile.contains("&#34;Kalle&#34; &#60;img src=x onerror=alert(1)&#62;"),
        "pseudonym shown as text"
    );
    assert!(
        hostile.contains("[osoite poistettu]"),
        "addresses in the text are removed"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_thread_page_marks_the_official_answer_and_shows_the_status() {
    let mut app = TestApp::filled().await;
    let (_, page) = app.get("/t/1").await;
    assert!(page.contains("<h1>Lasku tuli kahdesti</h1>"));
    assert!(page.contains(r#"<a href="/p/elisa">Elisa</a>"#));
    assert!(page.contains("Käsittelijä: Laskutus"));
    assert!(
        page.contains("Vastattu 1 min kuluttua"),
        "answered status:\n{page}"
    );
    let official = &page[page.find(r#"data-kind="official""#).unwrap()..];
    assert!(official.contains(r#"class="post official""#));
    assert!(official.contains("✓ Vahvistettu edustaja"));
    assert!(official.contains(r#"<span class="author">Elisa</span>"#));
    let (_, waiting) = app.get("/t/2").await;
    assert!(
        waiting.contains("Odottaa vastausta, lähti yritykselle tänään"),
        "{waiting}"
    );
    app.stop().await;
}

#[tokio::test]
async fn company_pages_show_figures_and_filter_waiting_and_answered_threads() {
    let mut app = TestApp::filled().await;
    let (_, page) = app.get("/p/elisa").await;
    assert!(page.contains("<dt>Palautteita</dt><dd>2</dd>"), "{page}");
    // Issue 21: one answer of two threads is no rate; the count says what there is.
    assert!(page.contains(
        r#"<dt>Vastattu</dt><dd><span class="value few">liian vähän palautteita</span> <span class="count">(2)</span></dd>"#
    ), "{page}");
    assert!(page.contains(
        r#"<dt>Vastausaika (mediaani)</dt><dd><span class="value few">liian vähän vastauksia</span> <span class="count">(1)</span></dd>"#
    ));
    assert!(page.contains("<dd>3 arkipäivää</dd>"));
    assert!(page.contains(r#"<a href="/menetelma">Miten luvut lasketaan</a>"#));
    assert!(
        page.contains("elisa@nonono.localhost"),
        "how to write to them"
    );
    assert!(page.contains(r#"href="/p/elisa.atom""#));
    let (_, waiting) = app.get("/p/elisa?filter=waiting").await;
    assert!(
        waiting.contains("Verkko katkeilee iltaisin") && !waiting.contains("Lasku tuli kahdesti")
    );
    let (_, answered) = app.get("/p/elisa?filter=answered").await;
    assert!(answered.contains("Lasku tuli kahdesti") && !answered.contains("Verkko katkeilee"));
    let (_, home) = app.get("/").await;
    assert!(
        home.contains(
            r#"<a href="/p/elisa">Elisa</a></th><td data-label="Palautteita">2</td><td data-label="Vastattu"><span class="value few">liian vähän palautteita</span> <span class="count">(2)</span></td>"#
        ),
        "{home}"
    );
    let (status, _) = app.get("/p/unknown").await;
    assert_eq!(status, 404);
    app.stop().await;
}

/// Issue 21: every figure a company page shows is defined on the method page, with its time
/// window, the working-day calendar and the smallest sample shown; both paths serve it.
#[tokio::test]
async fn the_method_page_defines_every_figure_a_company_page_shows() {
    let mut app = TestApp::start_with(|c| c.extra_holidays = vec!["2026-12-31".into()]).await;
    app.new_thread().await;
    let (_, company) = app.get("/p/elisa").await;
    let (status, method) = app.get("/menetelma").await;
    assert_eq!(status, 200);
    assert_eq!(app.get("/method").await, (status, method.clone()));
    let terms: Vec<&str> = company
        .split("<dt>")
        .skip(1)
        .filter_map(|d| d.split("</dt>").next())
        .collect();
    assert!(terms.len() >= 7, "{company}");
    for term in terms.iter().filter(|t| **t != "Luvattu vastausaika") {
        assert!(
            method.contains(&format!("<dt>{term}</dt>")),
            "{term} is not defined"
        );
    }
    for said in [
        "palvelun alusta lähtien",
        "alle 5 tapaukseen",
        "liian vähän palautteita",
        "pitkäperjantai",
        "juhannusaatto",
        "31.12.2026",
        "postipalvelin otti palautteen vastaan",
    ] {
        assert!(method.contains(said), "{said}:\n{method}");
    }
    app.stop().await;
}

#[tokio::test]
async fn company_pages_paginate_newest_first() {
    let mut app = TestApp::start_with(|c| c.limits.new_threads_per_address_per_hour = 0).await;
    for i in 0..27 {
        // Each from a writer of its own: one writer's flood would be held back.
        let writer = format!("a{i}@example.fi");
        let raw =
            format!("From: {writer}\r\nSubject: [VR] Juna {i} myöhässä\r\n\r\nTeksti {i}\r\n");
        app.send(&writer, "palaute@nonono.localhost", raw.as_bytes())
            .await
            .unwrap();
    }
    app.wait_processed().await;
    let (_, first) = app.get("/p/vr").await;
    assert!(first.contains("Juna 26 myöhässä") && first.contains("Juna 2 myöhässä"));
    assert!(!first.contains("Juna 1 myöhässä") && !first.contains("Juna 0 myöhässä"));
    assert!(
        first.find("Juna 26").unwrap() < first.find("Juna 25").unwrap(),
        "newest first"
    );
    let next = first
        .split("rel=\"next\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let (_, second) = app.get(&next).await;
    assert!(second.contains("Juna 1 myöhässä") && second.contains("Juna 0 myöhässä"));
    assert!(!second.contains("Juna 2 myöhässä"));
    assert!(!second.contains("rel=\"next\""));
    app.stop().await;
}

#[tokio::test]
async fn search_ranks_highlights_and_ignores_diacritics() {
    let mut app = TestApp::filled().await;
    let (_, with) = app.get("/search?q=%C3%A4%C3%A4nestyslippu").await;
    let (_, without) = app.get("/search?q=aanestyslippu").await;
    for page in [&with, &without] {
        assert!(page.contains("<mark>Äänestyslippu</mark>"), "{page}");
        assert!(page.contains(r#"href="/t/3""#));
    }
    let (_, title) = app.get("/search?q=AANESTYS").await;
    assert!(
        title.contains(r#"href="/t/3""#),
        "titles are searched too, in any case"
    );
    let (_, prefix) = app.get("/search?q=veloit").await;
    assert!(prefix.contains(r#"href="/t/1""#), "prefix search");
    let (status, hostile) = app.get("/search?q=%22lasku%22+*+(+%5E").await;
    assert_eq!(status, 200);
    assert!(
        hostile.contains(r#"href="/t/1""#),
        "FTS syntax in the query is ignored"
    );
    let (_, none) = app.get("/search?q=zzzyyyxxx").await;
    assert!(none.contains("Ei tuloksia."));
    assert!(
        none.contains(r#"value="zzzyyyxxx""#),
        "the query stays in the box"
    );
    app.stop().await;
}

#[tokio::test]
async fn feeds_are_atom_with_one_entry_per_post() {
    let mut app = TestApp::filled().await;
    let (_, headers, all) = http_get(&app.http_base(), "/feed.atom").await;
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/atom+xml"))
    );
    assert!(all.starts_with(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\""
    ));
    assert_eq!(all.matches("<entry>").count(), 4);
    assert!(all.contains(
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"https://nonono.test/feed.atom\"/>"
    ));
    assert!(all.contains("&#60;script&#62;"), "escaped in XML");
    assert!(well_formed(&all), "{all}");
    let (_, elisa) = app.get("/p/elisa.atom").await;
    assert_eq!(elisa.matches("<entry>").count(), 3);
    assert!(elisa.contains("<name>Elisa (Vahvistettu edustaja)</name>"));
    assert!(elisa.contains("<id>https://nonono.test/t/1#p2</id>"));
    assert!(well_formed(&elisa));
    let (_, thread) = app.get("/t/1").await;
    assert!(thread.contains(r#"id="p2""#), "feed links land on the post");
    app.stop().await;
}

/// Elements open and close in order; entities are the XML ones.
fn well_formed(xml: &str) -> bool {
    let entity = regex::Regex::new(r"&(#[0-9]+|amp|lt|gt|quot|apos);").unwrap();
    let mut stack = Vec::new();
    let mut rest = xml;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        if entity.replace_all(text, "").contains('&') {
            return false;
        }
        let close = match rest[open..].find('>') {
            Some(c) => open + c,
            None => return false,
        };
        let tag = &rest[open + 1..close];
        if tag.starts_with('?') || tag.ends_with('/') {
        } else if let Some(name) = tag.strip_prefix('/') {
            if stack.pop() != Some(name.to_owned()) {
                return false;
            }
        } else {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_owned());
        }
        rest = &rest[close + 1..];
    }
    stack.is_empty()
}

#[tokio::test]
async fn the_web_export_matches_the_command_line_export() {
    let mut app = TestApp::filled().await;
    let (_, headers, body) = http_get(&app.http_base(), "/export.jsonl").await;
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("application/x-ndjson"))
    );
    let mut expected = Vec::new();
    app.store()
        .export(|row| {
            serde_json::to_writer(&mut expected, &row)?;
            expected.push(b'\n');
            Ok(())
        })
        .unwrap();
    assert_eq!(body, String::from_utf8(expected).unwrap());
    assert_eq!(body.lines().count(), 4);
    app.stop().await;
}

#[tokio::test]
async fn pages_carry_an_etag_and_answer_304_when_unchanged() {
    let mut app = TestApp::filled().await;
    let (_, headers, _) = http_get(&app.http_base(), "/t/1").await;
    let etag = headers
        .iter()
        .find(|(k, _)| k == "etag")
        .map(|(_, v)| v.clone())
        .expect("etag");
    let host = app.http_base().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
    let request = format!(
        "GET /t/1 HTTP/1.1\r\nHost: {host}\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n"
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, request.as_bytes())
        .await
        .unwrap();
    let mut response = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut response)
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 304"), "{response}");
    app.stop().await;
}

/// A CDN or Varnish in front may keep public pages a minute and knows when they were made;
/// a one-person page (an unsubscribe link) is never kept for others.
#[tokio::test]
async fn public_pages_may_be_cached_a_minute_and_say_when_they_were_made() {
    let app = TestApp::filled().await;
    let header = |headers: &[(String, String)], name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    for path in ["/", "/t/1", "/p/elisa", "/feed.atom", "/search?q=lasku"] {
        let (status, headers, _) = common::http_get(&app.http_base(), path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            header(&headers, "cache-control").as_deref(),
            Some("public, max-age=60"),
            "{path}"
        );
        let modified = header(&headers, "last-modified").unwrap_or_default();
        assert!(
            modified.ends_with(" GMT") && modified.len() == 29,
            "{path}: {modified:?}"
        );
        assert!(header(&headers, "etag").is_some(), "{path}");
    }
    let (_, headers, _) = common::http_get(&app.http_base(), "/u/not-a-token").await;
    assert_eq!(
        header(&headers, "cache-control").as_deref(),
        Some("private, no-store")
    );
    assert_eq!(header(&headers, "last-modified"), None);
    for path in ["/healthz", "/metrics", "/t/999", "/export.jsonl"] {
        let (_, headers, _) = common::http_get(&app.http_base(), path).await;
        assert_eq!(
            header(&headers, "cache-control").as_deref(),
            Some("no-store"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn english_pages_when_the_language_is_english() {
    let mut app = TestApp::start_with(|c| c.language = nonono::config::Language::En).await;
    app.send_fixture(
        CONSUMER,
        "palaute@nonono.localhost",
        "new-feedback-tagged.eml",
    )
    .await;
    let out = app.wait_outbound(2).await;
    let ack = out.iter().find(|m| m.to == CONSUMER).unwrap();
    // Issue 21: the writer wrote in Finnish, and is answered in Finnish whatever the pages.
    assert!(ack.text.contains("kiitos palautteestasi"), "{}", ack.text);
    assert!(
        ack.text
            .contains("## Kirjoita vastauksesi tämän rivin yläpuolelle ##")
    );
    let forward = out.iter().find(|m| m.to != CONSUMER).unwrap();
    assert!(forward.text.contains("## Reply above this line ##"));
    let (_, page) = app.get("/t/1").await;
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.contains("Waiting for an answer"));
    app.stop().await;
}
