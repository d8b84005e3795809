//! Any bytes as an inbound message: parse, classify, find the company, route, cut the answer,
//! screen for personal data and name the writer. None of it may panic or hang.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use nonono::config::{Config, Language};
use nonono::mail::{self, Envelope};
use nonono::domain::{route, screen};
use nonono::pipeline;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml");
    Config::load(std::path::Path::new(path)).expect("default config")
});

fuzz_target!(|raw: &[u8]| {
    let config = &*CONFIG;
    let parsed = mail::parse(raw);
    let envelope = Envelope {
        mail_from: parsed
            .from
            .as_ref()
            .map(|f| f.address.clone())
            .unwrap_or_default(),
        rcpt_to: vec!["palaute@nonono.localhost".into()],
        peer: "127.0.0.1".into(),
        helo: "fuzz".into(),
    };
    let _ = mail::classify(&parsed, &envelope);
    let subject = parsed.subject.clone();
    let _ = route::find_tag(&subject, &config.providers);
    let (text, _) = pipeline::feedback_text(&parsed, Language::Fi);
    for provider in &config.providers {
        let _ = route::choose_route(provider, &subject, &text);
    }
    // Our own sent mail is the strongest quote evidence: use the message itself as "sent".
    let _ = pipeline::answer_text(&parsed, &[raw.to_vec()], Language::Fi);
    let _ = screen::personal_data(&text);
    let name = parsed.from.as_ref().and_then(|f| f.name.clone());
    let _ = mail::pseudonym(&text, name.as_deref(), "Nimetön");
    let _ = mail::redact_addresses(&text, "<address>");
});
