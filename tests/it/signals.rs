//! Ctrl+C, SIGTERM and panics: the built binary stopped by real signals keeps every byte it read, in files that are
//! whole; a panicking worker ends its own session only, naming its crash log.
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;

use crate::support::{TIMEOUT, eventually};
use crate::wirepad::{Io, Wirepad};

/// What a pcap holds of TCP: each port's payload in order, and which ports sent a FIN.
struct TcpRecords {
    payloads: Vec<(u16, Vec<u8>)>,
    fins: Vec<u16>,
}

impl TcpRecords {
    /// Reads every block: a file cut mid-record fails here.
    fn read(path: &Path) -> TcpRecords {
        use pcap_file::pcapng::{Block, PcapNgReader};
        let file = std::io::BufReader::new(std::fs::File::open(path).expect("the pcap"));
        let mut reader = PcapNgReader::new(file).expect("a pcapng header");
        let mut records = TcpRecords {
            payloads: Vec::new(),
            fins: Vec::new(),
        };
        while let Some(block) = reader.next_block() {
            let Block::EnhancedPacket(packet) = block.expect("a whole block") else {
                continue;
            };
            let sliced = etherparse::SlicedPacket::from_ethernet(&packet.data).expect("a packet");
            let Some(etherparse::TransportSlice::Tcp(tcp)) = sliced.transport else {
                panic!("not TCP");
            };
            let port = tcp.source_port();
            if tcp.fin() {
                records.fins.push(port);
            }
            match records.payloads.iter_mut().find(|(p, _)| *p == port) {
                Some((_, bytes)) => bytes.extend_from_slice(tcp.payload()),
                None => records.payloads.push((port, tcp.payload().to_vec())),
            }
        }
        records
    }

    fn from(&self, port: u16) -> &[u8] {
        self.payloads
            .iter()
            .find(|(p, _)| *p == port)
            .map_or(&[], |(_, bytes)| bytes)
    }
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 13 % 251) as u8).collect()
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// A client's 100 KB comes back whole from an echoing server; then the signals. The server exits `code`, and its
/// capture and pcap hold every byte, the still open connection ending with a FIN each way.
fn echo_then(signals: &[libc::c_int], code: i32, said: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let (capture, pcap) = (dir.path().join("capture.bin"), dir.path().join("echo.pcapng"));
    let wirepad = Wirepad::start(&[
        "tcp-server",
        "127.0.0.1:0",
        "--echo",
        "-q",
        "--recv-file",
        path_arg(&capture),
        "--pcap",
        path_arg(&pcap),
    ]);
    let server = wirepad.ready("listening on ");
    let data = pattern(100_000);
    let mut client = TcpStream::connect(server).expect("connect");
    client.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    client.write_all(&data).expect("write");
    let mut echoed = vec![0; data.len()];
    client.read_exact(&mut echoed).expect("the whole echo in time");
    assert!(echoed == data, "the echo differs");
    for &signal in signals {
        wirepad.signal(signal);
    }
    let done = wirepad.finish();
    assert_eq!(done.code, Some(code), "stderr: {:?}", done.stderr);
    assert!(
        done.stderr
            .iter()
            .any(|line| line.contains(said) && line.contains("Ctrl+C again")),
        "{:?}",
        done.stderr
    );
    let captured = std::fs::read(&capture).expect("capture file");
    assert!(
        captured == data,
        "the capture holds {} of {} bytes",
        captured.len(),
        data.len()
    );
    let records = TcpRecords::read(&pcap);
    let client_port = client.local_addr().expect("addr").port();
    assert!(records.from(client_port) == data, "the pcap's received bytes");
    assert!(records.from(server.port()) == data, "the pcap's sent bytes");
    assert!(
        records.fins.contains(&client_port) && records.fins.contains(&server.port()),
        "the open connection ends with a FIN each way: {:?}",
        records.fins
    );
}

#[test]
fn ctrl_c_after_an_echo_exits_130_with_every_byte_captured_and_fins_in_the_pcap() {
    echo_then(&[libc::SIGINT], 130, "interrupted");
}

#[test]
fn sigterm_after_an_echo_exits_143_with_every_byte_captured_and_fins_in_the_pcap() {
    echo_then(&[libc::SIGTERM], 143, "terminated");
}

/// Writes `chunk` to whoever connects to the returned address until they go, `cap` bytes or `TIMEOUT` at most.
fn flooder(cap: usize) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let flood = std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().expect("wirepad connects");
        peer.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
        let chunk = pattern(64 * 1024);
        let started = std::time::Instant::now();
        let mut sent = 0;
        while sent < cap && started.elapsed() < TIMEOUT && peer.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
        let _ = peer.shutdown(Shutdown::Both);
    });
    (addr, flood)
}

/// SIGTERM in the middle of an unpaced flood: exit 143, a pcap that parses to its end with the connection
/// closed, and the capture file exactly what the pcap says was received.
#[test]
fn sigterm_in_an_unpaced_flood_leaves_whole_files_that_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (capture, pcap) = (dir.path().join("capture.bin"), dir.path().join("flood.pcapng"));
    let (server, flood) = flooder(1 << 30);
    let remote = server.to_string();
    let wirepad = Wirepad::start(&[
        "tcp-client",
        &remote,
        "-q",
        "--recv-file",
        path_arg(&capture),
        "--pcap",
        path_arg(&pcap),
    ]);
    wirepad.stderr_until("connected to");
    eventually("the flood to reach the capture", TIMEOUT, || {
        std::fs::metadata(&capture).ok().filter(|m| m.len() > 1 << 20)
    });
    wirepad.signal(libc::SIGTERM);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(143), "stderr: {:?}", done.stderr);
    flood.join().expect("the flooder ends once wirepad is gone");
    let captured = std::fs::read(&capture).expect("capture file");
    let records = TcpRecords::read(&pcap);
    assert!(
        records.from(server.port()) == captured,
        "the pcap holds {} received bytes, the capture {}",
        records.from(server.port()).len(),
        captured.len()
    );
    assert!(captured.len() > 1 << 20, "{} bytes", captured.len());
    assert!(records.fins.contains(&server.port()), "FINs: {:?}", records.fins);
}

/// A second Ctrl+C does not wait for the first to finish. The capture goes to a pipe nobody reads, so finishing
/// it would never end; the second request ends the process anyway.
#[test]
fn a_second_ctrl_c_ends_a_run_whose_files_cannot_be_finished() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("capture.fifo");
    let name = std::ffi::CString::new(fifo.as_os_str().as_bytes()).expect("no NUL");
    // SAFETY: a NUL-terminated path; mkfifo keeps no pointer.
    assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0, "mkfifo");
    // Open for reading and never read: the writer's open does not wait, its writes soon do.
    let _unread = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(&fifo)
        .expect("the pipe's read end");
    let wirepad = Wirepad::start(&["tcp-server", "127.0.0.1:0", "-q", "--recv-file", path_arg(&fifo)]);
    let server = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(server).expect("connect");
    client.set_write_timeout(Some(TIMEOUT)).expect("write timeout");
    // More than the pipe holds, so the writer is stuck; the rest may wait in the kernel (the worker paused).
    let _ = client.write_all(&pattern(1 << 20));
    let first = std::time::Instant::now();
    wirepad.signal(libc::SIGINT);
    wirepad.stderr_until("Ctrl+C again");
    // Signals within 100 ms of the first are the same request (`timeout` sends two): a second one comes later.
    eventually("150 ms since the first Ctrl+C", TIMEOUT, || {
        (first.elapsed() >= std::time::Duration::from_millis(150)).then_some(())
    });
    wirepad.signal(libc::SIGINT);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(130), "stderr: {:?}", done.stderr);
}

/// The test hook's bytes make the worker panic: the run ends with exit 1 and one line naming the crash log, which
/// holds the message and a backtrace.
#[test]
fn a_panicking_worker_ends_the_run_with_exit_1_naming_its_crash_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = "wirepad-cli-test-panic";
    let env: &[(&str, &OsStr)] = &[
        ("WIREPAD_TEST_PANIC_ON", OsStr::new(marker)),
        ("XDG_DATA_HOME", dir.path().as_os_str()),
        ("APPDATA", dir.path().as_os_str()),
    ];
    let wirepad = Wirepad::start_with(&["tcp-server", "127.0.0.1:0"], Io { env, ..Io::default() });
    let server = wirepad.ready("listening on ");
    let mut client = TcpStream::connect(server).expect("connect");
    client.write_all(marker.as_bytes()).expect("write");
    let done = wirepad.finish();
    assert_eq!(done.code, Some(1), "stderr: {:?}", done.stderr);
    let line = done
        .stderr
        .iter()
        .find(|line| line.starts_with("error: the session stopped on an internal error"))
        .unwrap_or_else(|| panic!("no line says so: {:?}", done.stderr));
    let log = line
        .split_once("crash log ")
        .map(|(_, path)| Path::new(path))
        .unwrap_or_else(|| panic!("{line:?} names no crash log"));
    assert!(log.starts_with(dir.path()), "{log:?} is under the data directory");
    let report = std::fs::read_to_string(log).expect("the crash log");
    assert!(report.contains("test hook") && report.contains("backtrace"), "{report}");
}

/// An X server of its own for a real window (`Xvfb -displayfd`: it picks a free display and names it); killed on drop.
#[cfg(feature = "gui")]
struct Xvfb {
    child: std::process::Child,
    display: String,
}

#[cfg(feature = "gui")]
impl Xvfb {
    /// `None` where Xvfb is not installed.
    fn start() -> Option<Xvfb> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = crossbeam_channel::bounded(1);
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let number = rx.recv_timeout(TIMEOUT).expect("Xvfb names its display in time");
        let display = format!(":{}", number.trim());
        Some(Xvfb { child, display })
    }
}

#[cfg(feature = "gui")]
impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real window (not kittest) under Xvfb: Ctrl+C closes it with its session open, without the quit question
/// nobody could answer; the session finishes its capture and closes its connection, the settings are saved, and
/// the exit is 130, also when the signal comes twice, as `timeout` sends it.
#[cfg(feature = "gui")]
#[test]
fn ctrl_c_closes_a_real_window_which_finishes_its_capture_and_exits_130() {
    let test = "ctrl_c_closes_a_real_window_which_finishes_its_capture_and_exits_130";
    let xvfb = Xvfb::start();
    if !crate::support::skip_unless(xvfb.is_some(), test, "Xvfb is not installed") {
        return;
    }
    let xvfb = xvfb.expect("checked");
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run");
    std::fs::create_dir(&run).expect("runtime dir");
    let capture = dir.path().join("capture.bin");
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    let target = listener.local_addr().expect("addr").to_string();
    let home = dir.path().as_os_str();
    let env: &[(&str, &OsStr)] = &[
        ("DISPLAY", OsStr::new(&xvfb.display)),
        ("HOME", home),
        ("XDG_DATA_HOME", home),
        ("XDG_CONFIG_HOME", home),
        ("XDG_RUNTIME_DIR", run.as_os_str()),
    ];
    let io = Io {
        env,
        unset: &["WAYLAND_DISPLAY"],
        ..Io::default()
    };
    let wirepad = Wirepad::start_with(&["gui", "tcp-client", &target, "--recv-file", path_arg(&capture)], io);
    // The window's session connects once the window is up.
    let (mut peer, _) = crate::support::accept_within(&listener);
    let data = pattern(100_000);
    peer.write_all(&data).expect("write");
    eventually("the capture holds every byte", TIMEOUT, || {
        (std::fs::metadata(&capture).ok()?.len() == data.len() as u64).then_some(())
    });
    // As `timeout` does: the process, then its group; the two may arrive apart, and are still one request.
    wirepad.signal(libc::SIGINT);
    let first = std::time::Instant::now();
    eventually("10 ms since the first signal", TIMEOUT, || {
        (first.elapsed() >= std::time::Duration::from_millis(10)).then_some(())
    });
    wirepad.signal(libc::SIGINT);
    let done = wirepad.finish();
    assert_eq!(done.code, Some(130), "stderr: {:?}", done.stderr);
    assert!(
        std::fs::read(&capture).expect("capture") == data,
        "the capture is whole"
    );
    peer.set_read_timeout(Some(TIMEOUT)).expect("read timeout");
    assert_eq!(
        peer.read(&mut [0; 16]).expect("a FIN, not a reset"),
        0,
        "the window closed its connection"
    );
    assert!(
        dir.path().join("wirepad").join("app.ron").exists(),
        "the settings are saved (a second signal at once would have ended the process first)"
    );
}
