//! The session secrets as NSS key log lines, what Wireshark reads to decrypt a capture: to `--keylog FILE` (or
//! `SSLKEYLOGFILE`), and kept for the pcap's Decryption Secrets Block.
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use super::TlsError;

/// Appends one line per secret; a write that fails loses that line only (rustls's `KeyLog` cannot fail).
#[derive(Debug)]
pub(super) struct FileKeyLog(Mutex<File>);

impl FileKeyLog {
    pub fn open(path: &Path) -> Result<FileKeyLog, TlsError> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|source| TlsError::Read {
                option: "--keylog",
                path: path.to_owned(),
                source,
            })?;
        Ok(FileKeyLog(Mutex::new(file)))
    }
}

/// One NSS key log line: `LABEL CLIENT_RANDOM SECRET`, both in hex. Every handshake makes several (they are kept
/// for a pcap too), so the hex comes from a table rather than the formatter.
pub(super) fn line(label: &str, client_random: &[u8], secret: &[u8]) -> String {
    let mut line = String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
    line.push_str(label);
    for bytes in [client_random, secret] {
        line.push(' ');
        for b in bytes {
            line.push(char::from(HEX[usize::from(b >> 4)]));
            line.push(char::from(HEX[usize::from(b & 0x0F)]));
        }
    }
    line.push('\n');
    line
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Where a session's secrets go: its key log file, and a buffer the connections take them from for the pcap
/// (after each read or write, so it holds a handshake's few lines at most).
#[derive(Debug)]
pub(super) struct Secrets {
    file: Option<FileKeyLog>,
    /// `SSLKEYLOGFILE`, when no `--keylog` is given (rustls's, which does nothing when it is unset).
    env: rustls::KeyLogFile,
    pending: Mutex<Vec<u8>>,
}

impl Secrets {
    pub fn new(file: Option<FileKeyLog>) -> Secrets {
        Secrets {
            file,
            env: rustls::KeyLogFile::new(),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// The lines logged since the last take.
    pub fn take(&self) -> Vec<u8> {
        self.pending
            .lock()
            .map(|mut lines| std::mem::take(&mut *lines))
            .unwrap_or_default()
    }
}

impl rustls::KeyLog for Secrets {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let line = line(label, client_random, secret);
        match &self.file {
            Some(FileKeyLog(file)) => {
                if let Ok(mut file) = file.lock() {
                    let _ = file.write_all(line.as_bytes());
                }
            }
            None => self.env.log(label, client_random, secret),
        }
        if let Ok(mut pending) = self.pending.lock() {
            pending.extend_from_slice(line.as_bytes());
        }
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_is_label_random_secret_in_lowercase_hex() {
        assert_eq!(
            super::line("CLIENT_RANDOM", &[0xAB, 1], &[0xFF]),
            "CLIENT_RANDOM ab01 ff\n"
        );
    }
}
