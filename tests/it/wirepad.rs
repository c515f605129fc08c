//! The wirepad binary as a child process, for the command-line and resilience tests. Every wait has a
//! deadline; dropping a `Wirepad` kills the process, so a failed assertion leaves nothing behind.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::Instant;

use crossbeam_channel::{Receiver, RecvTimeoutError, unbounded};

use crate::support::TIMEOUT;

pub struct Wirepad {
    child: Child,
    /// Before the process started: no wirepad timer can have begun earlier.
    pub started: Instant,
    pub stdin: Option<ChildStdin>,
    stderr: Receiver<String>,
    /// Stdout as it is written, chunk by chunk; `None` when stdout was closed on purpose.
    stdout: Option<Receiver<Vec<u8>>>,
    /// What `stdout_until` has taken so far.
    out: Vec<u8>,
}

/// How a finished wirepad ended.
pub struct Finished {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    /// The stderr lines after the ones already taken.
    pub stderr: Vec<String>,
}

impl Finished {
    pub fn text(&self) -> String {
        String::from_utf8(self.stdout.clone()).expect("stdout is UTF-8")
    }
}

#[derive(Clone, Copy, Default)]
pub struct Io<'a> {
    /// Give the child a stdin pipe (otherwise it gets /dev/null).
    pub stdin: bool,
    /// Close the read end of stdout at once, as `wirepad … | head -c0` would.
    pub close_stdout: bool,
    /// Run under `sh -c "ulimit {ulimit} && exec wirepad …"`, e.g. `-n 32`.
    pub ulimit: Option<&'a str>,
    /// Environment variables set for the child, besides the test's own.
    pub env: &'a [(&'a str, &'a std::ffi::OsStr)],
    /// The test's environment variables the child must not see.
    pub unset: &'a [&'a str],
}

impl Wirepad {
    pub fn start(args: &[&str]) -> Self {
        Self::start_with(args, Io::default())
    }

    pub fn start_with(args: &[&str], io: Io) -> Self {
        let binary = env!("CARGO_BIN_EXE_wirepad");
        let mut command = match io.ulimit {
            Some(ulimit) => {
                let mut sh = Command::new("sh");
                sh.args(["-c", &format!("ulimit {ulimit} && exec \"$0\" \"$@\""), binary]);
                sh
            }
            None => Command::new(binary),
        };
        for name in io.unset {
            command.env_remove(name);
        }
        let started = Instant::now();
        let mut child = command
            .args(args)
            .envs(io.env.iter().copied())
            .stdin(if io.stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("wirepad starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let (line_tx, lines) = unbounded();
        thread::spawn(move || {
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                if line_tx.send(text).is_err() {
                    return;
                }
                line.clear();
            }
        });
        let stdout = child.stdout.take().expect("stdout is piped");
        let stdout = if io.close_stdout {
            drop(stdout);
            None
        } else {
            let (out_tx, out) = unbounded();
            thread::spawn(move || {
                let mut stdout = stdout;
                let mut buf = vec![0; 64 * 1024];
                while let Ok(n @ 1..) = stdout.read(&mut buf) {
                    if out_tx.send(buf[..n].to_vec()).is_err() {
                        return;
                    }
                }
            });
            Some(out)
        };
        let stdin = child.stdin.take();
        Wirepad {
            child,
            started,
            stdin,
            stderr: lines,
            stdout,
            out: Vec::new(),
        }
    }

    /// The process id, to look at the child from outside (its memory in /proc).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next stderr line; panics if none comes in time.
    pub fn stderr_line(&self) -> String {
        self.stderr
            .recv_timeout(TIMEOUT)
            .expect("wirepad writes a line on stderr in time")
    }

    /// Reads the first stderr line, which must be `{prefix}ADDR`, and returns ADDR.
    pub fn ready(&self, prefix: &str) -> SocketAddr {
        let line = self.stderr_line();
        let addr = line
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("first stderr line {line:?} does not start with {prefix:?}"));
        let addr: SocketAddr = addr
            .parse()
            .unwrap_or_else(|_| panic!("{addr:?} in {line:?} is not an address"));
        assert_ne!(addr.port(), 0, "the real port is shown: {line:?}");
        addr
    }

    /// Waits for a stderr line containing `text`; returns the lines read, that one last.
    pub fn stderr_until(&self, text: &str) -> Vec<String> {
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let line = self
                .stderr
                .recv_deadline(deadline)
                .unwrap_or_else(|_| panic!("no stderr line containing {text:?} in time; saw {seen:#?}"));
            let found = line.contains(text);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }

    /// Waits until stdout so far ends with `tail` (it was printed, not merely received).
    pub fn stdout_until(&mut self, tail: &[u8]) {
        let deadline = Instant::now() + TIMEOUT;
        let stdout = self.stdout.as_ref().expect("stdout is read");
        while !self.out.ends_with(tail) {
            match stdout.recv_deadline(deadline) {
                Ok(chunk) => self.out.extend_from_slice(&chunk),
                Err(_) => panic!("stdout {:?} does not end with {tail:?} in time", self.out),
            }
        }
    }

    pub fn write_stdin(&mut self, text: &str) {
        self.write_stdin_bytes(text.as_bytes());
    }

    pub fn write_stdin_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("started with a stdin pipe");
        stdin.write_all(bytes).expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Waits for the process to end on its own (stderr closes first), then collects what it wrote.
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + TIMEOUT;
        let mut stderr = Vec::new();
        loop {
            match self.stderr.recv_deadline(deadline) {
                Ok(line) => stderr.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("wirepad did not exit; stderr: {stderr:#?}"),
            }
        }
        let mut stdout = std::mem::take(&mut self.out);
        if let Some(chunks) = &self.stdout {
            loop {
                match chunks.recv_deadline(deadline) {
                    Ok(chunk) => stdout.extend_from_slice(&chunk),
                    Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) => panic!("stdout did not close in time"),
                }
            }
        }
        let status = self.child.wait().expect("wait for wirepad");
        Finished {
            code: status.code(),
            stdout,
            stderr,
        }
    }

    /// Sends `signal` (SIGINT, SIGTERM, …) to the process.
    #[cfg(unix)]
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill takes no pointers; the child is ours and not yet waited for, so the pid is still its.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Kills the process and collects everything it wrote: no line can come later.
    #[cfg_attr(not(unix), allow(dead_code))] // Only the Unix file-descriptor tests use it.
    pub fn kill(mut self) -> Finished {
        let _ = self.child.kill();
        self.finish()
    }
}

impl Drop for Wirepad {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
