//! What the operator's monitoring reads: `/healthz` (the store answers and takes writes) and
//! `/metrics` (Prometheus figures of the receiver and the store).

use std::time::Instant;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::handlers::{PageError, read};
use super::state::{Archive, HEALTH_FRESH};

/// 200 when the store answers and takes writes; 503 with the reason otherwise.
pub(super) async fn healthz(State(archive): State<Archive>) -> Response {
    if let Err(e) = read(&archive, |s| s.ping()).await {
        return e.into_response();
    }
    let Some(writer) = archive.writer.clone() else {
        return "ok\n".into_response();
    };
    let known = *archive.health.lock().expect("health lock");
    let writable = match known {
        Some((at, writable)) if at.elapsed() < HEALTH_FRESH => writable,
        _ => {
            let probe = writer
                .store
                .run(|s| s.probe_write(crate::clock::now()))
                .await;
            if let Err(e) = &probe {
                tracing::error!("healthz: the store takes no writes: {e}");
            }
            *archive.health.lock().expect("health lock") = Some((Instant::now(), probe.is_ok()));
            probe.is_ok()
        }
    };
    if writable {
        "ok\n".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the store takes no writes: mail cannot be accepted\n",
        )
            .into_response()
    }
}

/// Prometheus text format: the receiver's counters and what the store holds.
pub(super) async fn metrics(State(archive): State<Archive>) -> Result<Response, PageError> {
    let now = crate::clock::now();
    let f = read(&archive, move |s| s.figures_for_metrics(now)).await?;
    let mut out = String::new();
    archive.metrics.render(&mut out);
    let (registry_version, companies) = archive.registry();
    for (name, help, kind, value) in [
        (
            "nonono_registry_version",
            "The company registry's change the running service goes by.",
            "gauge",
            registry_version,
        ),
        (
            "nonono_companies",
            "Companies the running service routes to.",
            "gauge",
            companies,
        ),
        (
            "nonono_journal_messages",
            "Messages ever committed to the journal.",
            "counter",
            f.journal_total,
        ),
        (
            "nonono_pipeline_pending",
            "Committed messages the pipeline has not processed.",
            "gauge",
            f.journal_pending,
        ),
        (
            "nonono_pipeline_failed",
            "Messages the pipeline failed on (see nonono reprocess).",
            "gauge",
            f.journal_failed,
        ),
        (
            "nonono_held_messages",
            "Messages waiting in the holding pen for a person (see nonono held).",
            "gauge",
            f.held,
        ),
        (
            "nonono_pipeline_lag_seconds",
            "Age of the oldest message waiting for the pipeline.",
            "gauge",
            f.pipeline_lag_secs,
        ),
        (
            "nonono_outbox_pending",
            "Outbound messages waiting for delivery.",
            "gauge",
            f.outbox_pending,
        ),
        (
            "nonono_outbox_delivered_total",
            "Outbound messages delivered.",
            "counter",
            f.outbox_sent,
        ),
        (
            "nonono_outbox_failed_total",
            "Outbound messages given up on.",
            "counter",
            f.outbox_failed,
        ),
        ("nonono_threads", "Threads.", "gauge", f.threads),
        ("nonono_posts", "Posts.", "gauge", f.posts),
    ] {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
        );
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}
