//! Name resolution for every transport, off the worker thread.
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use crossbeam_channel::{Receiver, TryRecvError, bounded};
use mio::Waker;

use super::{NetError, describe};

/// A `host:port` being resolved. A name is looked up on a thread of its own: a slow DNS server must not hold up
/// the worker, nor a Stop (which a window's UI thread waits for). An IP literal needs no thread.
pub(super) struct Lookup {
    host: String,
    answer: Receiver<io::Result<Vec<SocketAddr>>>,
}

impl Lookup {
    /// `waker` ends the worker's poll when the answer is in.
    pub fn start(host: &str, waker: &Arc<Waker>) -> Lookup {
        let (tx, answer) = bounded(1);
        if let Ok(addr) = host.parse::<SocketAddr>() {
            let _ = tx.send(Ok(vec![addr]));
        } else {
            let name = host.to_owned();
            let waker = waker.clone();
            let sender = tx.clone();
            // A fixed name: the host is user text, and a thread name must not hold a NUL.
            let spawned = std::thread::Builder::new()
                .name("wirepad resolve".into())
                .spawn(move || {
                    let result = name.to_socket_addrs().map(Iterator::collect);
                    // Fails once the session has ended: nobody waits for the answer any more, and that is fine.
                    if sender.send(result).is_ok() {
                        let _ = waker.wake();
                    }
                });
            if let Err(e) = spawned {
                let _ = tx.send(Err(e));
            }
        }
        Lookup {
            host: host.to_owned(),
            answer,
        }
    }

    /// `None` while the lookup runs; never an empty list.
    pub fn answer(&self) -> Option<Result<Vec<SocketAddr>, NetError>> {
        let reason = match self.answer.try_recv() {
            Ok(Ok(addrs)) if !addrs.is_empty() => return Some(Ok(addrs)),
            Err(TryRecvError::Empty) => return None,
            Ok(Ok(_)) => "no addresses found".into(),
            Ok(Err(e)) => describe(&e),
            Err(TryRecvError::Disconnected) => "the lookup ended without an answer".into(),
        };
        Some(Err(NetError::Resolve {
            host: self.host.clone(),
            reason,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use mio::{Events, Poll, Token};

    use super::*;

    fn waker() -> (Poll, Arc<Waker>) {
        let poll = Poll::new().expect("poll");
        let waker = Waker::new(poll.registry(), Token(0)).expect("waker");
        (poll, Arc::new(waker))
    }

    #[test]
    fn an_ip_literal_is_answered_at_once() {
        let (_poll, waker) = waker();
        for literal in ["127.0.0.1:7", "[::1]:7"] {
            let answer = Lookup::start(literal, &waker).answer();
            let addrs = answer.expect("answered without a thread").expect("an address");
            assert_eq!(addrs, vec![literal.parse::<SocketAddr>().expect("literal")]);
        }
    }

    #[test]
    fn a_name_is_answered_later_and_wakes_the_poll() {
        let (mut poll, waker) = waker();
        let lookup = Lookup::start("localhost:7", &waker);
        let mut events = Events::with_capacity(4);
        poll.poll(&mut events, Some(Duration::from_secs(20))).expect("poll");
        assert!(!events.is_empty(), "the lookup woke the poll");
        let addrs = lookup.answer().expect("answered").expect("localhost resolves");
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 7), "{addrs:?}");
    }

    #[test]
    fn a_bad_name_is_an_error_naming_it() {
        let (mut poll, waker) = waker();
        let lookup = Lookup::start("no port here", &waker);
        let mut events = Events::with_capacity(4);
        poll.poll(&mut events, Some(Duration::from_secs(20))).expect("poll");
        let error = lookup.answer().expect("answered").expect_err("no port");
        assert!(error.to_string().starts_with("cannot resolve no port here:"), "{error}");
    }
}
