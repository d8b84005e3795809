//! Accountability: companies past their response time are reminded (at most three times, on a
//! clock the test controls), and the reminders are answerable mail.

mod common;

use common::{TestApp, fixture};
use nonono::app;
use nonono::calendar::add_working_days;
use nonono::remind;

#[tokio::test]
async fn a_late_company_is_reminded_three_times_at_most_and_its_answer_stops_them() {
    let mut app = TestApp::start().await;
    let (forward, _) = app.new_thread().await;
    app.wait_processed().await;
    app.stop().await;

    let config = app.config.clone();
    let key = app::token_key(&config).unwrap();
    let mut store = app::open_store(&config).unwrap();
    let thread = store.latest_threads(1).unwrap().remove(0);
    let due = thread
        .due_at
        .expect("a registered company has a response time");
    let mut remind_at = |now| remind::send_due(&mut store, &config, &key, now).unwrap();

    assert_eq!(remind_at(due - 60), 0, "not before the response time");
    assert_eq!(remind_at(due + 60), 1);
    assert_eq!(remind_at(due + 120), 0, "not again straight away");
    // Elisa answers within 3 working days: the next reminder comes 3 working days later.
    let second = add_working_days(due + 60, 3, &[]);
    assert_eq!(remind_at(second - 60), 0);
    assert_eq!(remind_at(second), 1);
    let third = add_working_days(second, 3, &[]);
    assert_eq!(remind_at(third), 1);
    assert_eq!(
        remind_at(add_working_days(third, 30, &[])),
        0,
        "three at most"
    );
    // The reminders were queued at the test's future times: make them due on the real clock.
    store.outbound_retry_now(nonono::clock::now()).unwrap();
    drop(store);

    app.restart(|_| {}).await;
    let out = app.wait_outbound(5).await;
    let reminders: Vec<_> = out
        .iter()
        .filter(|m| m.subject.starts_with("Muistutus "))
        .collect();
    assert_eq!(reminders.len(), 3);
    assert_eq!(reminders[0].subject, "Muistutus 1/3: Lasku tuli kahdesti");
    assert_eq!(reminders[2].subject, "Muistutus 3/3: Lasku tuli kahdesti");
    for r in &reminders {
        assert_eq!(r.to, forward.to, "to the route that has the feedback");
        assert_eq!(r.from, forward.from, "answering it answers the feedback");
        assert!(
            r.in_reply_to.contains(&forward.message_id),
            "threaded under the forward"
        );
        assert!(r.text.contains("https://nonono.test/t/"), "{}", r.text);
    }
    let (_, page) = app.get(&format!("/t/{}", thread.id)).await;
    assert!(
        page.contains("Yritykselle lähetettiin muistutus 1/3"),
        "{page}"
    );
    assert!(page.contains("Yritykselle lähetettiin muistutus 3/3"));

    // The company answers the last reminder: that is its answer to the feedback.
    let answer = fixture(
        "provider-reply-official.eml",
        &[
            ("to", &reminders[2].from),
            ("in_reply_to", &reminders[2].message_id),
        ],
    );
    app.send("anna@elisa.example", &reminders[2].from, &answer)
        .await
        .unwrap();
    app.wait_processed().await;
    let answered = app.store().thread(thread.id).unwrap().unwrap();
    assert!(answered.first_answer_at.is_some());
}
