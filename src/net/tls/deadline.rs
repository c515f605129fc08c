//! Server-side handshake deadlines: a client that connects and never finishes its handshake (a port scanner, a
//! plaintext client waiting for a banner) is closed with what it sent, instead of holding its slot for ever.
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use mio::Token;

/// How long a client of `tcp-server --tls` has to finish its handshake. The server has no connect timeout of its
/// own to borrow, so it takes tcp-client's 10 s (which covers the client's handshake): both ends give up alike,
/// and a person typing into `openssl s_client` is not hurried.
pub const SERVER_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// When each connection's handshake is due, in the order they started; with one timeout for all they come due in
/// that order too. One entry per connection started within the timeout: finished handshakes stay until due, and
/// their owner finds them finished.
pub(in crate::net) struct Deadlines {
    timeout: Duration,
    queue: VecDeque<(Instant, Token)>,
}

impl Deadlines {
    pub fn new(timeout: Duration) -> Deadlines {
        Deadlines {
            timeout,
            queue: VecDeque::new(),
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn started(&mut self, token: Token, now: Instant) {
        self.queue.push_back((now + self.timeout, token));
    }

    /// The connections whose time is up by `now` (their owner looks whether they are still handshaking).
    pub fn due(&mut self, now: Instant) -> Vec<Token> {
        let mut due = Vec::new();
        while let Some(&(at, token)) = self.queue.front()
            && at <= now
        {
            self.queue.pop_front();
            due.push(token);
        }
        due
    }

    pub fn next(&self) -> Option<Instant> {
        self.queue.front().map(|&(at, _)| at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_due_in_order_and_only_once() {
        let start = Instant::now();
        let mut deadlines = Deadlines::new(Duration::from_millis(100));
        deadlines.started(Token(1), start);
        deadlines.started(Token(2), start + Duration::from_millis(50));
        assert_eq!(deadlines.next(), Some(start + Duration::from_millis(100)));
        assert!(deadlines.due(start + Duration::from_millis(99)).is_empty());
        assert_eq!(deadlines.due(start + Duration::from_millis(100)), vec![Token(1)]);
        assert_eq!(deadlines.due(start + Duration::from_secs(1)), vec![Token(2)]);
        assert_eq!(deadlines.next(), None);
    }
}
