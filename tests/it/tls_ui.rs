//! TLS in the window (egui_kittest): a client's certificate panel against an engine TLS server, strict mode
//! refusing it, a server's panel for an engine TLS client, a bad file named beside its field, the "make a
//! self-signed certificate" button, and `wirepad gui … --tls`.
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use wirepad::gui::WirepadApp;
use wirepad::gui::i18n::Lang;
use wirepad::net::tls::{CLIENT_LEG, Handshake, TlsSpec, UPSTREAM_LEG, Verify, write_new_cert};
use wirepad::net::{EventKind, Kind, Mode, tcp_client, tcp_server};
use wirepad::session::state::LinkState;
use wirepad::settings::tls::{TlsField, TlsSettings, VerifyMode};
use wirepad::settings::{Field, Prefs, TabConfig};

use crate::export::Answer;
use crate::support::{TIMEOUT, Tap, eventually, start, wait_for};
use crate::ui::{launch, launched_window, open_server, relay_to, settings, step_until, window, window_with};
use crate::wirepad::Wirepad;

/// An engine TLS server on loopback with the self-signed certificate it makes at start: its address and that
/// certificate's fingerprint.
fn tls_server() -> (Tap, SocketAddr, String) {
    let mut server = start(Mode::TcpServer(tcp_server::Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        max_clients: None,
        tls: Some(TlsSpec::default()),
    }));
    let addr = server.local_addr().expect("listening");
    let sha256 = wait_for(&mut server, "the certificate it presents", |_, kind| match kind {
        EventKind::TlsServing { cert, .. } => Some(cert.sha256.clone()),
        _ => None,
    });
    (server, addr, sha256)
}

/// A window whose one tab is a TLS client of `server`.
fn client_window(server: SocketAddr, tls: TlsSettings) -> Harness<'static, WirepadApp> {
    window(TabConfig {
        mode: Kind::TcpClient,
        remote_host: server.ip().to_string(),
        remote_port: server.port().to_string(),
        tls: TlsSettings { enabled: true, ..tls },
        ..settings()
    })
}

fn handshake_of(harness: &Harness<'static, WirepadApp>) -> Option<Arc<Handshake>> {
    harness.state().tab().state.tls().shown(None).cloned()
}

#[test]
fn a_tls_client_shows_the_servers_chain_fingerprint_and_the_self_signed_verdict() {
    let (server, addr, sha256) = tls_server();
    let mut harness = client_window(addr, TlsSettings::default());
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the handshake", |h| handshake_of(h).is_some());
    // The panel is closed until the status bar's TLS button is clicked: the receive view keeps its room.
    assert!(harness.query_by_label_contains("SHA-256 fingerprint").is_none());
    harness.get_by_label("TLS 1.3: not verified").click();
    harness.run_steps(2);
    assert!(
        harness.query_by_label_contains("#1 CN=127.0.0.1").is_some(),
        "the chain's subject"
    );
    assert!(
        harness
            .query_by_label_contains(&format!("SHA-256 fingerprint: {sha256}"))
            .is_some(),
        "the server's own fingerprint"
    );
    assert!(
        harness
            .query_by_label_contains("not verified: unknown issuer / self-signed")
            .is_some(),
        "warn mode connects and says what failed"
    );
    assert!(matches!(
        harness.state().tab().state.link(),
        LinkState::Connected { .. }
    ));
    server.stop();
}

#[test]
fn strict_mode_refuses_a_certificate_it_cannot_verify_and_says_why() {
    let (server, addr, _) = tls_server();
    let dir = tempfile::tempdir().expect("dir");
    // Trust anchors that are not the server's: strict, whatever the system's store holds.
    let (ca, _) = write_new_cert("other.example", &[], 2, &dir.path().join("other"), None)
        .expect("a CA")
        .cert;
    let tls = TlsSettings {
        verify: VerifyMode::Strict,
        ca: ca.display().to_string(),
        ..TlsSettings::default()
    };
    let mut harness = client_window(addr, tls);
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the refusal", |h| {
        h.query_by_label_contains("unknown issuer").is_some()
    });
    let error = harness.state().error().expect("said beside Open");
    assert!(
        error.contains(&format!("TLS with {addr}")) && error.contains("unknown issuer"),
        "{error}"
    );
    step_until(&mut harness, "the session to end", |h| !h.state().tab().state.is_open());
    assert!(handshake_of(&harness).is_none(), "no handshake finished");
    // The panel keeps it too.
    harness.get_by_label("TLS failed").click();
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("Failed handshakes (1)").is_some());
    server.stop();
}

/// The Chinese window says why a certificate failed in Chinese: the verdict in the panel (warn), and the refusal
/// under Open (strict).
#[test]
fn the_chinese_window_words_the_verdict_and_the_refusal_in_chinese() {
    let (server, addr, _) = tls_server();
    let chinese = Prefs {
        language: Some(Lang::Zh),
        ..Prefs::default()
    };
    let tab = |verify| TabConfig {
        mode: Kind::TcpClient,
        remote_host: addr.ip().to_string(),
        remote_port: addr.port().to_string(),
        show_tls: true,
        tls: TlsSettings {
            enabled: true,
            verify,
            ..TlsSettings::default()
        },
        ..settings()
    };
    let mut harness = window_with(chinese.clone(), vec![tab(VerifyMode::Warn)]);
    harness.get_by_label("打开").click();
    step_until(&mut harness, "the handshake", |h| handshake_of(h).is_some());
    harness.run_steps(2);
    assert!(
        harness.query_by_label("未通过验证: 签发者未知 / 自签名").is_some(),
        "the verdict in Chinese"
    );
    drop(harness);
    let mut harness = window_with(chinese, vec![tab(VerifyMode::Strict)]);
    harness.get_by_label("打开").click();
    step_until(&mut harness, "the refusal", |h| h.state().error().is_some());
    let error = harness.state().error().expect("said under Open");
    assert_eq!(error, format!("与 {addr} 的 TLS 失败：证书被拒绝：签发者未知 / 自签名"));
    server.stop();
}

#[test]
fn a_tls_server_shows_each_clients_handshake_and_its_own_fingerprint() {
    let mut harness = window(TabConfig {
        tls: tls_on(),
        ..settings()
    });
    let server = open_server(&mut harness);
    let mut client = start(Mode::TcpClient(tcp_client::Config {
        remote: server.to_string(),
        bind: None,
        reconnect: false,
        connect_timeout: TIMEOUT,
        tls: Some(TlsSpec {
            verify: Verify::Off,
            alpn: vec!["wirepad".into()],
            ..TlsSpec::default()
        }),
    }));
    let seen = wait_for(&mut client, "the client's handshake", |_, kind| match kind {
        EventKind::TlsHandshake(handshake) => Some(handshake.chain[0].sha256.clone()),
        _ => None,
    });
    step_until(&mut harness, "the window's handshake", |h| {
        h.state().tab().state.tls().any()
    });
    let peer = harness.state().tab().state.tls().peers().next().expect("one");
    harness.get_by_label("TLS 1.3: no client certificate").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains(&format!("{peer} TLS 1.3 · Cipher suite: TLS13_"))
            .is_some(),
        "the handshake line names the client, version and suite"
    );
    assert!(
        harness
            .query_by_label_contains("this client sent no certificate")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains("This server presents: CN=127.0.0.1 (self-signed, made at Open)")
            .is_some()
    );
    assert!(
        harness
            .query_by_label_contains(&format!("SHA-256 fingerprint: {seen}"))
            .is_some(),
        "the fingerprint the client saw"
    );
    client.stop();
    step_until(&mut harness, "the client to leave", |h| {
        !h.state().tab().state.tls().any()
    });
}

#[test]
fn a_missing_certificate_file_is_named_beside_its_field_and_nothing_opens() {
    let dir = tempfile::tempdir().expect("dir");
    // A key that exists: only the certificate is missing.
    write_new_cert("localhost", &[], 2, &dir.path().join("server"), None).expect("a key");
    let missing = dir.path().join("missing.crt");
    let mut harness = window(TabConfig {
        tls: TlsSettings {
            cert: missing.display().to_string(),
            key: dir.path().join("server.key").display().to_string(),
            ..tls_on()
        },
        ..settings()
    });
    open_and_see_refused_once(&mut harness, &missing);
    assert!(!harness.state().tab().state.is_open(), "nothing opens");
    assert!(!harness.state().tab().state.starting());
    assert!(harness.query_by_label_contains("Listening").is_none());
}

/// Opening reads the certificate on a thread of its own: a file that never comes (a FIFO nobody writes) leaves
/// the window drawing, the tab saying it is opening; once it comes (not a certificate), it is named beside its
/// field. The window runs on a thread of its own here, so that a frame stuck on the file fails the test instead
/// of hanging it.
#[cfg(unix)]
#[test]
fn a_certificate_file_that_never_comes_leaves_the_window_drawing() {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().expect("dir");
    write_new_cert("localhost", &[], 2, &dir.path().join("server"), None).expect("a key");
    let fifo = dir.path().join("never.crt");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let tls = TlsSettings {
        cert: fifo.display().to_string(),
        key: dir.path().join("server.key").display().to_string(),
        ..tls_on()
    };
    let (drawn_tx, drawn) = crossbeam_channel::bounded(1);
    let (written_tx, written) = crossbeam_channel::bounded::<()>(1);
    let window_thread = std::thread::spawn(move || {
        let mut harness = window(TabConfig { tls, ..settings() });
        harness.get_by_label("Open").click();
        harness.run_steps(2);
        let opening = harness.query_by_label("Opening…").is_some() && harness.state().tab().state.starting();
        drawn_tx.send(opening).expect("the test waits");
        written.recv_timeout(TIMEOUT).expect("the file written");
        step_until(&mut harness, "the refusal", |h| {
            h.query_by_label_contains("no certificate").is_some()
        });
        assert!(!harness.state().tab().state.is_open(), "nothing opens");
    });
    let frames = drawn.recv_timeout(TIMEOUT);
    // Whatever happened, the reader gets its file (a writer opens only once it is reading), so no thread is left
    // waiting on it.
    let mut writer = eventually("the certificate being read", TIMEOUT, || {
        let open = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        open.ok()
    });
    writer.write_all(b"not a certificate\n").expect("write");
    drop(writer);
    let opening = frames.expect("the window drew its frames while the certificate was being read");
    assert!(opening, "the tab says it is opening");
    written_tx.send(()).expect("the window waits");
    window_thread.join().expect("the window's thread");
}

#[test]
fn the_button_makes_a_self_signed_certificate_and_fills_the_fields() {
    let dir = tempfile::tempdir().expect("dir");
    let mut harness = window(TabConfig {
        tls: tls_on(),
        ..settings()
    });
    let chosen = dir.path().join("device.crt");
    harness.state_mut().set_file_dialogs(Arc::new(Answer(chosen)));
    harness.get_by_label("Make a self-signed certificate…").click();
    step_until(&mut harness, "the certificate", |h| {
        !h.state().tab().config.tls.cert.is_empty()
    });
    let tls = harness.state().tab().config.tls.clone();
    let (crt, key) = (dir.path().join("device.crt"), dir.path().join("device.key"));
    assert_eq!((tls.cert.as_str(), tls.key.as_str()), (path(&crt), path(&key)));
    let pem = std::fs::read_to_string(&crt).expect("written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    harness.run_steps(2);
    assert!(harness.query_by_label_contains("SHA-256 fingerprint: ").is_some());
    // The server presents it.
    open_server(&mut harness);
    step_until(&mut harness, "the certificate served", |h| {
        h.state().tab().state.tls().serving().is_some()
    });
    let (served, made_at_open) = harness.state().tab().state.tls().serving().cloned().expect("serving");
    assert!(!made_at_open);
    assert_eq!(served.subject, "CN=localhost");
}

/// TLS ticked, every option at its default.
fn tls_on() -> TlsSettings {
    TlsSettings {
        enabled: true,
        ..TlsSettings::default()
    }
}

/// Where a relay tab that never opens points its upstream (the discard port: nothing connects to it).
const NOWHERE: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 9));

/// Presses Open and waits for "cannot read MISSING", said once: beside its field only, not again under Open.
fn open_and_see_refused_once(harness: &mut Harness<'static, WirepadApp>, missing: &std::path::Path) {
    harness.get_by_label("Open").click();
    let said = format!("cannot read {}", missing.display());
    step_until(harness, "the refusal", |h| h.query_by_label_contains(&said).is_some());
    assert_eq!(harness.query_all_by_label_contains(&said).count(), 1, "{said}");
}

fn path(path: &std::path::Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

#[test]
fn gui_tls_arguments_open_the_session_with_tls() {
    let launch_args = launch(&["tcp-server", "127.0.0.1:0", "--tls", "--alpn", "h2"]).expect("the window takes --tls");
    let mut harness = launched_window(launch_args);
    step_until(&mut harness, "the TLS server", |h| {
        h.state().tab().state.tls().serving().is_some()
    });
    let tls = &harness.state().tab().config.tls;
    assert!(tls.enabled);
    assert_eq!(tls.alpn, "h2");
    let error = launch(&["tcp-client", "127.0.0.1:9", "--tls", "--keylog", "k.log"]).expect_err("no key log field");
    assert!(error.contains("--keylog is for the command line only"), "{error}");
}

/// A relay tab's TLS block is its listen leg: a Python ssl client's bytes pass through it to a plaintext echo and
/// back (counted each way), and the certificate panel shows the client's handshake; `wirepad gui relay … --tls-listen` opens it so.
#[test]
fn a_relay_tab_speaks_tls_to_its_clients_and_shows_their_handshakes() {
    if !crate::tls::have_python("a_relay_tab_speaks_tls_to_its_clients_and_shows_their_handshakes") {
        return;
    }
    let echo = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--echo", "-q"]);
    let upstream = echo.ready("listening on ");
    let mut harness = window(TabConfig {
        tls: tls_on(),
        ..relay_to(upstream)
    });
    let relay = open_server(&mut harness);
    let port = relay.port().to_string();
    // Sends "hello" and reads until the end: it stays connected while the window is looked at.
    let _peer = crate::tls::py_peer("client-end", &["127.0.0.1", &port]);
    step_until(&mut harness, "hello there and back", |h| {
        h.state().tab().state.pairs().bytes_each_way() == (5, 5)
    });
    step_until(&mut harness, "the client's handshake", |h| {
        handshake_of(h).is_some_and(|shake| shake.leg == Some(CLIENT_LEG))
    });
    harness.get_by_label("TLS 1.3: no client certificate").click();
    harness.run_steps(2);
    assert!(
        harness
            .query_by_label_contains("TLS 1.3 · Cipher suite: TLS13_")
            .is_some()
    );
    let launched =
        launch(&["relay", "127.0.0.1:0", &upstream.to_string(), "--tls-listen"]).expect("the window takes it");
    let mut harness = launched_window(launched);
    step_until(&mut harness, "the relay's certificate", |h| {
        h.state().tab().state.tls().serving().is_some()
    });
    assert!(harness.state().tab().config.tls.enabled);
}

/// A relay tab's second TLS block is its upstream leg: a plain client's bytes pass through it to a TLS echo server
/// and back, the certificate panel shows that pair's upstream handshake, and `wirepad gui relay … --tls-upstream`
/// opens the tab so.
#[test]
fn a_relay_tab_speaks_tls_to_its_upstream_and_shows_that_legs_handshake() {
    let echo = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let upstream = echo.ready("listening on ");
    let mut harness = window(TabConfig {
        tls_upstream: tls_on(),
        show_tls: true,
        ..relay_to(upstream)
    });
    let relay = open_server(&mut harness);
    let mut client = TcpStream::connect(relay).expect("connect");
    client.set_read_timeout(Some(TIMEOUT)).expect("timeout");
    client.write_all(b"hello").expect("send");
    step_until(&mut harness, "hello there and back", |h| {
        h.state().tab().state.pairs().bytes_each_way() == (5, 5)
    });
    let mut back = [0; 5];
    client.read_exact(&mut back).expect("the echo");
    assert_eq!(&back, b"hello");
    step_until(&mut harness, "the upstream leg's handshake", |h| {
        handshake_of(h).is_some_and(|shake| shake.leg == Some(UPSTREAM_LEG) && shake.peer == upstream)
    });
    harness.run_steps(2);
    // The panel shows the pair of this client, and its upstream leg (the client leg is plain).
    let client_addr = client.local_addr().expect("local").to_string();
    assert!(
        harness.query_by_label(&client_addr).is_some(),
        "the pair's client is chosen"
    );
    assert!(
        harness
            .query_by_label_contains(&format!("{upstream} TLS 1.3 · Cipher suite: TLS13_"))
            .is_some()
    );
    let verdict = harness.query_by_label_contains("not verified: ");
    assert!(verdict.is_some(), "self-signed, verify warn: the panel says why");
    let launched = launch(&[
        "relay",
        "127.0.0.1:0",
        &upstream.to_string(),
        "--tls-upstream",
        "--verify",
        "off",
        "--sni",
        "device.local",
    ])
    .expect("the window takes it");
    let harness = launched_window(launched);
    let config = &harness.state().tab().config;
    assert!(!config.tls.enabled, "the listen leg stays plain");
    assert!(config.tls_upstream.enabled);
    assert_eq!(
        (config.tls_upstream.verify, config.tls_upstream.sni.as_str()),
        (VerifyMode::Off, "device.local")
    );
}

/// TLS on both legs of a relay tab: a Python ssl client through it to a TLS echo server; the panel shows the
/// chosen pair's two handshakes, each under its leg's name.
#[test]
fn a_relay_tab_with_tls_on_both_legs_shows_both_handshakes_of_the_pair() {
    if !crate::tls::have_python("a_relay_tab_with_tls_on_both_legs_shows_both_handshakes_of_the_pair") {
        return;
    }
    let echo = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let upstream = echo.ready("listening on ");
    let on = tls_on();
    let mut harness = window(TabConfig {
        tls: on.clone(),
        tls_upstream: on,
        show_tls: true,
        ..relay_to(upstream)
    });
    let relay = open_server(&mut harness);
    let _peer = crate::tls::py_peer("client-end", &["127.0.0.1", &relay.port().to_string()]);
    step_until(&mut harness, "hello there and back", |h| {
        h.state().tab().state.pairs().bytes_each_way() == (5, 5)
    });
    let client = harness.state().tab().state.pairs().clients().next().expect("a pair");
    for (what, peer) in [("the client leg", client), ("the upstream leg", upstream)] {
        let line = format!("{peer} TLS 1.3 · Cipher suite: TLS13_");
        step_until(&mut harness, what, |h| h.query_by_label_contains(&line).is_some());
    }
    assert!(
        harness.query_by_label("TLS with the client").is_some()
            && harness.query_by_label("TLS with the upstream").is_some()
    );
}

/// A relay with TLS on both legs whose upstream CA file is missing: named once, in the upstream block (the
/// listen block has no CA field shown), and nothing opens.
#[test]
fn a_missing_upstream_ca_is_named_in_the_upstream_block_and_nothing_opens() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("missing-ca.pem");
    let mut harness = window(TabConfig {
        tls: tls_on(),
        tls_upstream: TlsSettings {
            ca: missing.display().to_string(),
            ..tls_on()
        },
        ..relay_to(NOWHERE)
    });
    open_and_see_refused_once(&mut harness, &missing);
    let tab = &harness.state().tab();
    let refused = tab.state.tls_setup_error(&tab.config, Lang::En).map(|(field, _)| field);
    assert_eq!(refused, Some(Field::UpstreamTls(TlsField::Ca)));
    assert!(!tab.state.is_open() && !tab.state.starting(), "nothing opens");
}

/// A file refused at Open whose field is under a collapsed Advanced section: the section opens by itself, so the
/// file is named beside its field (once) on every kind with TLS, and nothing opens. In a relay only the block
/// whose leg it is opens.
#[test]
fn a_refused_file_under_a_collapsed_advanced_opens_it_and_is_named_there() {
    let dir = tempfile::tempdir().expect("dir");
    let (cert, _) = write_new_cert("localhost", &[], 2, &dir.path().join("me"), None)
        .expect("a certificate")
        .cert;
    let missing = dir.path().join("missing.pem");
    let on = tls_on();
    // Mutual TLS with a certificate but no key; a server requiring client certificates against a CA it lacks.
    let client = TlsSettings {
        client_cert: path(&cert).into(),
        client_key: path(&missing).into(),
        ..on.clone()
    };
    let server = TlsSettings {
        require_client_cert: true,
        client_ca: path(&missing).into(),
        ..on.clone()
    };
    let remote = |mode, tls, tls_upstream| TabConfig {
        mode,
        remote_host: "127.0.0.1".into(),
        remote_port: "9".into(),
        tls,
        tls_upstream,
        ..settings()
    };
    let none = TlsSettings::default();
    let (key, client_ca) = ("Client key", "Client CA");
    let cases = [
        ("tcp-client", remote(Kind::TcpClient, client.clone(), none.clone()), key),
        (
            "tcp-server",
            TabConfig {
                tls: server.clone(),
                ..settings()
            },
            client_ca,
        ),
        ("relay, listen leg", remote(Kind::Relay, server, none), client_ca),
        ("relay, upstream leg", remote(Kind::Relay, on, client), key),
    ];
    for (kind, config, field) in cases {
        let mut harness = window(config);
        harness.run_steps(2);
        assert!(
            harness.query_by_label(field).is_none(),
            "{kind}: Advanced starts closed"
        );
        open_and_see_refused_once(&mut harness, &missing);
        assert!(harness.query_by_label(field).is_some(), "{kind}: its field is shown");
        let tab = &harness.state().tab();
        assert!(!tab.state.is_open() && !tab.state.starting(), "{kind}: nothing opens");
        if kind == "relay, upstream leg" {
            assert!(
                harness.query_by_label(client_ca).is_none(),
                "the listen block's Advanced stays closed"
            );
        }
    }
}

/// A relay with TLS on both legs, each with a CA file: the one refused at Open is named in the block of its own
/// leg (the engine says which), also when both name the same file.
#[test]
fn a_relays_refused_ca_is_named_in_the_block_of_its_leg() {
    let dir = tempfile::tempdir().expect("dir");
    let (good, _) = write_new_cert("ca.example", &[], 2, &dir.path().join("ca"), None)
        .expect("a CA")
        .cert;
    let missing = dir.path().join("missing-ca.pem");
    let cases = [
        // The listen leg is read first: its error, though the upstream block names the same file.
        (&missing, &missing, Field::Tls(TlsField::ClientCa)),
        (&good, &missing, Field::UpstreamTls(TlsField::Ca)),
    ];
    for (listen_ca, upstream_ca, owner) in cases {
        let mut harness = window(TabConfig {
            tls: TlsSettings {
                require_client_cert: true,
                client_ca: path(listen_ca).into(),
                ..tls_on()
            },
            tls_upstream: TlsSettings {
                ca: path(upstream_ca).into(),
                ..tls_on()
            },
            ..relay_to(NOWHERE)
        });
        open_and_see_refused_once(&mut harness, &missing);
        let tab = &harness.state().tab();
        let refused = tab.state.tls_setup_error(&tab.config, Lang::En).map(|(field, _)| field);
        assert_eq!(refused, Some(owner));
        assert!(!tab.state.is_open() && !tab.state.starting(), "nothing opens");
    }
}

/// A relay's upstream block has a "make a self-signed certificate" button of its own (under Advanced): what it
/// makes is that block's client certificate and key, not the listen block's certificate.
#[test]
fn the_upstream_blocks_button_makes_that_blocks_client_certificate() {
    let dir = tempfile::tempdir().expect("dir");
    let on = tls_on();
    let mut harness = window(TabConfig {
        tls: on.clone(),
        tls_upstream: on,
        ..relay_to(NOWHERE)
    });
    harness
        .state_mut()
        .set_file_dialogs(Arc::new(Answer(dir.path().join("to-upstream.crt"))));
    // The listen block's Advanced comes first; the upstream block's is the second.
    harness
        .get_all_by_label("Advanced")
        .nth(1)
        .expect("the upstream block's")
        .click();
    step_until(&mut harness, "the upstream block's Advanced", |h| {
        h.query_by_label("Client key").is_some()
    });
    let buttons = harness.get_all_by_label("Make a self-signed certificate…").count();
    assert_eq!(buttons, 2, "one in each block");
    harness
        .get_all_by_label("Make a self-signed certificate…")
        .last()
        .expect("the upstream block's")
        .click();
    step_until(&mut harness, "the certificate", |h| {
        !h.state().tab().config.tls_upstream.client_cert.is_empty()
    });
    let (crt, key) = (dir.path().join("to-upstream.crt"), dir.path().join("to-upstream.key"));
    let config = &harness.state().tab().config;
    let upstream = &config.tls_upstream;
    assert_eq!(
        (upstream.client_cert.as_str(), upstream.client_key.as_str()),
        (path(&crt), path(&key))
    );
    assert!(upstream.cert.is_empty() && upstream.key.is_empty());
    assert_eq!(config.tls, tls_on(), "the listen block is untouched");
    assert!(
        std::fs::read_to_string(&crt)
            .expect("written")
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    assert!(
        std::fs::read_to_string(&key)
            .expect("written")
            .contains("PRIVATE KEY-----")
    );
    harness.run_steps(2);
    let made = format!("Made {}", crt.display());
    assert_eq!(
        harness.query_all_by_label(&made).count(),
        1,
        "said once, in the upstream block"
    );
}

/// Close pressed while a TLS client is still opening (its CA file is a FIFO not written yet, so the "wirepad-open"
/// thread waits on it): the tab is closed at once. Once the file comes, the session that thread starts finds
/// nobody waiting and stops: the server sees no connection, or one that ends at once; the tab stays closed and
/// says nothing.
#[cfg(unix)]
#[test]
fn close_while_a_tls_client_is_opening_leaves_nothing_running() {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().expect("dir");
    let (ca, _) = write_new_cert("ca.example", &[], 2, &dir.path().join("ca"), None)
        .expect("a CA")
        .cert;
    let pem = std::fs::read(&ca).expect("the CA");
    let fifo = dir.path().join("slow-ca.pem");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = server.local_addr().expect("addr");
    let mut harness = client_window(
        addr,
        TlsSettings {
            ca: path(&fifo).into(),
            ..TlsSettings::default()
        },
    );
    // The writer waits for the opener to be reading, then writes the CA once Close was pressed. Its end of the
    // FIFO closes either way, so the opener never waits for ever.
    let (go_tx, go) = crossbeam_channel::bounded::<()>(1);
    let writer = std::thread::spawn(move || {
        let mut end = eventually("the opener reading the CA", TIMEOUT, || {
            let open = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo);
            open.ok()
        });
        if go.recv_timeout(TIMEOUT).is_ok() {
            end.write_all(&pem).expect("write the CA");
        }
    });
    harness.get_by_label("Open").click();
    step_until(&mut harness, "the tab opening", |h| {
        h.query_by_label("Opening…").is_some()
    });
    harness.get_by_label("Close").click();
    harness.run_steps(2);
    let state = &harness.state().tab().state;
    assert!(!state.starting() && !state.is_open(), "closed at once");
    go_tx.send(()).expect("the writer waits");
    writer.join().expect("the writer");
    // No frame opens it meanwhile, and no error comes later.
    server.set_nonblocking(true).expect("nonblocking");
    let deadline = std::time::Instant::now() + QUIET;
    let mut connection = None;
    while connection.is_none() && std::time::Instant::now() < deadline {
        harness.step();
        let state = &harness.state().tab().state;
        assert!(!state.starting() && !state.is_open(), "the session stays closed");
        assert!(harness.state().error().is_none(), "{:?}", harness.state().error());
        connection = server.accept().ok().map(|(stream, _)| stream);
    }
    harness.run_steps(2);
    assert!(harness.query_by_label("Open").is_some() && harness.state().error().is_none());
    // A session left running would wait for the server's hello until its connect timeout (10 s).
    if let Some(mut stream) = connection {
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(QUIET)).expect("timeout");
        let mut hello = Vec::new();
        match stream.read_to_end(&mut hello) {
            Ok(_) => {}
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
                ),
                "the connection stays open: a session runs behind the closed tab ({e})"
            ),
        }
    }
}

/// How long a test watches for something that must not happen (well under the engine's 10 s timeouts).
const QUIET: std::time::Duration = std::time::Duration::from_secs(3);

/// A relay whose upstream refuses to verify (strict, against a CA that is not the upstream's): the pair ends, and
/// the panel says why under "TLS with the upstream", not only in the list of failed handshakes.
#[test]
fn a_failed_upstream_handshake_is_said_under_the_upstream_legs_heading() {
    let echo = Wirepad::start(&["tcp-server", "127.0.0.1:0", "--tls", "--echo", "-q"]);
    let upstream = echo.ready("listening on ");
    let dir = tempfile::tempdir().expect("dir");
    let (ca, _) = write_new_cert("other.example", &[], 2, &dir.path().join("other"), None)
        .expect("a CA")
        .cert;
    let mut harness = window(TabConfig {
        tls_upstream: TlsSettings {
            verify: VerifyMode::Strict,
            ca: path(&ca).into(),
            ..tls_on()
        },
        show_tls: true,
        ..relay_to(upstream)
    });
    let relay = open_server(&mut harness);
    let mut client = TcpStream::connect(relay).expect("connect");
    let client_addr = client.local_addr().expect("local");
    crate::support::read_to_end_or_reset(&mut client);
    let said = format!("Last failure: client {client_addr}: TLS with {upstream}: ");
    step_until(&mut harness, "the failure under the upstream leg", |h| {
        h.query_by_label_contains(&said).is_some()
    });
    let node = harness.get_by_label_contains(&said);
    let line = node
        .accesskit_node()
        .label()
        .or(node.accesskit_node().value())
        .unwrap_or_default();
    assert!(line.contains("unknown issuer"), "{line}");
    assert!(harness.query_by_label("TLS with the upstream").is_some());
    assert!(
        harness.query_by_label("TLS with the client").is_none(),
        "the client leg is plain"
    );
    assert!(harness.query_by_label_contains("Failed handshakes (1)").is_some());
}
