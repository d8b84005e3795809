//! Archive speed on a national-size store: 100,000 threads and 1,000,000 posts.
//!
//! Generates the store once (kept at `target/bench-archive/`), then measures server time per
//! request (routing, store reads and rendering, no sockets) for thread pages, company pages and
//! search, and prints medians and p99s. Run: `cargo bench --bench archive`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use nonono::archive::{Archive, router};
use nonono::config::{Config, ProviderConfig};
use nonono::store::{NewPost, NewThread, PostKind, Role, Store};
use tower::ServiceExt;

const THREADS: i64 = 100_000;
const POSTS_PER_THREAD: i64 = 10;
const PROVIDERS: usize = 100;
const SAMPLES: usize = 1000;
/// Distinct words in the generated text.
const VOCABULARY: usize = 50_000;

const WORDS: &[&str] = &[
    "lasku",
    "tilaus",
    "toimitus",
    "asiakaspalvelu",
    "odotin",
    "puhelin",
    "verkko",
    "katkeaa",
    "paketti",
    "myöhässä",
    "juna",
    "peruttu",
    "hyvitys",
    "palautus",
    "tuote",
    "rikki",
    "takuu",
    "kauppa",
    "kassa",
    "jono",
    "sovellus",
    "kirjautuminen",
    "salasana",
    "maksu",
    "veloitus",
    "kahdesti",
    "kiitos",
    "nopeasti",
    "huono",
    "erinomainen",
    "ystävällinen",
    "myyjä",
    "kuljettaja",
    "äänestys",
    "sähkö",
    "sopimus",
    "irtisanominen",
    "hinta",
    "nousi",
    "ilmoitus",
    "vastaus",
    "viikko",
    "kuukausi",
    "päivä",
    "tänään",
    "eilen",
    "huomenna",
    "yhteys",
    "laatu",
    "vika",
];

/// The made-up word of a frequency rank: syllables, like Finnish, so prefixes overlap as in
/// real text (`kalo` is a prefix of `kalomi`).
fn made_up(rank: usize) -> String {
    const SYLLABLES: [&str; 16] = [
        "ka", "lo", "mi", "ne", "pu", "ri", "sa", "te", "vu", "ho", "jy", "kö", "tä", "ul", "as",
        "en",
    ];
    let mut n = rank;
    let mut word = String::new();
    loop {
        word.push_str(SYLLABLES[n % 16]);
        n /= 16;
        if n == 0 {
            break;
        }
    }
    word
}

/// Percent-encodes a query word for a URL.
fn encode(word: &str) -> String {
    word.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A small deterministic generator (xorshift), so every run builds the same store.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A word with Zipf-like frequency: the listed Finnish words are the commonest, then a
    /// long tail of made-up ones, as in real text.
    fn word(&mut self) -> String {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        let rank = ((VOCABULARY as f64).powf(u) as usize).saturating_sub(1);
        match WORDS.get(rank) {
            Some(w) => (*w).to_owned(),
            None => made_up(rank),
        }
    }
    fn words(&mut self, n: usize) -> String {
        (0..n).map(|_| self.word()).collect::<Vec<_>>().join(" ")
    }
}

fn config(dir: &std::path::Path) -> Config {
    let providers = (0..PROVIDERS)
        .map(|i| ProviderConfig {
            slug: format!("yritys-{i}"),
            name: format!("Yritys {i} Oy"),
            aliases: Vec::new(),
            routes: vec![format!("palaute@yritys{i}.example")],
            representatives: vec![format!("yritys{i}.example")],
            response_days: 3,
            plan: Default::default(),
            rules: Vec::new(),
        })
        .collect();
    Config {
        data_dir: dir.to_owned(),
        providers,
        ..Config::default()
    }
}

fn generate(store: &mut Store, now: i64) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let started = Instant::now();
    let journal = store
        .journal_append(&[nonono::store::Arrival::new(
            &Default::default(),
            b"generated",
            now,
        )])
        .unwrap()[0];
    for batch in 0..(THREADS / 1000) {
        let tx = store.begin().unwrap();
        for _ in 0..1000 {
            let provider = rng.below(PROVIDERS as u64);
            let slug = format!("yritys-{provider}");
            let company = format!("Yritys {provider} Oy");
            let created = now - 2 * 365 * 86_400 + rng.below(2 * 365 * 86_400) as i64;
            let title = rng.words(4);
            let thread = tx
                .create_thread(&NewThread {
                    provider: Some(&slug),
                    company: &company,
                    title: &title,
                    route: Some("palaute@example.fi"),
                    route_label: None,
                    journal_id: journal,
                    created_at: created,
                    due_at: Some(created + 3 * 86_400),
                    held: None,
                    subject: None,
                })
                .unwrap();
            let consumer = tx
                .add_participant(
                    thread,
                    Role::Consumer,
                    "x@example.fi",
                    "Matti M.",
                    None,
                    created,
                )
                .unwrap();
            let answered = rng.below(10) < 7;
            let mut at = created;
            for i in 0..POSTS_PER_THREAD {
                at += 600 + rng.below(3 * 86_400) as i64;
                let official = answered && i % 2 == 1;
                let length = 40 + rng.below(80) as usize;
                let body = rng.words(length);
                tx.add_post(&NewPost {
                    thread_id: thread,
                    participant_id: Some(consumer),
                    journal_id: Some(journal),
                    kind: if official {
                        PostKind::Official
                    } else {
                        PostKind::Consumer
                    },
                    author: if official { &company } else { "Matti M." },
                    body: &body,
                    trimmed: "",
                    uncut: false,
                    attachments: 0,
                    message_id: None,
                    created_at: at,
                    evidence: None,
                })
                .unwrap();
            }
        }
        tx.commit().unwrap();
        if batch % 10 == 9 {
            eprintln!(
                "generated {} threads in {:.0?}",
                (batch + 1) * 1000,
                started.elapsed()
            );
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(app: &axum::Router, name: &str, paths: Vec<String>) {
    let mut times = Vec::with_capacity(paths.len());
    let mut bytes = 0;
    for path in &paths {
        let started = Instant::now();
        let response = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        times.push(started.elapsed());
        bytes += body.len();
    }
    times.sort();
    println!(
        "| {name} | {} | {:.2} ms | {:.2} ms | {} B |",
        times.len(),
        percentile(&times, 0.5).as_secs_f64() * 1000.0,
        percentile(&times, 0.99).as_secs_f64() * 1000.0,
        bytes / times.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-archive");
    std::fs::create_dir_all(&dir).unwrap();
    let config = config(&dir);
    let path = nonono::app::store_path(&config);
    let now = nonono::clock::now();
    {
        let store = Store::open(&path).unwrap();
        let have = store.latest_threads(1).unwrap().first().map_or(0, |t| t.id);
        if have < THREADS {
            drop(store);
            let _ = std::fs::remove_file(&path);
            let mut store = Store::open(&path).unwrap();
            generate(&mut store, now);
        }
    }
    let readers = (0..2)
        .map(|_| Store::open_readonly(&path).unwrap())
        .collect();
    let app = router(Archive::new(
        readers,
        Arc::new(config.into()),
        Arc::new(nonono::metrics::Metrics::default()),
    ));
    let mut rng = Rng(42);
    println!("| request | samples | median | p99 | mean size |");
    println!("|---|---|---|---|---|");
    let threads = (0..SAMPLES)
        .map(|_| format!("/t/{}", 1 + rng.below(THREADS as u64)))
        .collect();
    measure(&app, "thread page `/t/ID`", threads).await;
    let companies = (0..SAMPLES)
        .map(|_| format!("/p/yritys-{}", rng.below(PROVIDERS as u64)))
        .collect();
    measure(&app, "company page `/p/SLUG`", companies).await;
    let waiting = (0..SAMPLES)
        .map(|_| format!("/p/yritys-{}?filter=waiting", rng.below(PROVIDERS as u64)))
        .collect();
    measure(&app, "company page, waiting filter", waiting).await;
    // What readers search for: words of middling frequency (ranks 100..10,000), one or two.
    let typical = (0..SAMPLES / 5)
        .map(|_| {
            format!(
                "/search?q={}",
                encode(&made_up(100 + rng.below(9_900) as usize))
            )
        })
        .collect();
    measure(&app, "search, one typical word", typical).await;
    // Two words, as people narrow a search: a common one and a typical one.
    let two = (0..SAMPLES / 5)
        .map(|_| {
            let common = WORDS[rng.below(WORDS.len() as u64) as usize];
            let typical = made_up(100 + rng.below(9_900) as usize);
            format!("/search?q={}+{}", encode(common), encode(&typical))
        })
        .collect();
    measure(&app, "search, a common and a typical word", two).await;
    // The worst case: one of the commonest words, found in a large share of all posts.
    let common = (0..SAMPLES / 20)
        .map(|_| {
            format!(
                "/search?q={}",
                WORDS[rng.below(WORDS.len() as u64) as usize]
            )
        })
        .collect();
    measure(&app, "search, one of the 50 commonest words", common).await;
    measure(
        &app,
        "feed `/feed.atom`",
        vec!["/feed.atom".to_owned(); SAMPLES / 5],
    )
    .await;
    measure(
        &app,
        "home `/` (100 companies' figures)",
        vec!["/".to_owned(); SAMPLES / 10],
    )
    .await;
}
