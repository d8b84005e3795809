//! The company registry at the size of a national service: routing a subject tag, an address,
//! and the work a change costs, with 10,000 companies.
//!
//! ```text
//! cargo bench --bench registry [-- COMPANIES]
//! ```

use std::time::Instant;

use nonono::config::{Config, ProviderConfig};
use nonono::domain::route;
use nonono::pipeline::registry::{self, Expect};
use nonono::store::Store;

fn company(i: usize) -> ProviderConfig {
    ProviderConfig::from_record(&format!(
        "slug = \"yritys-{i}\"\nname = \"Yritys {i} Oy\"\naliases = [\"Yrityskeskus {i}\", \"YK{i}\"]\n\
         routes = [\"palaute@yritys{i}.example\"]\nrepresentatives = [\"yritys{i}.example\"]\n"
    ))
    .expect("a company")
}

/// Runs `f` `n` times and prints the median and the slowest run.
fn time(what: &str, n: usize, mut f: impl FnMut()) {
    let mut runs: Vec<f64> = (0..n)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "| {what} | {n} | {:.1} µs | {:.1} µs |",
        runs[n / 2],
        runs[n - 1]
    );
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let companies: Vec<ProviderConfig> = (0..count).map(company).collect();
    let config = Config {
        providers: nonono::config::Companies::indexed(companies.clone()),
        ..Config::default()
    };
    println!("{count} companies\n");
    println!("| work | runs | median | slowest |");
    println!("|---|---|---|---|");
    let last = count - 1;
    let subjects = [
        format!("[Yritys {last} Oy] Lasku tuli kahdesti"),
        format!("[YK{last}] Lasku tuli kahdesti"),
        "[Tilausnro 123] [Tuntematon Oy] kiitos".to_owned(),
    ];
    for (what, subject) in ["tag: a name", "tag: an alias", "tag: two unknown"]
        .iter()
        .zip(&subjects)
    {
        time(what, 200, || {
            std::hint::black_box(route::find_tag(subject, &config.providers));
        });
    }
    time("address: SLUG@", 200, || {
        std::hint::black_box(config.provider(&format!("yritys-{last}")));
    });

    let mut store = Store::open_in_memory().expect("store");
    let started = Instant::now();
    registry::save(
        &mut store,
        &Config::default(),
        &companies,
        Expect::New,
        "bench",
        0,
    )
    .expect("import");
    println!(
        "\nimport of {count}: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    time("a change seen: the live config made anew", 5, || {
        std::hint::black_box(registry::snapshot(&store, &Config::default()).unwrap());
    });
    let mut n = 0;
    time("providers edit: one company checked and saved", 5, || {
        n += 1;
        let mut c = company(7);
        c.response_days = 3 + n;
        registry::save(
            &mut store,
            &Config::default(),
            &[c],
            Expect::Registered,
            "bench",
            n as i64,
        )
        .unwrap();
    });
}
