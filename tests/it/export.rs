//! Exports checked by the tools users open them with: pcapng read back by tshark (Debian's, as CI installs it).
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

#[cfg(feature = "gui")]
use egui_kittest::kittest::{NodeT, Queryable};
use wirepad::codec::pcapng::{Carrier, PcapSynth, Way};

use crate::support::skip_unless;

/// Whether tshark is here to check the files with. CI installs it and must run these; elsewhere a machine without it
/// skips them, saying so.
pub fn have_tshark(test: &str) -> bool {
    let found = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    skip_unless(found, test, "tshark is not installed (Debian: apt-get install tshark)")
}

pub fn tshark(args: &[&str]) -> String {
    let out = Command::new("tshark")
        .args(args)
        .output()
        .expect("tshark runs (Debian package tshark; .ci/run installs it)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "tshark {args:?}: {stderr}");
    // As root (CI) tshark says so; anything else it says is about the file.
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.contains("This could be dangerous"))
        .collect();
    assert!(warnings.is_empty(), "tshark {args:?} warned: {warnings:?}");
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `tshark -r FILE` reads every packet, none malformed, and its expert info has no warning or error.
fn assert_clean(file: &Path, packets: usize) {
    assert_eq!(assert_readable(file), packets);
}

/// `tshark -r FILE` reads the file without a malformed packet or an expert warning or error; returns how many
/// packets it holds.
pub fn assert_readable(file: &Path) -> usize {
    let file = file.to_str().expect("utf-8 path");
    let listing = tshark(&["-r", file]);
    assert!(!listing.contains("Malformed"), "{listing}");
    let expert = tshark(&["-r", file, "-q", "-z", "expert,warn"]);
    assert!(
        !expert.contains("Warnings (") && !expert.contains("Errors ("),
        "{expert}"
    );
    listing.lines().count()
}

/// Both directions of a TCP stream as `tshark -z follow,tcp,raw,N` gives them back: (node 0's, node 1's).
pub fn follow_tcp(file: &Path, stream: usize) -> (Vec<u8>, Vec<u8>) {
    let out = tshark(&[
        "-r",
        file.to_str().expect("utf-8 path"),
        "-q",
        "-z",
        &format!("follow,tcp,raw,{stream}"),
    ]);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    let body = out.split("Node 1: ").nth(1).expect("a follow body");
    for line in body.lines().skip(1) {
        if line.starts_with('=') {
            break;
        }
        let (side, hex) = match line.strip_prefix('\t') {
            Some(hex) => (&mut second, hex),
            None => (&mut first, line),
        };
        side.extend(wirepad::codec::hex::parse_hex(hex).expect("hex"));
    }
    (first, second)
}

fn at(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(1_764_500_000_000 + ms)
}

fn tcp_conversation(local: SocketAddr, peer: SocketAddr, big: usize) -> (Vec<u8>, (Vec<u8>, Vec<u8>), usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("session.pcapng");
    let file = std::fs::File::create(&path).expect("create");
    let mut synth = PcapSynth::new(std::io::BufWriter::new(file), Carrier::Tcp).expect("header");
    let request: Vec<u8> = b"GET /status\r\n"
        .iter()
        .copied()
        .chain((0..big).map(|i| (i * 7 % 251) as u8))
        .collect();
    synth.joined(at(0), local, peer, Way::In).expect("join");
    synth.data(at(1), local, peer, Way::In, &request[..5]).expect("in");
    synth.data(at(2), local, peer, Way::In, &request[5..]).expect("in");
    synth
        .data(at(3), local, peer, Way::Out, "你好 OK\r\n".as_bytes())
        .expect("out");
    synth.left(at(4), local, peer, Way::In, false).expect("leave");
    drop(synth.finish(at(5)).expect("finish"));
    let segments = 2 + big.div_ceil(wirepad::codec::pcapng::SEGMENT).max(1);
    let packets = 3 + segments + 3;
    assert_clean(&path, packets);
    let followed = follow_tcp(&path, 0);
    (request, followed, packets)
}

#[test]
fn a_tcp_session_over_ipv4_follows_back_byte_for_byte() {
    if !have_tshark("a_tcp_session_over_ipv4_follows_back_byte_for_byte") {
        return;
    }
    let local: SocketAddr = "127.0.0.1:7788".parse().expect("addr");
    let peer: SocketAddr = "127.0.0.1:50123".parse().expect("addr");
    let (request, (client, server), _) = tcp_conversation(local, peer, 100_000);
    assert_eq!(client, request, "what the peer sent (it opened the connection: node 0)");
    assert_eq!(server, "你好 OK\r\n".as_bytes());
}

#[test]
fn a_tcp_session_over_ipv6_follows_back_byte_for_byte() {
    if !have_tshark("a_tcp_session_over_ipv6_follows_back_byte_for_byte") {
        return;
    }
    let local: SocketAddr = "[::1]:50000".parse().expect("addr");
    let peer: SocketAddr = "[::1]:7".parse().expect("addr");
    let (request, (client, server), _) = tcp_conversation(local, peer, 1000);
    assert_eq!(client, request);
    assert_eq!(server, "你好 OK\r\n".as_bytes());
}

#[test]
fn udp_datagrams_keep_their_addresses_and_bytes() {
    if !have_tshark("udp_datagrams_keep_their_addresses_and_bytes") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("udp.pcapng");
    let file = std::fs::File::create(&path).expect("create");
    let mut synth = PcapSynth::new(file, Carrier::Udp).expect("header");
    let (local, peer): (SocketAddr, SocketAddr) = ("[::1]:9000".parse().expect("a"), "[::1]:9001".parse().expect("b"));
    synth
        .data(at(0), local, peer, Way::In, b"\x01\x03\x00\x00")
        .expect("in");
    synth
        .data(at(1), local, peer, Way::Out, b"")
        .expect("an empty datagram");
    synth.data(at(2), local, peer, Way::Out, &[0xAB; 1400]).expect("out");
    drop(synth.finish(at(3)).expect("finish"));
    assert_clean(&path, 3);
    let fields = tshark(&[
        "-r",
        path.to_str().expect("utf-8 path"),
        "-T",
        "fields",
        "-e",
        "ipv6.src",
        "-e",
        "udp.srcport",
        "-e",
        "udp.dstport",
        "-e",
        "udp.length",
        "-e",
        "frame.time_epoch",
    ]);
    let rows: Vec<Vec<&str>> = fields.lines().map(|line| line.split('\t').collect()).collect();
    assert_eq!(rows[0][..4], ["::1", "9001", "9000", "12"]);
    assert_eq!(rows[1][..4], ["::1", "9000", "9001", "8"]);
    assert_eq!(rows[2][..4], ["::1", "9000", "9001", "1408"]);
    assert!(rows[2][4].starts_with("1764500000.002000"), "{:?}", rows[2][4]);
}

/// A thousand clients of a server, and one 64 MiB transfer: each stream follows back whole.
#[test]
fn a_thousand_clients_and_a_64_mib_transfer() {
    if !have_tshark("a_thousand_clients_and_a_64_mib_transfer") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("many.pcapng");
    let file = std::fs::File::create(&path).expect("create");
    let mut synth = PcapSynth::new(std::io::BufWriter::new(file), Carrier::Tcp).expect("header");
    let server: SocketAddr = "10.0.0.1:502".parse().expect("addr");
    for n in 0..1000u16 {
        let client = SocketAddr::from(([10, 0, 1, (n % 250) as u8], 40000 + n));
        synth.joined(at(0), server, client, Way::In).expect("join");
        synth
            .data(at(1), server, client, Way::In, format!("client {n}").as_bytes())
            .expect("in");
        synth
            .data(at(2), server, client, Way::Out, format!("hello {n}").as_bytes())
            .expect("out");
        synth.left(at(3), server, client, Way::In, n % 2 == 1).expect("leave");
    }
    let big: SocketAddr = "10.0.9.9:60000".parse().expect("addr");
    let payload: Vec<u8> = (0..64u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    synth.joined(at(4), server, big, Way::In).expect("join");
    synth.data(at(5), server, big, Way::In, &payload).expect("64 MiB");
    drop(synth.finish(at(6)).expect("finish"));
    let path_str = path.to_str().expect("utf-8 path");
    let resets = tshark(&[
        "-r",
        path_str,
        "-Y",
        "tcp.flags.reset == 1",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
    ]);
    assert_eq!(resets.lines().count(), 500, "every other client was reset");
    assert_eq!(follow_tcp(&path, 999), (b"client 999".to_vec(), b"hello 999".to_vec()));
    let (sent, answered) = follow_tcp(&path, 1000);
    assert!(answered.is_empty());
    assert!(sent == payload, "the 64 MiB came back whole ({} bytes)", sent.len());
}

#[cfg(feature = "gui")]
/// A dialog that answers every question with one path.
pub struct Answer(pub std::path::PathBuf);

#[cfg(feature = "gui")]
impl wirepad::gui::dialog::FileDialogs for Answer {
    fn choose(&self, _: wirepad::gui::dialog::FilePurpose) -> wirepad::gui::dialog::Chosen {
        wirepad::gui::dialog::Chosen::Path(self.0.clone())
    }
}

#[cfg(feature = "gui")]
fn export_from_the_window(
    harness: &mut egui_kittest::Harness<'static, wirepad::gui::WirepadApp>,
    format: &str,
    path: &Path,
) {
    export_with(harness, "Export…", format, path);
}

#[cfg(feature = "gui")]
/// Clicks `button` (Export…, or Export selection… with rows selected), then `format`, and answers the dialog.
fn export_with(
    harness: &mut egui_kittest::Harness<'static, wirepad::gui::WirepadApp>,
    button: &str,
    format: &str,
    path: &Path,
) {
    harness
        .state_mut()
        .set_file_dialogs(std::sync::Arc::new(Answer(path.to_path_buf())));
    harness.get_by_label(button).click();
    harness.run_steps(2);
    harness.get_by_label(format).click();
    harness.run_steps(2);
    // Started once the dialog has answered; over once the window says where it saved it (or why it could not):
    // an earlier export's "saved" does not count.
    let saved = format!("Saved to {}", path.display());
    crate::ui::step_until(harness, "the export to end", |h| {
        !h.state().dialog_open()
            && h.state().tab().state.export().is_none()
            && h.state()
                .notice()
                .is_some_and(|notice| notice == saved || !notice.starts_with("Saved to "))
    });
}

#[cfg(feature = "gui")]
#[test]
fn the_window_exports_its_history_as_pcapng_that_tshark_follows() {
    if !have_tshark("the_window_exports_its_history_as_pcapng_that_tshark_follows") {
        return;
    }
    use std::io::Write;
    let mut harness = crate::ui::window(crate::ui::settings());
    let server = crate::ui::open_server(&mut harness);
    let (mut client, _) = crate::ui::connect(&mut harness, server);
    client.write_all(b"request 1\r\n").expect("send");
    crate::ui::step_until(&mut harness, "the request on show", |h| {
        h.state().tab().state.view_text().contains("request 1")
    });
    harness.get_by_label("Send box").set_text_value_accesskit("reply");
    harness.run_steps(2);
    harness.get_by_label("Send").click();
    crate::ui::step_until(&mut harness, "the reply on show", |h| {
        h.state().tab().state.view_text().contains("reply")
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let pcap = dir.path().join("session.pcapng");
    export_from_the_window(&mut harness, "pcapng (Wireshark)", &pcap);
    assert_eq!(harness.state().notice(), Some(format!("Saved to {}", pcap.display())));
    assert_clean(&pcap, 3 + 2 + 3);
    assert_eq!(follow_tcp(&pcap, 0), (b"request 1\r\n".to_vec(), b"reply".to_vec()));
    let csv = dir.path().join("session.csv");
    export_from_the_window(&mut harness, "CSV", &csv);
    let records: Vec<wirepad::export::records::Record> = csv::Reader::from_path(&csv)
        .expect("the CSV")
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("records");
    let seen: Vec<(&str, &str, &str)> = records
        .iter()
        .map(|r| (r.direction.as_str(), r.hex.as_str(), r.text.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("rx", "72 65 71 75 65 73 74 20 31 0D 0A", "request 1\r\n"),
            ("tx", "72 65 70 6C 79", "reply")
        ]
    );
}

#[cfg(feature = "gui")]
#[test]
fn an_export_that_cannot_be_written_says_so_and_leaves_no_file() {
    let mut harness = crate::ui::window(crate::ui::settings());
    harness.run();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing-folder").join("out.jsonl");
    export_from_the_window(&mut harness, "JSON lines", &path);
    crate::ui::step_until(&mut harness, "the notice", |h| h.state().notice().is_some());
    let notice = harness.state().notice().expect("a notice");
    assert!(notice.contains("out.jsonl"), "{notice}");
    assert!(!path.exists());
    assert!(
        harness.query_by_label_contains("out.jsonl").is_some(),
        "shown in the window"
    );
}

#[cfg(feature = "gui")]
/// Clicks the select gutter of the receive row showing `text` (with Shift: extends the selection to it).
fn click_row(harness: &mut egui_kittest::Harness<'static, wirepad::gui::WirepadApp>, text: &str, shift: bool) {
    let row = harness.get_by_label(text).rect();
    let gutter = harness
        .get_all_by_label("Select row")
        .find(|gutter| gutter.rect().y_range().contains(row.center().y))
        .unwrap_or_else(|| panic!("the gutter of row {text}"));
    if shift {
        gutter.click_modifiers(egui::Modifiers::SHIFT);
    } else {
        gutter.click();
    }
    harness.run_steps(2);
}

#[cfg(feature = "gui")]
/// Whether the receive row showing `text` is drawn selected.
fn row_selected(harness: &egui_kittest::Harness<'static, wirepad::gui::WirepadApp>, text: &str) -> bool {
    let row = harness.get_by_label(text).rect();
    harness
        .get_all_by_label("Select row")
        .find(|gutter| gutter.rect().y_range().contains(row.center().y))
        .is_some_and(|gutter| gutter.accesskit_node().toggled() == Some(egui::accesskit::Toggled::True))
}

#[cfg(feature = "gui")]
#[test]
fn rows_selected_in_the_window_export_alone() {
    use std::io::Write;
    let mut harness = crate::ui::window(crate::ui::settings());
    let server = crate::ui::open_server(&mut harness);
    let (mut client, _) = crate::ui::connect(&mut harness, server);
    let messages = ["alpha", "bravo", "charlie", "delta"];
    // One at a time, so each is a chunk (and a row) of its own.
    for message in messages {
        client.write_all(format!("{message}\n").as_bytes()).expect("send");
        crate::ui::step_until(&mut harness, message, |h| {
            h.state().tab().state.view_text().contains(message)
        });
    }
    harness.run_steps(2);
    click_row(&mut harness, "bravo", false);
    click_row(&mut harness, "charlie", true);
    let selected: Vec<bool> = messages.iter().map(|m| row_selected(&harness, m)).collect();
    assert_eq!(selected, [false, true, true, false]);
    // The window starts in log mode: each message is a header row and a data row.
    assert!(harness.query_by_label("Rows selected: 4").is_some());
    // More data leaves the selection as it was.
    client.write_all(b"echo\n").expect("send");
    crate::ui::step_until(&mut harness, "echo", |h| {
        h.state().tab().state.view_text().contains("echo")
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("selection.csv");
    export_with(&mut harness, "Export selection…", "CSV", &csv);
    assert_eq!(harness.state().notice(), Some(format!("Saved to {}", csv.display())));
    let records: Vec<wirepad::export::records::Record> = csv::Reader::from_path(&csv)
        .expect("the CSV")
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("records");
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["bravo\n", "charlie\n"]);
    // Esc lets go: Export takes everything again.
    harness.key_down(egui::Key::Escape);
    harness.run_steps(2);
    assert!(!row_selected(&harness, "bravo"));
    let all = dir.path().join("all.csv");
    export_with(&mut harness, "Export…", "CSV", &all);
    let records = csv::Reader::from_path(&all).expect("the CSV").records().count();
    assert_eq!(records, messages.len() + 1);
}
