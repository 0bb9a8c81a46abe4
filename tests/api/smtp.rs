//! A real SMTP server for the tests, on loopback: it speaks enough ESMTP for lettre, keeps what
//! it receives, and can be told to refuse (4xx for the next N messages, 5xx for an address).

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    pub fn parsed(&self) -> mailparse::ParsedMail<'_> {
        mailparse::parse_mail(self.data.as_bytes()).expect("a MIME message")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        use mailparse::MailHeaderMap;
        self.parsed().headers.get_first_value(name)
    }

    /// The decoded body of the first part with this content type.
    pub fn part(&self, content_type: &str) -> Option<String> {
        fn find(m: &mailparse::ParsedMail<'_>, ct: &str) -> Option<String> {
            if m.subparts.is_empty() {
                return (m.ctype.mimetype == ct).then(|| m.get_body().expect("body"));
            }
            m.subparts.iter().find_map(|p| find(p, ct))
        }
        find(&self.parsed(), content_type)
    }
}

#[derive(Default)]
struct Behaviour {
    /// Answer `451` to this many coming transactions.
    transient_failures: usize,
    /// Answer `550` to these recipients.
    rejected: HashSet<String>,
    /// Wait this long before accepting each message (a slow server).
    delay: Duration,
}

pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<VecDeque<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    stop: Arc<AtomicBool>,
}

impl SmtpSink {
    /// Starts on a free port.
    pub fn start() -> SmtpSink {
        SmtpSink::start_on(0)
    }

    /// Starts on a given port (a server that was "down" coming back).
    pub fn start_on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind SMTP sink");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let sink = SmtpSink {
            port,
            received: Arc::default(),
            behaviour: Arc::default(),
            stop: Arc::default(),
        };
        let (received, behaviour, stop) = (
            sink.received.clone(),
            sink.behaviour.clone(),
            sink.stop.clone(),
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (r, b) = (received.clone(), behaviour.clone());
                        std::thread::spawn(move || {
                            let _ = session(stream, &r, &b);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        sink
    }

    /// A free port with nothing listening: a mail server that is down.
    pub fn down_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("port")
    }

    pub fn fail_next(&self, n: usize) {
        self.behaviour.lock().expect("lock").transient_failures = n;
    }

    pub fn slow_down(&self, per_message: Duration) {
        self.behaviour.lock().expect("lock").delay = per_message;
    }

    pub fn reject(&self, address: &str) {
        self.behaviour
            .lock()
            .expect("lock")
            .rejected
            .insert(address.to_string());
    }

    pub fn count(&self) -> usize {
        self.received.lock().expect("lock").len()
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received
            .lock()
            .expect("lock")
            .iter()
            .cloned()
            .collect()
    }

    /// Waits until at least `n` messages have arrived (the worker sends in the background).
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.count();
            if got >= n {
                return self.messages();
            }
            assert!(
                Instant::now() < deadline,
                "only {got} of {n} emails arrived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn session(
    stream: TcpStream,
    received: &Mutex<VecDeque<Received>>,
    behaviour: &Mutex<Behaviour>,
) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 mashov-test-sink ESMTP\r\n")?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-mashov-test-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM") {
            to.clear();
            let mut b = behaviour.lock().expect("lock");
            if b.transient_failures > 0 {
                b.transient_failures -= 1;
                b"451 4.3.0 Try again later\r\n"
            } else {
                b"250 OK\r\n"
            }
        } else if upper.starts_with("RCPT TO") {
            let address = command[8..]
                .trim()
                .trim_start_matches(':')
                .trim()
                .trim_matches(|c| c == '<' || c == '>')
                .to_string();
            if behaviour.lock().expect("lock").rejected.contains(&address) {
                b"550 5.1.1 No such user here\r\n"
            } else {
                to.push(address);
                b"250 OK\r\n"
            }
        } else if upper.starts_with("DATA") {
            out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                let l = line.strip_prefix('.').unwrap_or(&line);
                data.push_str(l);
            }
            let delay = behaviour.lock().expect("lock").delay;
            std::thread::sleep(delay);
            received.lock().expect("lock").push_back(Received {
                to: std::mem::take(&mut to),
                data,
            });
            b"250 OK: queued\r\n"
        } else if upper.starts_with("QUIT") {
            out.write_all(b"221 Bye\r\n")?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        out.write_all(reply)?;
    }
}
