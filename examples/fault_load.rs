//! The load side of `bench/fault.sh`: residents, a CRM and a manager at a fixed rate, and, with
//! `--attack`, a flood of unknown survey links, wrong API keys and connections that trickle a
//! body, beside them.
//!
//! ```text
//! fault_load peak   BASE_URL API_KEY SECONDS
//! fault_load steady BASE_URL API_KEY SECONDS RATE [--attack]
//! ```
//!
//! `peak` runs the mix closed-loop on 64 threads and prints the rate it reached. `steady` sends
//! the mix at RATE requests a second (latency counted from when each request was due, so that a
//! stalled server is not hidden by a stalled client) and prints, per kind, the count, failures,
//! p50 and p99, and the answers the server acknowledged (`303`). The server must trust
//! `127.0.0.1` as a proxy: every resident comes from an address of their own in
//! `X-Forwarded-For`, as behind a city's load balancer; each attacker keeps one address.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;

/// Threads sending the residents', the CRM's and the manager's requests.
const WORKERS: usize = 64;
const KINDS: [&str; 4] = ["page", "answer", "api", "report"];
/// Of every 10 requests: 7 survey pages, 1.5 answers, 1.5 reported interactions. Reports come
/// apart, from one manager, `REPORTS` a second (2): each counts the last two days live, so a
/// share of the load would measure the size of today's data rather than the load.
const MIX: [u32; 3] = [140, 30, 30];

struct Shared {
    base: String,
    key: String,
    agent: ureq::Agent,
    /// Links to show (the first ones, and each new one).
    links: Mutex<Vec<String>>,
    /// Links not answered yet: each answer takes one.
    unanswered: Mutex<Vec<String>>,
    acknowledged: AtomicU64,
    next_id: AtomicU64,
    run: String,
    closed_at: String,
    report_query: String,
}

/// What one request gave: its kind, whether it did what it should, and how long it took.
type Sample = (usize, bool, u32);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: fault_load peak|steady BASE_URL API_KEY SECONDS [RATE] [--attack]";
    let (mode, base, key, seconds) = match args.as_slice() {
        [m, b, k, s, ..] => (m.as_str(), b.clone(), k.clone(), s.parse::<u64>()?),
        _ => return Err(usage.into()),
    };
    let now = chrono::Utc::now();
    let shared = Arc::new(Shared {
        base,
        key,
        agent: ureq::AgentBuilder::new()
            .redirects(0)
            .timeout(Duration::from_secs(30))
            .max_idle_connections(1024)
            .max_idle_connections_per_host(1024)
            .build(),
        links: Mutex::new(Vec::new()),
        unanswered: Mutex::new(Vec::new()),
        acknowledged: AtomicU64::new(0),
        next_id: AtomicU64::new(0),
        run: uuid::Uuid::new_v4().simple().to_string()[..8].to_string(),
        closed_at: (now - chrono::Duration::hours(1)).to_rfc3339(),
        report_query: format!(
            "from={}&to={}",
            (now - chrono::Duration::days(30)).format("%Y-%m-%d"),
            now.format("%Y-%m-%d")
        ),
    });
    // Links to start from: the pages need some before the first answer makes more.
    for _ in 0..500 {
        report_interaction(&shared, &mut rand::thread_rng());
    }
    let duration = Duration::from_secs(seconds);
    match mode {
        "peak" => {
            let start = Instant::now();
            let samples = run_workers(&shared, WORKERS, None, duration);
            // The manager's fixed rate is not part of the peak.
            let samples: Vec<_> = samples.into_iter().filter(|s| s.0 != 3).collect();
            let rate = samples.len() as f64 / start.elapsed().as_secs_f64();
            println!("peak {rate:.0} req/s");
            println!(
                "acknowledged_answers {}",
                shared.acknowledged.load(Ordering::Relaxed)
            );
        }
        "steady" => {
            let rate: f64 = args.get(4).ok_or(usage)?.parse()?;
            let stop = Arc::new(AtomicBool::new(false));
            let attackers = if args.iter().any(|a| a == "--attack") {
                let slow_link = shared
                    .links
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .first()
                    .cloned()
                    .ok_or("no link to trickle a body to")?;
                attack(&shared.base, &slow_link, &stop)
            } else {
                Vec::new()
            };
            // As many workers as the peak was measured with: more threads would cost the two cores
            // more than they measure.
            let samples = run_workers(&shared, WORKERS, Some(rate), duration);
            stop.store(true, Ordering::Relaxed);
            for (name, handle) in attackers {
                let counts = handle.join().map_err(|_| "an attacker panicked")?;
                println!("attack {name} {counts}");
            }
            report(&samples, duration);
            println!(
                "acknowledged_answers {}",
                shared.acknowledged.load(Ordering::Relaxed)
            );
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}

/// `workers` threads send the mix until `duration` is over: as fast as answers come (closed
/// loop), or each at its share of `rate`.
fn run_workers(
    shared: &Arc<Shared>,
    workers: usize,
    rate: Option<f64>,
    duration: Duration,
) -> Vec<Sample> {
    let start = Instant::now();
    let reports = setting("REPORTS", 2.0);
    // Worker `workers` is the manager.
    let handles: Vec<_> = (0..=workers)
        .map(|w| {
            let shared = Arc::clone(shared);
            std::thread::spawn(move || {
                let mut rng = rand::thread_rng();
                let mut samples = Vec::new();
                let manager = w == workers;
                let interval = if manager {
                    Some(Duration::from_secs_f64(1.0 / reports))
                } else {
                    rate.map(|r| Duration::from_secs_f64(workers as f64 / r))
                };
                // Spread the workers over one interval, so they do not fire together.
                let mut due =
                    start + interval.map_or(Duration::ZERO, |i| i * w as u32 / workers as u32);
                while due.duration_since(start) < duration {
                    if interval.is_some() {
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    } else {
                        due = Instant::now();
                    }
                    let kind = if manager { 3 } else { pick(&mut rng) };
                    let ok = send(&shared, kind, &mut rng);
                    let took = Instant::now().duration_since(due).as_micros();
                    samples.push((kind, ok, u32::try_from(took).unwrap_or(u32::MAX)));
                    if let Some(interval) = interval {
                        due += interval;
                    }
                }
                samples
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect()
}

fn pick(rng: &mut impl Rng) -> usize {
    let mut n = rng.gen_range(0..MIX.iter().sum::<u32>());
    for (kind, weight) in MIX.iter().enumerate() {
        if n < *weight {
            return kind;
        }
        n -= weight;
    }
    0
}

/// A resident's address behind the load balancer: one of 65,536.
fn resident(rng: &mut impl Rng) -> String {
    format!("10.20.{}.{}", rng.gen::<u8>(), rng.gen::<u8>())
}

fn send(shared: &Shared, kind: usize, rng: &mut impl Rng) -> bool {
    match KINDS[kind] {
        "page" => {
            let link = {
                let links = shared.links.lock().unwrap_or_else(|e| e.into_inner());
                if links.is_empty() {
                    return false;
                }
                links[rng.gen_range(0..links.len())].clone()
            };
            let code = status(
                shared
                    .agent
                    .get(&link)
                    .set("X-Forwarded-For", &resident(rng))
                    .call(),
            );
            // An answered link is 410, as it should be.
            code == 200 || code == 410
        }
        "answer" => {
            let link = shared
                .unanswered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop();
            let Some(link) = link else {
                return report_interaction(shared, rng);
            };
            let ok = status(
                shared
                    .agent
                    .post(&link)
                    .set("X-Forwarded-For", &resident(rng))
                    .send_form(&[
                        ("overall", "4"),
                        ("resolved", "resolved"),
                        ("effort", "6"),
                        ("professionalism", "5"),
                        ("comment", "תודה על הטיפול"),
                        ("contact_consent", "no"),
                    ]),
            ) == 303;
            if ok {
                shared.acknowledged.fetch_add(1, Ordering::Relaxed);
            }
            ok
        }
        "api" => report_interaction(shared, rng),
        _ => {
            status(
                shared
                    .agent
                    .get(&format!(
                        "{}/api/v1/reports/summary?{}",
                        shared.base, shared.report_query
                    ))
                    .set("Authorization", &format!("Bearer {}", shared.key))
                    .call(),
            ) == 200
        }
    }
}

/// The CRM reports a closed request; its link joins the pages and waits for its answer.
fn report_interaction(shared: &Shared, rng: &mut impl Rng) -> bool {
    let n = shared.next_id.fetch_add(1, Ordering::Relaxed);
    let body = serde_json::json!({
        "external_id": format!("FAULT-{}-{n}", shared.run),
        "audience": "resident",
        "service_code": "sanitation.bulky-waste",
        "channel": "web",
        "closed_at": shared.closed_at,
        "contact": {"email": format!("r{n}-{}@example.org", shared.run), "language": "he"},
    });
    let answer = shared
        .agent
        .post(&format!("{}/api/v1/interactions", shared.base))
        .set("Authorization", &format!("Bearer {}", shared.key))
        .set("X-Forwarded-For", &resident(rng))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    let Ok(answer) = answer else { return false };
    let link = answer
        .into_string()
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["survey_url"].as_str().map(str::to_string));
    let Some(link) = link else { return false };
    shared
        .links
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(link.clone());
    shared
        .unanswered
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(link);
    true
}

fn status(result: Result<ureq::Response, ureq::Error>) -> u16 {
    match result {
        Ok(r) => {
            let code = r.status();
            // Read the body, so that the connection goes back to the pool.
            let _ = r.into_string();
            code
        }
        Err(ureq::Error::Status(code, r)) => {
            let _ = r.into_string();
            code
        }
        Err(_) => 0,
    }
}

fn report(samples: &[Sample], duration: Duration) {
    for (kind, name) in KINDS.iter().enumerate() {
        let mut took: Vec<u32> = samples
            .iter()
            .filter(|s| s.0 == kind)
            .map(|s| s.2)
            .collect();
        let failed = samples.iter().filter(|s| s.0 == kind && !s.1).count();
        took.sort_unstable();
        let at = |q: f64| {
            took.get(((took.len() as f64 * q) as usize).min(took.len().saturating_sub(1)))
                .map_or(0.0, |us| f64::from(*us) / 1000.0)
        };
        println!(
            "legit {name} n={} rate={:.0}/s failed={failed} p50={:.1}ms p99={:.1}ms",
            took.len(),
            took.len() as f64 / duration.as_secs_f64(),
            at(0.50),
            at(0.99)
        );
    }
    let mut all: Vec<u32> = samples.iter().map(|s| s.2).collect();
    all.sort_unstable();
    let p99 = all
        .get((all.len() as f64 * 0.99) as usize)
        .map_or(0.0, |us| f64::from(*us) / 1000.0);
    println!("legit all n={} p99={p99:.1}ms", all.len());
}

/// A rate from the environment: `REPORTS` a second (2); how hard each attacker tries: `FLOOD`
/// unknown links a second (500), `WRONG_KEYS` wrong API keys a second (100), `SLOW` connections
/// trickling a body (300).
fn setting(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The attackers, each from one address of its own, until `stop`. The slow bodies go to a real
/// link, whose answer is read before anything else is checked.
fn attack(
    base: &str,
    slow_link: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<(&'static str, std::thread::JoinHandle<String>)> {
    let (flood_rate, key_rate) = (setting("FLOOD", 500.0), setting("WRONG_KEYS", 100.0));
    let slow = setting("SLOW", 300.0) as usize;
    let agent = ureq::AgentBuilder::new()
        .redirects(0)
        .timeout(Duration::from_secs(10))
        .build();
    let mut attackers = Vec::new();
    // Unknown survey links.
    let (a, b, s) = (agent.clone(), base.to_string(), Arc::clone(stop));
    attackers.push((
        "unknown_links",
        std::thread::spawn(move || {
            flood(&s, flood_rate, |rng| {
                let token: String = (0..43)
                    .map(|_| {
                        char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.gen_range(0..36)])
                    })
                    .collect();
                status(
                    a.get(&format!("{b}/s/{token}"))
                        .set("X-Forwarded-For", "203.0.113.66")
                        .call(),
                )
            })
        }),
    ));
    // Wrong API keys.
    let (a, b, s) = (agent, base.to_string(), Arc::clone(stop));
    attackers.push((
        "wrong_keys",
        std::thread::spawn(move || {
            flood(&s, key_rate, |rng| {
                status(
                    a.get(&format!("{b}/api/v1/followups"))
                        .set(
                            "Authorization",
                            &format!("Bearer mashov_{}", rng.gen::<u64>()),
                        )
                        .set("X-Forwarded-For", "203.0.113.67")
                        .call(),
                )
            })
        }),
    ));
    // Connections that each promise a 100 kB answer and send a byte a second.
    let (b, link, s) = (base.to_string(), slow_link.to_string(), Arc::clone(stop));
    attackers.push((
        "slow_bodies",
        std::thread::spawn(move || trickle(&b, &link, &s, slow)),
    ));
    attackers
}

/// Sends `rate` requests a second until `stop`; returns how many got each status.
fn flood(
    stop: &AtomicBool,
    rate: f64,
    mut one: impl FnMut(&mut rand::rngs::ThreadRng) -> u16,
) -> String {
    let mut rng = rand::thread_rng();
    let mut counts = std::collections::BTreeMap::<u16, u64>::new();
    if rate <= 0.0 {
        return "off".to_string();
    }
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut due = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        *counts.entry(one(&mut rng)).or_default() += 1;
        due += interval;
        // Behind by more than a second: the attacker is as fast as it can be, not faster.
        if Instant::now().duration_since(due) > Duration::from_secs(1) {
            due = Instant::now();
        }
    }
    counts
        .iter()
        .map(|(code, n)| format!("{code}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Keeps `n` connections trickling a body; returns how many the server cut (and were opened
/// again).
fn trickle(base: &str, link: &str, stop: &AtomicBool, n: usize) -> String {
    let address = base.trim_start_matches("http://").to_string();
    let path = link.strip_prefix(base).unwrap_or(link);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: mashov\r\nX-Forwarded-For: 203.0.113.68\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
    );
    let open = || -> Option<TcpStream> {
        let mut s = TcpStream::connect(&address).ok()?;
        s.set_write_timeout(Some(Duration::from_secs(1))).ok()?;
        s.write_all(head.as_bytes()).ok()?;
        Some(s)
    };
    let mut conns: Vec<Option<TcpStream>> = (0..n).map(|_| open()).collect();
    let (cut, opened) = (AtomicU64::new(0), AtomicU64::new(n as u64));
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_secs(1));
        for conn in conns.iter_mut() {
            let alive = conn.as_mut().is_some_and(|s| s.write_all(b"a").is_ok());
            if !alive {
                cut.fetch_add(1, Ordering::Relaxed);
                opened.fetch_add(1, Ordering::Relaxed);
                *conn = open();
            }
        }
    }
    format!(
        "opened:{} cut_by_server:{}",
        opened.load(Ordering::Relaxed),
        cut.load(Ordering::Relaxed)
    )
}
