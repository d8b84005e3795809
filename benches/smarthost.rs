//! Our smarthost client and lettre's, side by side, delivering the same messages over STARTTLS
//! to the same server (`bench/smarthost.sh` starts Postfix as a TLS sink that discards).
//!
//! ```text
//! cargo bench --bench smarthost -- HOST PORT CA_PEM MESSAGES PARALLEL
//! ```
//! For each client: `client=ours|lettre msgs=N secs=S rate=R cpu_ms_per_msg=C` (the process's
//! CPU, user and system, while that client ran).

use std::sync::Arc;
use std::time::Instant;

use lettre::AsyncTransport;
use nonono::config::{Config, OutboundTls, Transport};
use nonono::relay::tls::Security;
use nonono::relay::{Delivery, Envelope, Smarthost};

/// This process's CPU time so far, in seconds (user and system, from /proc).
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name in parentheses: utime and stime are the 12th and 13th.
    let after = &stat[stat.rfind(')').expect("stat") + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn message(n: usize) -> Vec<u8> {
    let body =
        "Hei,\r\n\r\nlasku tuli kahdesti, ja molemmat veloitettiin tililtäni.\r\n".repeat(28);
    format!(
        "From: Matti M. via nonono <palaute@nonono.localhost>\r\nTo: <laskutus@elisa.example>\r\nSubject: Palaute: Lasku tuli kahdesti {n}\r\nMessage-ID: <bench{n}@nonono.localhost>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}"
    )
    .into_bytes()
}

fn report(client: &str, n: usize, started: Instant, cpu_before: f64) {
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu_before;
    println!(
        "client={client} msgs={n} secs={secs:.2} rate={:.0} cpu_ms_per_msg={:.3}",
        n as f64 / secs,
        cpu * 1000.0 / n as f64
    );
}

async fn ours(host: &str, port: u16, ca: &str, n: usize, parallel: usize) {
    let mut config = Config::default();
    config.outbound.transport = Transport::Smtp;
    config.outbound.smtp_host = host.to_owned();
    config.outbound.smtp_port = port;
    config.outbound.tls = OutboundTls::Starttls;
    config.outbound.tls_ca = Some(ca.into());
    let security = Security::from_config(&config).expect("TLS set up");
    let smarthost =
        Arc::new(Smarthost::new(host, port, "bench.localhost", parallel).secured(security));
    let envelope =
        Arc::new(Envelope::new("b+bench@nonono.localhost", "laskutus@elisa.example").unwrap());
    let (started, cpu) = (Instant::now(), cpu_secs());
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..parallel {
        let (smarthost, envelope) = (smarthost.clone(), envelope.clone());
        tasks.spawn(async move {
            for i in (t..n).step_by(parallel) {
                match smarthost.deliver(&envelope, &message(i)).await {
                    Delivery::Sent => {}
                    other => panic!("ours: {other:?}"),
                }
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    report("ours", n, started, cpu);
}

async fn lettre(host: &str, port: u16, ca: &str, n: usize, parallel: usize) {
    use lettre::transport::smtp::PoolConfig;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let pem = std::fs::read(ca).unwrap();
    let tls = TlsParameters::builder(host.to_owned())
        .add_root_certificate(Certificate::from_pem(&pem).unwrap())
        .build_rustls()
        .unwrap();
    let transport = Arc::new(
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .tls(Tls::Required(tls))
            .pool_config(PoolConfig::new().max_size(parallel as u32))
            .build(),
    );
    let envelope = Arc::new(
        lettre::address::Envelope::new(
            Some("b+bench@nonono.localhost".parse().unwrap()),
            vec!["laskutus@elisa.example".parse().unwrap()],
        )
        .unwrap(),
    );
    let (started, cpu) = (Instant::now(), cpu_secs());
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..parallel {
        let (transport, envelope) = (transport.clone(), envelope.clone());
        tasks.spawn(async move {
            for i in (t..n).step_by(parallel) {
                transport
                    .send_raw(&envelope, &message(i))
                    .await
                    .unwrap_or_else(|e| panic!("lettre: {e}"));
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    report("lettre", n, started, cpu);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [host, port, ca, n, parallel] = args.as_slice() else {
        eprintln!("usage: smarthost HOST PORT CA_PEM MESSAGES PARALLEL");
        std::process::exit(2);
    };
    let (port, n, parallel): (u16, usize, usize) = (
        port.parse().unwrap(),
        n.parse().unwrap(),
        parallel.parse().unwrap(),
    );
    // Alternating, so that neither always meets the server warmer.
    for round in 0..2 {
        if round % 2 == 0 {
            ours(host, port, ca, n, parallel).await;
            lettre(host, port, ca, n, parallel).await;
        } else {
            lettre(host, port, ca, n, parallel).await;
            ours(host, port, ca, n, parallel).await;
        }
    }
}
