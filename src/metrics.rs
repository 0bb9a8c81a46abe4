//! What `GET /metrics` counts in memory (requests by route and status, their latency, answers
//! acknowledged); the rest it reads from the database when scraped. Plain counters behind one
//! short lock: a scrape a few times a minute and a lock per request cost less than a
//! dependency.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Latency buckets, in seconds (Prometheus' `le`).
pub const BUCKETS: [f64; 11] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    /// Answers acknowledged (`303` on a survey form) since the process started.
    pub answers: AtomicU64,
}

#[derive(Default, Clone)]
pub struct Histogram {
    pub counts: [u64; BUCKETS.len()],
    pub sum: f64,
    pub count: u64,
}

impl Metrics {
    /// One request answered: its route (the pattern, never the path: no token), status and
    /// time.
    pub fn observe(&self, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_string()).or_default();
            for (i, le) in BUCKETS.iter().enumerate() {
                if secs <= *le {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    pub fn answer_stored(&self) {
        self.answers.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as Prometheus' text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP mashov_http_requests_total Requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE mashov_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "mashov_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mashov_http_request_duration_seconds Time to answer, by route."
        );
        let _ = writeln!(out, "# TYPE mashov_http_request_duration_seconds histogram");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                let route = escape(route);
                for (i, le) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "mashov_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "mashov_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "mashov_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "mashov_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mashov_answers_stored_total Answers acknowledged since start."
        );
        let _ = writeln!(out, "# TYPE mashov_answers_stored_total counter");
        let _ = writeln!(
            out,
            "mashov_answers_stored_total {}",
            self.answers.load(Ordering::Relaxed)
        );
    }
}

/// A label value with `\`, `"` and new lines escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_latency_are_counted_per_route_and_rendered() {
        let m = Metrics::default();
        m.observe("/s", 200, Duration::from_millis(3));
        m.observe("/s", 200, Duration::from_millis(30));
        m.observe("/s", 404, Duration::from_millis(1));
        m.answer_stored();
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("mashov_http_requests_total{route=\"/s\",status=\"200\"} 2"));
        assert!(out.contains("mashov_http_requests_total{route=\"/s\",status=\"404\"} 1"));
        assert!(out
            .contains("mashov_http_request_duration_seconds_bucket{route=\"/s\",le=\"0.005\"} 2"));
        assert!(
            out.contains("mashov_http_request_duration_seconds_bucket{route=\"/s\",le=\"+Inf\"} 3")
        );
        assert!(out.contains("mashov_answers_stored_total 1"));
        assert_eq!(escape("a\"b\\c"), "a\\\"b\\\\c");
    }
}
