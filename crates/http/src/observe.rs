//! What the endpoint counts for the operator's dashboards, under Prometheus' names (base
//! units, `_total` counters) with bounded labels: the call, and its outcome as a slug of a
//! spec text. Without a recorder installed (no `--metrics-bind`) the counting costs nothing.

use std::time::Duration;

use morcc_domain::ApiCall;

/// `morcc_requests_total{call, outcome}`.
pub const REQUESTS: &str = "morcc_requests_total";
/// `morcc_request_duration_seconds{call}`.
pub const REQUEST_DURATION: &str = "morcc_request_duration_seconds";
/// `morcc_login_refusals_total`: requests refused by the failed-login limit.
pub const LOGIN_REFUSALS: &str = "morcc_login_refusals_total";
/// `morcc_idempotent_replays_total`: requests answered with a kept reply.
pub const IDEMPOTENT_REPLAYS: &str = "morcc_idempotent_replays_total";

/// A request of `call` answered with `outcome` (`ok` or a spec text) after `elapsed`.
pub fn request_served(call: ApiCall, outcome: &str, elapsed: Duration) {
    metrics::counter!(REQUESTS, "call" => call.name(), "outcome" => outcome_label(outcome))
        .increment(1);
    metrics::histogram!(REQUEST_DURATION, "call" => call.name()).record(elapsed.as_secs_f64());
}

/// A request refused unseen by the failed-login limit.
pub fn login_refused() {
    metrics::counter!(LOGIN_REFUSALS).increment(1);
}

/// A request answered with the reply kept under its idempotency key.
pub fn replayed() {
    metrics::counter!(IDEMPOTENT_REPLAYS).increment(1);
}

/// The label of an outcome: `ok`, or the text as a lowercase slug, words joined by `_`
/// (`Bad login` is `bad_login`).
pub fn outcome_label(text: &str) -> String {
    let mut label = String::with_capacity(text.len());
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        if word.is_empty() {
            continue;
        }
        if !label.is_empty() {
            label.push('_');
        }
        label.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_slugs_of_the_spec_s_texts() {
        assert_eq!(outcome_label("ok"), "ok");
        assert_eq!(outcome_label("Bad login"), "bad_login");
        assert_eq!(outcome_label("Incorrect hash"), "incorrect_hash");
        assert_eq!(
            outcome_label("Failed to make transaction"),
            "failed_to_make_transaction"
        );
        assert_eq!(
            outcome_label("Device allready have such callerid, but you do not have permission to change user's balance"),
            "device_allready_have_such_callerid_but_you_do_not_have_permission_to_change_user_s_balance"
        );
    }
}
