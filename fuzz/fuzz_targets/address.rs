//! Any text as a recipient or sender address: routing (company slugs, t+/b+/c+/e+ tokens with
//! their HMAC), normalisation and the abuse limits' notion of "the same writer".

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use nonono::config::Config;
use nonono::domain::token::{Purpose, TokenKey};
use nonono::domain::{limits, route};
use nonono::mail;

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/default.toml");
    Config::load(std::path::Path::new(path)).expect("default config")
});

fuzz_target!(|data: &[u8]| {
    let Ok(address) = std::str::from_utf8(data) else {
        return;
    };
    let key = TokenKey::new(b"fuzzing secret, fixed so findings reproduce");
    let _ = route::recipient(address, &CONFIG, &key);
    let local = address.split('@').next().unwrap_or_default();
    for purpose in [
        Purpose::Participant,
        Purpose::Bounce,
        Purpose::Confirm,
        Purpose::Erase,
        Purpose::Solved,
        Purpose::Support,
        Purpose::Follow,
        Purpose::Unsubscribe,
    ] {
        let _ = key.verify_for(purpose, local);
    }
    let _ = mail::normalize_address(address);
    let _ = limits::sender_key(address);
});
