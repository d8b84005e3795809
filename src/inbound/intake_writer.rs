//! The intake writer: one thread that commits received messages to the intake (see
//! [`crate::store::intake`]), from where the pipeline moves them into the store's journal.
//!
//! Sessions hand over a message and wait; the writer takes everything that has arrived meanwhile
//! and commits it in one transaction (group commit), so concurrent sessions share the cost of a
//! durable commit. Only after the commit does a session answer `250`.

use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::mail::Envelope;
use crate::store::Arrival;
use crate::store::intake::Intake;

/// Most messages committed in one transaction.
const MAX_BATCH: usize = 256;

/// Why a message could not be committed; the session answers 451 and the client retries.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("the store could not take the message: {0}")]
    Store(String),
    #[error("the intake writer has stopped")]
    Stopped,
}

struct Job {
    envelope: Envelope,
    raw: Vec<u8>,
    received_at: i64,
    feedback: bool,
    provider: Option<String>,
    reply: oneshot::Sender<Result<i64, IntakeError>>,
}

/// A handle for committing messages; cheap to clone. The writer thread ends when every handle
/// is dropped, after committing what it holds.
#[derive(Clone)]
pub struct IntakeWriter {
    jobs: mpsc::Sender<Job>,
}

impl IntakeWriter {
    /// Starts the writer thread on its own connection to the intake. `committed` is called
    /// after each commit (to wake the pipeline, which moves messages on into the store).
    pub fn start(
        mut intake: Intake,
        committed: impl Fn() + Send + 'static,
    ) -> std::io::Result<(IntakeWriter, JoinHandle<()>)> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let handle = std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    let rows: Vec<_> = batch
                        .iter()
                        .map(|j| Arrival {
                            envelope: &j.envelope,
                            raw: &j.raw,
                            received_at: j.received_at,
                            feedback: j.feedback,
                            provider: j.provider.as_deref(),
                        })
                        .collect();
                    match intake.append(&rows) {
                        Ok(ids) => {
                            for (job, id) in batch.into_iter().zip(ids) {
                                let _ = job.reply.send(Ok(id));
                            }
                            committed();
                        }
                        Err(e) => {
                            tracing::error!("intake: commit failed: {e}");
                            for job in batch {
                                let _ = job.reply.send(Err(IntakeError::Store(e.to_string())));
                            }
                        }
                    }
                }
            })?;
        Ok((IntakeWriter { jobs }, handle))
    }

    /// Commits one message durably and returns its journal id. `feedback` and `provider` are
    /// what the receiver learnt about it (see [`Arrival`]).
    pub async fn commit(
        &self,
        envelope: Envelope,
        raw: Vec<u8>,
        received_at: i64,
        feedback: bool,
        provider: Option<String>,
    ) -> Result<i64, IntakeError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                envelope,
                raw,
                received_at,
                feedback,
                provider,
                reply,
            })
            .map_err(|_| IntakeError::Stopped)?;
        answer.await.map_err(|_| IntakeError::Stopped)?
    }
}
