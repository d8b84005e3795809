//! Turns at the store's write lock for the service's own writers, first come first served.
//!
//! SQLite's write lock has no queue: a writer that finds it taken sleeps a little and tries
//! again. Under a flood the pipeline, which asks again the moment its batch commits, nearly
//! always won; the relay recording deliveries and the move from the intake slept, the outbox
//! grew, and the pipeline had to pause after every batch to let them in (half its time asleep,
//! counting its own sleeps behind them). Writers that share these turns queue instead, and
//! each is woken as the one before it finishes. Other processes (the command-line tools) still
//! meet SQLite's own lock.

use std::sync::{Arc, Condvar, Mutex};

/// The queue of writers. Shared through an [`Arc`] by the connections that take turns.
#[derive(Default, Debug)]
pub struct WriteTurns {
    tickets: Mutex<Tickets>,
    next_served: Condvar,
}

#[derive(Default, Debug)]
struct Tickets {
    /// The ticket the next writer to ask gets.
    next: u64,
    /// The ticket whose turn it is.
    serving: u64,
}

impl WriteTurns {
    /// Waits for the caller's turn; it lasts until the returned [`Turn`] is dropped.
    pub fn take(self: &Arc<Self>) -> Turn {
        let mut tickets = self.tickets.lock().unwrap_or_else(|e| e.into_inner());
        let ticket = tickets.next;
        tickets.next += 1;
        while tickets.serving != ticket {
            tickets = self
                .next_served
                .wait(tickets)
                .unwrap_or_else(|e| e.into_inner());
        }
        Turn(self.clone())
    }
}

/// A writer's turn: the next one in line goes when it is dropped.
#[derive(Debug)]
pub struct Turn(Arc<WriteTurns>);

impl Drop for Turn {
    fn drop(&mut self) {
        let mut tickets = self.0.tickets.lock().unwrap_or_else(|e| e.into_inner());
        tickets.serving += 1;
        self.0.next_served.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn writers_take_their_turns_in_the_order_they_asked() {
        let turns = Arc::new(WriteTurns::default());
        let first = turns.take();
        let order = Arc::new(Mutex::new(Vec::new()));
        let waiting: Vec<_> = (0..4)
            .map(|i| {
                let (queued, order) = (turns.clone(), order.clone());
                let writer = std::thread::spawn(move || {
                    let _turn = queued.take();
                    order.lock().unwrap().push(i);
                });
                // Each asks after the one before it is queued.
                while turns.tickets.lock().unwrap().next < i + 2 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                writer
            })
            .collect();
        assert!(order.lock().unwrap().is_empty(), "all wait for the first");
        drop(first);
        for writer in waiting {
            writer.join().unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
        // And the next one goes at once.
        drop(turns.take());
    }
}
