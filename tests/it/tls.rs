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
pub(crate) struct OpenSsl {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl OpenSsl {
    fn start(args: &[&str]) -> OpenSsl {
        let child = Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl starts");
        OpenSsl::from_child(child)
    }

    /// A child whose stdout is piped, read on a thread of its own.
    fn from_child(mut child: Child) -> OpenSsl {
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
    pub(crate) fn line_with(&self, text: &str) -> String {
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
        // A relay's options go to one leg or both: one for a leg that is off does nothing, and is refused.
        (
            vec!["relay", "127.0.0.1:0", "127.0.0.1:9", "--udp", "--tls-upstream"],
            "--tls-upstream".into(),
        ),
        (
            vec![
                "relay",
                "127.0.0.1:0",
                "127.0.0.1:9",
                "--tls-upstream",
                "--cert",
                path(&crt),
                "--key",
                path(&key),
            ],
            "--cert is for --tls-listen".into(),
        ),
        (
            vec![
                "relay",
                "127.0.0.1:0",
                "127.0.0.1:9",
                "--tls-listen",
                "--verify",
                "strict",
            ],
            "--verify is for --tls-upstream".into(),
        ),
        (
            vec!["relay", "127.0.0.1:0", "127.0.0.1:9", "--sni", "example.com"],
            "--tls-listen|--tls-upstream".into(),
        ),
        (
            vec![
                "relay",
                "127.0.0.1:0",
                "127.0.0.1:9",
                "--tls-upstream",
                "--ca",
                path(&empty),
            ],
            format!("--ca {}: holds no certificate", empty.display()),
        ),
        (
            // The window takes --tls-upstream now, but not its key log.
            vec![
                "gui",
                "relay",
                "127.0.0.1:0",
                "127.0.0.1:9",
                "--tls-upstream",
                "--keylog",
                "keys.txt",
            ],
            "--keylog is for the command line only".into(),
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

/// A TLS client (not verifying) that sends "GET /secret-path" to `target` and quits once 16 bytes came back.
fn send_the_secret(target: &str) {
    let client = Wirepad::start(&[
        "tcp-client",
        target,
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
}

/// The pcap's bytes, checked to hold the secret only encrypted.
fn pcap_without_the_secret(pcap: &std::path::Path) -> Vec<u8> {
    let raw = std::fs::read(pcap).expect("pcap written");
    assert!(
        !raw.windows(11).any(|w| w == b"secret-path"),
        "the plaintext is not on the wire"
    );
    raw
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
    send_the_secret(&target);
    assert_eq!(server.finish().code, Some(0));
    let raw = pcap_without_the_secret(&pcap);
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
            NetError::Tls { reason, .. } => Some(reason.to_string()),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(reason, "no TLS handshake within 300 ms: the peer sent nothing");
}

/// A Python ssl peer, to see how wirepad ends a TLS session (`suppress_ragged_eofs=False`: an end without
/// close_notify is an error, not an empty read) and to move bytes both ways:
/// `client-echo HOST PORT N` sends N pattern bytes, reads N back and prints "echoed N" or "mismatch";
/// `client-end HOST PORT` sends "hello" and reads to the end; `server-end CRT KEY` prints its port, takes one
/// client and reads to the end. The `-end` modes print "clean close" or "unexpected eof".
const PY_PEER: &str = r#"
import socket, ssl, sys
def read_to_end(s):
    try:
        while s.recv(65536):
            pass
        print("clean close", flush=True)
    except ssl.SSLEOFError as e:
        print("unexpected eof:", e, flush=True)
mode = sys.argv[1]
if mode.startswith("client"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=15)
    s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
    if mode == "client-echo":
        n = int(sys.argv[4])
        data = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(n))
        s.sendall(data)
        back = b""
        while len(back) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            back += chunk
        print("echoed %d" % n if back == data else "mismatch: %d bytes back" % len(back), flush=True)
    else:
        s.sendall(b"hello")
        read_to_end(s)
else:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    listener.settimeout(15)
    conn, _ = listener.accept()
    conn.settimeout(15)
    read_to_end(ctx.wrap_socket(conn, server_side=True, suppress_ragged_eofs=False))
"#;

pub(crate) fn have_python(test: &str) -> bool {
    let found = Command::new("python3")
        .args(["-c", "import ssl"])
        .output()
        .is_ok_and(|out| out.status.success());
    skip_unless(found, test, "python3 with its ssl module is not installed")
}

/// The Python peer in `mode` with `args`, its stdout read line by line (as openssl's).
pub(crate) fn py_peer(mode: &str, args: &[&str]) -> OpenSsl {
    let child = Command::new("python3")
        .args(["-c", PY_PEER, mode])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 starts");
    OpenSsl::from_child(child)
}

/// `wirepad relay 127.0.0.1:0 UPSTREAM OPTIONS…` and where it listens.
fn tls_relay(upstream: SocketAddr, options: &[&str]) -> (Wirepad, SocketAddr) {
    let upstream = upstream.to_string();
    let mut args = vec!["relay", "127.0.0.1:0", &upstream];
    args.extend_from_slice(options);
    let relay = Wirepad::start(&args);
    let line = relay.stderr_line();
    let listen = line
        .strip_prefix("relaying ")
        .and_then(|rest| rest.strip_suffix(&format!(" to {upstream}")))
        .unwrap_or_else(|| panic!("first stderr line {line:?}"));
    (relay, listen.parse().expect("the listen address"))
}

#[test]
fn openssl_s_client_through_a_relay_with_tls_listen_to_a_plaintext_upstream() {
    if !have_openssl("openssl_s_client_through_a_relay_with_tls_listen_to_a_plaintext_upstream") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "relay", "localhost");
    let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
    let up_addr = upstream.local_addr().expect("addr");
    let (relay, listen) = tls_relay(
        up_addr,
        &["--tls-listen", "--cert", path(&crt), "--key", path(&key), "-q"],
    );
    assert!(
        relay
            .stderr_line()
            .starts_with("TLS: presenting the certificate: CN=localhost")
    );
    let target = listen.to_string();
    let mut client = OpenSsl::start(&[
        "s_client",
        "-connect",
        &target,
        "-CAfile",
        path(&crt),
        "-verify_return_error",
        "-quiet",
    ]);
    let (mut server, _) = accept_within(&upstream);
    server.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    client.write("to the upstream\n");
    assert_eq!(crate::support::read_exactly(&mut server, 16), b"to the upstream\n");
    server.write_all("back to the client ✓\n".as_bytes()).expect("write");
    assert_eq!(client.line_with("back"), "back to the client ✓");
    let line = handshake_line(&relay);
    assert!(line.starts_with("TLS with client 127.0.0.1:"), "{line}");
    assert!(line.contains(": TLS 1.3, TLS13_"), "{line}");
}

#[test]
fn a_plaintext_client_through_a_relay_with_tls_upstream_to_openssl_s_server() {
    if !have_openssl("a_plaintext_client_through_a_relay_with_tls_upstream_to_openssl_s_server") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "localhost");
    let (mut server, addr) = OpenSsl::server(&["-cert", path(&crt), "-key", path(&key), "-alpn", "h2"]);
    let (relay, listen) = tls_relay(
        addr,
        &[
            "--tls-upstream",
            "--ca",
            path(&crt),
            "--verify",
            "strict",
            "--alpn",
            "h2",
            "-q",
        ],
    );
    let mut client = TcpStream::connect(listen).expect("connect");
    client.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    client.write_all(b"plain in\n").expect("write");
    assert_eq!(server.line_with("plain"), "plain in");
    server.write("tls out\n");
    assert_eq!(crate::support::read_exactly(&mut client, 8), b"tls out\n");
    let line = handshake_line(&relay);
    assert!(
        line.starts_with(&format!("TLS with upstream {addr}: TLS 1.3")),
        "{line}"
    );
    assert!(line.contains("ALPN h2") && line.ends_with(": verified"), "{line}");
}

#[test]
fn both_relay_legs_speak_tls_and_a_mebibyte_comes_back_byte_exact() {
    if !have_python("both_relay_legs_speak_tls_and_a_mebibyte_comes_back_byte_exact") {
        return;
    }
    let echo = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let echo_addr = echo.ready("listening on ");
    let (relay, listen) = tls_relay(echo_addr, &["--tls-listen", "--tls-upstream", "--verify", "off", "-q"]);
    let port = listen.port().to_string();
    let peer = py_peer("client-echo", &["127.0.0.1", &port, "1048576"]);
    assert_eq!(peer.line_with("echo"), "echoed 1048576");
    let mut lines = relay.stderr_until("TLS with ");
    lines.extend(relay.stderr_until("TLS with "));
    let handshakes: Vec<&String> = lines.iter().filter(|line| line.starts_with("TLS with ")).collect();
    assert!(
        handshakes
            .iter()
            .any(|line| line.starts_with("TLS with client 127.0.0.1:")),
        "{handshakes:?}"
    );
    let upstream = format!("TLS with upstream {echo_addr}: ");
    assert!(
        handshakes.iter().any(|line| line.starts_with(&upstream)),
        "{handshakes:?}"
    );
}

/// The relay's pcap has both legs' records and both legs' secrets: tshark decrypts each conversation alone.
#[test]
fn a_tls_relays_pcap_decrypts_on_both_legs() {
    if !crate::export::have_tshark("a_tls_relays_pcap_decrypts_on_both_legs") {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let pcap = dir.path().join("relay.pcapng");
    let echo = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let echo_addr = echo.ready("listening on ");
    let (relay, listen) = tls_relay(
        echo_addr,
        &[
            "--tls-listen",
            "--tls-upstream",
            "--verify",
            "off",
            "-q",
            "--pcap",
            path(&pcap),
            "--quit-after-bytes",
            "32",
        ],
    );
    send_the_secret(&listen.to_string());
    assert_eq!(relay.finish().code, Some(0));
    pcap_without_the_secret(&pcap);
    for stream in ["0", "1"] {
        let follow = format!("follow,tls,ascii,{stream}");
        let shown = crate::export::tshark(&["-r", path(&pcap), "-q", "-z", &follow]);
        assert!(shown.contains("GET /secret-path"), "stream {stream}: {shown}");
    }
}

#[test]
fn a_handshake_failure_on_one_leg_closes_that_pair_with_its_reason_and_the_relay_goes_on() {
    if !have_openssl("a_handshake_failure_on_one_leg_closes_that_pair_with_its_reason_and_the_relay_goes_on") {
        return;
    }
    let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (relay, listen) = tls_relay(upstream.local_addr().expect("addr"), &["--tls-listen", "-q"]);
    // A plaintext client on the TLS leg: its pair ends, named, with what it sent.
    let mut plain = TcpStream::connect(listen).expect("connect");
    let (_up, _) = accept_within(&upstream);
    plain.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("write");
    let said = relay.stderr_until("speaks no TLS").pop().expect("line");
    assert!(
        said.starts_with("error: TLS with 127.0.0.1:") && said.contains("it sent \"GET / HTTP/1.1"),
        "{said}"
    );
    relay.stderr_until("left: error");
    // The relay goes on: a TLS client gets through.
    let mut client = OpenSsl::start(&["s_client", "-connect", &listen.to_string(), "-quiet"]);
    let (mut server, _) = accept_within(&upstream);
    server.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    client.write("still relaying\n");
    assert_eq!(crate::support::read_exactly(&mut server, 15), b"still relaying\n");
}

#[test]
fn a_plaintext_upstream_ends_the_pair_of_a_tls_upstream_leg_naming_the_client() {
    let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
    let up_addr = upstream.local_addr().expect("addr");
    let (relay, listen) = tls_relay(up_addr, &["--tls-upstream", "-q"]);
    let mut client = TcpStream::connect(listen).expect("connect");
    let (mut server, _) = accept_within(&upstream);
    server.write_all(b"SSH-2.0-OpenSSH\r\n").expect("write");
    let said = relay.stderr_until("speaks no TLS").pop().expect("line");
    let client_addr = client.local_addr().expect("addr");
    assert!(
        said.starts_with(&format!(
            "error: client {client_addr}: TLS with {up_addr}: the peer speaks no TLS"
        )),
        "{said}"
    );
    client.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    assert!(crate::support::read_to_end_or_reset(&mut client).is_empty());
}

#[test]
fn a_client_that_never_finishes_its_handshake_is_closed_at_the_relays_connect_timeout() {
    let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (relay, listen) = tls_relay(
        upstream.local_addr().expect("addr"),
        &["--tls-listen", "--connect-timeout", "300", "-q"],
    );
    let mut silent = TcpStream::connect(listen).expect("connect");
    let (_up, _) = accept_within(&upstream);
    let said = relay.stderr_until("no TLS handshake").pop().expect("line");
    assert!(
        said.ends_with("no TLS handshake within 300 ms: the peer sent nothing"),
        "{said}"
    );
    silent.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    assert!(crate::support::read_to_end_or_reset(&mut silent).is_empty());
}

/// tcp-server has no connect timeout to borrow: a silent client has 10 s (`tls::SERVER_HANDSHAKE_TIMEOUT`).
#[test]
fn a_tls_server_closes_a_client_that_never_finishes_its_handshake() {
    let server = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "-q"]);
    let addr = server.ready("listening on ");
    let started = Instant::now();
    let mut silent = TcpStream::connect(addr).expect("connect");
    silent.write_all(&[22, 3, 1]).expect("the start of a record");
    let said = server.stderr_until("no TLS handshake").pop().expect("line");
    assert!(
        said.ends_with("no TLS handshake within 10000 ms: the peer did not finish it"),
        "{said}"
    );
    assert!(started.elapsed() >= wirepad::net::tls::SERVER_HANDSHAKE_TIMEOUT);
    silent.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    let _ = crate::support::read_to_end_or_reset(&mut silent);
}

#[test]
fn wirepad_ends_its_tls_sessions_with_close_notify() {
    if !have_python("wirepad_ends_its_tls_sessions_with_close_notify") {
        return;
    }
    // A server that quits (a quit condition).
    let server = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "-q", "--quit-after-bytes", "5"]);
    let port = server.ready("listening on ").port().to_string();
    let peer = py_peer("client-end", &["127.0.0.1", &port]);
    assert_eq!(peer.line_with("close"), "clean close");
    // A client that quits.
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = new_cert(dir.path(), "server", "localhost");
    let peer = py_peer("server-end", &[path(&crt), path(&key)]);
    let port = peer.lines.recv_timeout(TIMEOUT).expect("the Python server's port");
    let _client = Wirepad::start(&[
        "tcp-client",
        &format!("127.0.0.1:{port}"),
        "--tls",
        "--verify",
        "off",
        "-s",
        "bye",
        "--quit-after-secs",
        "0.2",
    ]);
    assert_eq!(peer.line_with("close"), "clean close");
    // A relay passing on its upstream's FIN.
    let upstream = TcpListener::bind("127.0.0.1:0").expect("bind");
    let (_relay, listen) = tls_relay(upstream.local_addr().expect("addr"), &["--tls-listen", "-q"]);
    let port = listen.port().to_string();
    let peer = py_peer("client-end", &["127.0.0.1", &port]);
    let (mut server, _) = accept_within(&upstream);
    server.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    assert_eq!(crate::support::read_exactly(&mut server, 5), b"hello");
    server.shutdown(std::net::Shutdown::Write).expect("FIN");
    assert_eq!(peer.line_with("close"), "clean close");
}

/// RSA key exchange (AES128-SHA), which rustls does not speak, is the only suite on offer.
#[test]
fn no_cipher_suite_in_common_is_said_in_words_both_ways() {
    let test = "no_cipher_suite_in_common_is_said_in_words_both_ways";
    if !have_openssl(test) {
        return;
    }
    let suite = Command::new("openssl").args(["ciphers", "AES128-SHA"]).output();
    if !skip_unless(
        suite.is_ok_and(|out| out.status.success()),
        test,
        "this openssl refuses the AES128-SHA cipher suite",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    let (crt, key) = (dir.path().join("rsa.crt"), dir.path().join("rsa.key"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "2",
        ])
        .args(["-keyout", path(&key), "-out", path(&crt)])
        .output()
        .expect("openssl req");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let (_server, addr) = OpenSsl::server(&[
        "-cert",
        path(&crt),
        "-key",
        path(&key),
        "-tls1_2",
        "-cipher",
        "AES128-SHA",
    ]);
    let client = Wirepad::start(&["tcp-client", &addr.to_string(), "--tls", "--verify", "off"]);
    let said = client.finish().stderr.join("\n");
    assert!(said.contains("no cipher suite"), "{said}");
    let server = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "-q"]);
    let target = server.ready("listening on ").to_string();
    let _client = OpenSsl::start(&["s_client", "-connect", &target, "-tls1_2", "-cipher", "AES128-SHA"]);
    let said = server.stderr_until("cipher suite").pop().expect("line");
    assert!(said.contains("no cipher suite in common"), "{said}");
}

#[test]
fn a_certificate_signed_by_a_new_ca_verifies_strictly_with_that_ca() {
    let dir = tempfile::tempdir().expect("dir");
    let (leaf, ca) = (dir.path().join("leaf"), dir.path().join("ca"));
    let out = Command::new(env!("CARGO_BIN_EXE_wirepad"))
        .args([
            "cert",
            "new",
            "--cn",
            "localhost",
            "--san",
            "localhost",
            "--san",
            "127.0.0.1",
            "--out",
        ])
        .arg(&leaf)
        .arg("--ca-out")
        .arg(&ca)
        .output()
        .expect("wirepad cert new runs");
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("the CA CN=localhost CA that signed it"), "{said}");
    let (leaf_crt, leaf_key, ca_crt) = (
        leaf.with_extension("crt"),
        leaf.with_extension("key"),
        ca.with_extension("crt"),
    );
    let server = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--tls",
        "--cert",
        path(&leaf_crt),
        "--key",
        path(&leaf_key),
        "--echo",
        "-q",
    ]);
    let addr = server.ready("listening on ");
    let mut client = Wirepad::start(&[
        "tcp-client",
        &format!("localhost:{}", addr.port()),
        "--tls",
        "--ca",
        path(&ca_crt),
        "--verify",
        "strict",
        "-s",
        "signed",
    ]);
    let line = handshake_line(&client);
    assert!(
        line.contains("certificate CN=localhost (") && line.ends_with(": verified"),
        "{line}"
    );
    client.stdout_until(b"signed");
    // The leaf alone is no trust anchor: strict refuses it.
    let refused = Wirepad::start(&[
        "tcp-client",
        &format!("localhost:{}", addr.port()),
        "--tls",
        "--ca",
        path(&leaf_crt),
        "--verify",
        "strict",
    ]);
    let said = refused.finish().stderr.join("\n");
    assert!(said.contains("unknown issuer"), "{said}");
}
