//! TLS (`--tls`, `wirepad cert new`): wirepad against OpenSSL in both roles and against itself, the verdicts, the
//! failures in words, and bad input. Skipped (failing under CI) where openssl is not installed.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::Instant;

use crossbeam_channel::{Receiver, unbounded};

use crate::support::{TIMEOUT, accept_within, skip_unless};
use crate::wirepad::Wirepad;

fn have_openssl(test: &str) -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|out| out.status.success());
    skip_unless(
        found,
        test,
        "openssl is not installed (Debian: apt-get install openssl)",
    )
}

/// `wirepad cert new` for localhost and 127.0.0.1 into `dir/NAME.crt` and `.key`.
fn new_cert(dir: &Path, name: &str, cn: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    let out = Command::new(env!("CARGO_BIN_EXE_wirepad"))
        .args([
            "cert",
            "new",
            "--cn",
            cn,
            "--san",
            "localhost",
            "--san",
            "127.0.0.1",
            "--days",
            "2",
            "--out",
        ])
        .arg(&prefix)
        .output()
        .expect("wirepad cert new runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    (prefix.with_extension("crt"), prefix.with_extension("key"))
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// An openssl child (s_server or s_client), its stdout read line by line; killed when dropped.
struct OpenSsl {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl OpenSsl {
    fn start(args: &[&str]) -> OpenSsl {
        let mut child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = unbounded();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        OpenSsl { child, stdin, lines }
    }

    /// `openssl s_server` on a free loopback port; returns it once it accepts.
    fn server(extra: &[&str]) -> (OpenSsl, SocketAddr) {
        let mut args = vec!["s_server", "-accept", "127.0.0.1:0", "-naccept", "1", "-ign_eof"];
        args.extend_from_slice(extra);
        let server = OpenSsl::start(&args);
        let line = server.line_with("ACCEPT");
        let addr = line
            .trim_start_matches("ACCEPT")
            .trim()
            .parse()
            .expect("s_server's address");
        (server, addr)
    }

    /// Waits for a stdout line containing `text`.
    fn line_with(&self, text: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let line = self
                .lines
                .recv_deadline(deadline)
                .unwrap_or_else(|_| panic!("openssl printed no line with {text:?} in time"));
            if line.contains(text) {
                return line;
            }
        }
    }

    fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write to openssl");
        stdin.flush().expect("flush");
    }
}

impl Drop for OpenSsl {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The handshake line wirepad printed on stderr (after the lines before it).
fn handshake_line(wirepad: &Wirepad) -> String {
    wirepad.stderr_until("TLS with ").pop().expect("a line")
}

#[test]
fn a_tls_server_with_its_certificate_echoes_to_openssl_s_client() {
    if !have_openssl("a_tls_server_with_its_certificate_echoes_to_openssl_s_client") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "wirepad test");
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--tls",
        "--cert",
        path(&crt),
        "--key",
        path(&key),
        "--echo",
        "-q",
    ]);
    let addr = wirepad.ready("listening on ");
    let serving = wirepad.stderr_line();
    assert!(
        serving.starts_with("TLS: presenting the certificate: CN=wirepad test"),
        "{serving}"
    );
    let target = addr.to_string();
    let mut client = OpenSsl::start(&[
        "s_client",
        "-connect",
        &target,
        "-CAfile",
        path(&crt),
        "-verify_return_error",
        "-quiet",
        "-alpn",
        "echo",
    ]);
    client.write("hello over TLS\n");
    assert_eq!(client.line_with("hello"), "hello over TLS");
    let line = handshake_line(&wirepad);
    assert!(line.contains(": TLS 1.3, TLS13_"), "{line}");
    // The server did not offer ALPN, so none was agreed; s_client sends no certificate.
    assert!(
        line.ends_with("no ALPN, no certificate: the client sent no certificate"),
        "{line}"
    );
}

#[test]
fn a_tls_client_verifies_openssl_s_server_and_bytes_pass_both_ways() {
    if !have_openssl("a_tls_client_verifies_openssl_s_server_and_bytes_pass_both_ways") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "localhost");
    let (mut server, addr) = OpenSsl::server(&["-cert", path(&crt), "-key", path(&key), "-alpn", "h2"]);
    let target = format!("localhost:{}", addr.port());
    let mut wirepad = Wirepad::start(&[
        "tcp-client",
        &target,
        "--tls",
        "--ca",
        path(&crt),
        "--verify",
        "strict",
        "--alpn",
        "h2,http/1.1",
        "-s",
        "ping\\n",
    ]);
    let line = handshake_line(&wirepad);
    let sha = fingerprint_of(&crt);
    assert!(
        line.contains(": TLS 1.3, TLS13_") && line.contains(", ALPN h2, "),
        "{line}"
    );
    assert!(
        line.ends_with(&format!("certificate CN=localhost (sha256 {sha}): verified")),
        "{line}"
    );
    assert_eq!(server.line_with("ping"), "ping");
    server.write("pong \u{4f60}\u{597d}\n");
    wirepad.stdout_until("pong \u{4f60}\u{597d}\n".as_bytes());
}

/// openssl's SHA-256 fingerprint of a PEM certificate: `AB:CD:…`.
fn fingerprint_of(crt: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in", path(crt)])
        .output()
        .expect("openssl x509");
    let text = String::from_utf8(out.stdout).expect("text");
    text.trim().rsplit_once('=').expect("Fingerprint=…").1.to_owned()
}

#[test]
fn wirepad_to_wirepad_with_a_self_signed_certificate_warn_strict_off() {
    let server = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let addr = server.ready("listening on ");
    let serving = server.stderr_line();
    assert!(
        serving
            .starts_with("TLS: presenting a self-signed certificate made now: CN=127.0.0.1 for 127.0.0.1, localhost"),
        "{serving}"
    );
    let sha = serving
        .split("(sha256 ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("fingerprint");
    let target = addr.to_string();

    // warn (the default): connects, says what failed, and the bytes come back exactly.
    let mut warn = Wirepad::start(&[
        "tcp-client",
        &target,
        "--tls",
        "-s",
        "\\x00\\xFF caf\u{e9}\\r\\n",
        "--hex",
    ]);
    let line = handshake_line(&warn);
    assert!(
        line.ends_with(&format!("(sha256 {sha}): NOT verified: unknown issuer / self-signed")),
        "{line}"
    );
    warn.stdout_until(b"00 FF 20 63 61 66 C3 A9 0D 0A\n");
    drop(warn);

    let off = Wirepad::start(&[
        "tcp-client",
        &target,
        "--tls",
        "--verify",
        "off",
        "--quit-after-bytes",
        "1",
        "-s",
        "x",
    ]);
    let line = handshake_line(&off);
    assert!(line.ends_with("not checked (--verify off)"), "{line}");
    assert_eq!(off.finish().code, Some(0));

    let strict = Wirepad::start(&["tcp-client", &target, "--tls", "--verify", "strict"]);
    let done = strict.finish();
    assert_eq!(done.code, Some(1), "{:?}", done.stderr);
    let said = done.stderr.join("\n");
    assert!(
        said.contains("certificate refused: unknown issuer / self-signed"),
        "{said}"
    );
}

#[test]
fn a_name_that_does_not_match_is_refused_in_strict_and_said_in_warn() {
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "localhost");
    let server = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--tls",
        "--cert",
        path(&crt),
        "--key",
        path(&key),
    ]);
    let target = server.ready("listening on ").to_string();
    let strict = Wirepad::start(&[
        "tcp-client",
        &target,
        "--tls",
        "--ca",
        path(&crt),
        "--verify",
        "strict",
        "--sni",
        "other.example",
    ]);
    let said = strict.finish().stderr.join("\n");
    assert!(said.contains("certificate refused: the name does not match"), "{said}");
    let warn = Wirepad::start(&[
        "tcp-client",
        &target,
        "--tls",
        "--ca",
        path(&crt),
        "--sni",
        "other.example",
    ]);
    let line = handshake_line(&warn);
    assert!(line.contains("NOT verified: the name does not match"), "{line}");
}

#[test]
fn a_plaintext_server_is_named_with_what_it_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let target = listener.local_addr().expect("addr").to_string();
    let client = Wirepad::start(&["tcp-client", &target, "--tls"]);
    let (mut stream, _) = accept_within(&listener);
    stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").expect("write");
    let done = client.finish();
    assert_eq!(done.code, Some(1), "{:?}", done.stderr);
    let said = done.stderr.join("\n");
    assert!(
        said.contains("the peer speaks no TLS: it sent \"HTTP/1.1 400 Bad\" (48 54 54 50"),
        "{said}"
    );
}

#[test]
fn a_plaintext_client_is_refused_and_the_tls_server_goes_on() {
    let server = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let addr = server.ready("listening on ");
    let mut plain = TcpStream::connect(addr).expect("connect");
    plain.write_all(b"hello\n").expect("write");
    let said = server.stderr_until("speaks no TLS").pop().expect("line");
    assert!(
        said.contains("the peer speaks no TLS: it sent \"hello\\n\" (68 65 6C 6C 6F 0A)"),
        "{said}"
    );
    // Refused with an alert or a close: nothing of its bytes comes back in plaintext.
    plain.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let mut back = Vec::new();
    let _ = plain.read_to_end(&mut back);
    assert!(!back.windows(5).any(|w| w == b"hello"), "{back:?}");
    let mut client = Wirepad::start(&[
        "tcp-client",
        &addr.to_string(),
        "--tls",
        "--verify",
        "off",
        "-s",
        "still here",
    ]);
    client.stdout_until(b"still here");
}

#[test]
fn a_tls_1_2_only_server_and_a_1_3_only_client_have_no_version_in_common() {
    if !have_openssl("a_tls_1_2_only_server_and_a_1_3_only_client_have_no_version_in_common") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "localhost");
    let (_server, addr) = OpenSsl::server(&["-cert", path(&crt), "-key", path(&key), "-tls1_2"]);
    let client = Wirepad::start(&["tcp-client", &addr.to_string(), "--tls", "--tls-versions", "1.3"]);
    let said = client.finish().stderr.join("\n");
    assert!(said.contains("no TLS version in common"), "{said}");
    // And 1.2 is spoken when allowed.
    let (_server, addr) = OpenSsl::server(&["-cert", path(&crt), "-key", path(&key), "-tls1_2"]);
    let client = Wirepad::start(&["tcp-client", &addr.to_string(), "--tls", "--tls-versions", "1.2,1.3"]);
    let line = handshake_line(&client);
    assert!(line.contains(": TLS 1.2, TLS_ECDHE_"), "{line}");
}

#[test]
fn mutual_tls_both_ways_with_openssl() {
    if !have_openssl("mutual_tls_both_ways_with_openssl") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "localhost");
    let (client_crt, client_key) = new_cert(dir.path(), "client", "a client");
    // wirepad client → openssl s_server that requires a client certificate.
    let (server, addr) = OpenSsl::server(&[
        "-cert",
        path(&crt),
        "-key",
        path(&key),
        "-Verify",
        "1",
        "-CAfile",
        path(&client_crt),
        "-verify_return_error",
    ]);
    let mut client = Wirepad::start(&[
        "tcp-client",
        &addr.to_string(),
        "--tls",
        "--ca",
        path(&crt),
        "--client-cert",
        path(&client_crt),
        "--client-key",
        path(&client_key),
        "-s",
        "mutual\\n",
    ]);
    assert!(handshake_line(&client).ends_with("verified"));
    assert_eq!(server.line_with("mutual"), "mutual");
    drop(server);
    drop(client.stdin.take());

    // openssl s_client → wirepad server with --require-client-cert.
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--tls",
        "--cert",
        path(&crt),
        "--key",
        path(&key),
        "--ca",
        path(&client_crt),
        "--require-client-cert",
        "--echo",
        "-q",
    ]);
    let target = wirepad.ready("listening on ").to_string();
    let mut with_cert = OpenSsl::start(&[
        "s_client",
        "-connect",
        &target,
        "-CAfile",
        path(&crt),
        "-cert",
        path(&client_crt),
        "-key",
        path(&client_key),
        "-quiet",
    ]);
    with_cert.write("echo me\n");
    assert_eq!(with_cert.line_with("echo"), "echo me");
    let line = handshake_line(&wirepad);
    assert!(
        line.contains("certificate CN=a client") && line.ends_with(": verified"),
        "{line}"
    );
    // Without one it is refused, in words, and the server goes on.
    let _without = OpenSsl::start(&["s_client", "-connect", &target, "-CAfile", path(&crt), "-quiet"]);
    let said = wirepad.stderr_until("client certificate required").pop().expect("line");
    assert!(
        said.contains("client certificate required: the client sent none"),
        "{said}"
    );
}

#[test]
fn keylog_file_gets_the_session_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let keylog = dir.path().join("keys.log");
    let server = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let target = server.ready("listening on ").to_string();
    let mut client = Wirepad::start(&[
        "tcp-client",
        &target,
        "--tls",
        "--verify",
        "off",
        "--keylog",
        path(&keylog),
        "-s",
        "secret",
    ]);
    client.stdout_until(b"secret");
    let log = std::fs::read_to_string(&keylog).expect("keylog written");
    let labels: Vec<&str> = log.lines().filter_map(|l| l.split(' ').next()).collect();
    assert!(labels.contains(&"CLIENT_TRAFFIC_SECRET_0"), "{log}");
    assert!(labels.contains(&"SERVER_HANDSHAKE_TRAFFIC_SECRET"), "{log}");
}

#[test]
fn bad_tls_input_is_exit_2_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "localhost");
    let (other_crt, _) = new_cert(dir.path(), "other", "other");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificates here\n").expect("write");
    let missing = dir.path().join("missing.pem");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["udp", "--bind", "127.0.0.1:0", "--tls"], "--tls".into()),
        (
            vec!["tcp-server", "127.0.0.1:0", "--tls", "--require-client-cert"],
            "--ca".into(),
        ),
        (
            vec![
                "tcp-server",
                "127.0.0.1:0",
                "--tls",
                "--cert",
                path(&missing),
                "--key",
                path(&key),
            ],
            format!("--cert {}: cannot read it", missing.display()),
        ),
        (
            vec![
                "tcp-server",
                "127.0.0.1:0",
                "--tls",
                "--cert",
                path(&other_crt),
                "--key",
                path(&key),
            ],
            format!("--key {}: does not fit --cert", key.display()),
        ),
        (
            vec!["tcp-client", "127.0.0.1:9", "--tls", "--ca", path(&empty)],
            format!("--ca {}: holds no certificate", empty.display()),
        ),
        (
            vec![
                "tcp-server",
                "127.0.0.1:0",
                "--tls",
                "--cert",
                path(&crt),
                "--key",
                path(&crt),
            ],
            format!("--key {}: holds no private key", crt.display()),
        ),
    ];
    for (args, named) in cases {
        let done = Wirepad::start(&args).finish();
        assert_eq!(done.code, Some(2), "{args:?}: {:?}", done.stderr);
        assert_eq!(done.stderr.len(), 1, "{args:?}: {:?}", done.stderr);
        assert!(
            done.stderr[0].contains(&named),
            "{args:?}: {:?} does not name {named:?}",
            done.stderr
        );
    }
}

/// With --pcap the file has the TLS records as they were on the wire, and the secrets in a Decryption Secrets
/// Block: tshark decrypts it with no key log given.
#[test]
fn the_pcap_has_the_records_and_the_secrets_so_tshark_decrypts_it_alone() {
    if !crate::export::have_tshark("the_pcap_has_the_records_and_the_secrets_so_tshark_decrypts_it_alone") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let pcap = dir.path().join("tls.pcapng");
    let server = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--tls",
        "--echo",
        "-q",
        "--pcap",
        path(&pcap),
        "--quit-after-bytes",
        "16",
    ]);
    let target = server.ready("listening on ").to_string();
    let client = Wirepad::start(&[
        "tcp-client",
        &target,
        "--tls",
        "--verify",
        "off",
        "-s",
        "GET /secret-path",
        "--quit-after-bytes",
        "16",
        "-q",
    ]);
    assert_eq!(client.finish().code, Some(0));
    assert_eq!(server.finish().code, Some(0));
    let raw = std::fs::read(&pcap).expect("pcap written");
    assert!(
        !raw.windows(11).any(|w| w == b"secret-path"),
        "the plaintext is not on the wire"
    );
    let tlsk = 0x544C_534B_u32.to_le_bytes();
    assert!(raw.windows(4).any(|w| w == tlsk), "a Decryption Secrets Block");
    let dump = crate::export::tshark(&["-r", path(&pcap), "-x"]);
    assert!(dump.contains("Decrypted TLS"), "{dump}");
    assert!(dump.contains("GET /secret-path"), "{dump}");
}

/// A server that accepts and says nothing (plaintext, waiting for its client to speak first) does not hang a TLS
/// client: the connect timeout covers the handshake.
#[test]
fn a_silent_server_ends_the_handshake_at_the_connect_timeout() {
    use std::time::Duration;
    use wirepad::net::{EventKind, Mode, NetError, tcp_client, tls::TlsSpec};

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let mut tap = crate::support::start(Mode::TcpClient(tcp_client::Config {
        remote: listener.local_addr().expect("addr").to_string(),
        bind: None,
        reconnect: false,
        connect_timeout: Duration::from_millis(300),
        tls: Some(TlsSpec::default()),
    }));
    let (_silent, _) = accept_within(&listener);
    let reason = crate::support::wait_for(&mut tap, "the handshake to time out", |_, kind| match kind {
        EventKind::Error(error) => match &**error {
            NetError::Tls { reason, .. } => Some(reason.clone()),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(reason, "no TLS handshake within 300 ms: the peer sent nothing");
}
