//! `wirepad load tcp|udp HOST:PORT` and `wirepad load merge`: the load generator on the command line.
//!
//! stderr: one line when it starts, then a progress line a second; stdout: the report at the end. Exit 0 the run
//! finished, 1 nothing could connect (or a file could not be written), 2 bad arguments; Ctrl+C stops at once,
//! prints the report, and exits 130 as every subcommand does.
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crossbeam_channel::{Receiver, never, select};

use super::args::{
    LoadArgs, LoadCommand, MergeArgs, ReportFormat, parse_connections, parse_count, parse_duration, parse_framing,
    parse_in_flight, parse_positive_rate, parse_rate, parse_timeout, parse_upstream,
};
use super::{CliError, note, reported};
use crate::codec::hex::parse_hex;
use crate::codec::text::TextEncoding;
use crate::net::MAX_DATAGRAM;
use crate::net::load::{Config, Limit, LoadRun, Pace, Payload, Protocol, Report, Snapshot, check_fd_limit};
use crate::payload::{LineEnding, PayloadFormat, PayloadSpec};
use crate::settings::load::{LoadField, LoadForm};
use crate::signals::{self, Stop};
use crate::vars::{Template, Values};

/// The largest `--send-file` a load run sends as each message.
const MAX_FILE: u64 = 16 << 20;

impl LoadArgs {
    /// The run these arguments describe, every check done: nothing is sent before they all pass. May resolve a
    /// host name and read a file: the window calls it off its UI thread.
    pub fn config(&self, protocol: Protocol) -> Result<Config, CliError> {
        self.config_by_field(protocol).map_err(|(_, error)| error)
    }

    /// `config`, each error with the window's field it is about (`None`: the run as a whole).
    pub fn config_by_field(&self, protocol: Protocol) -> Result<Config, (Option<LoadField>, CliError)> {
        let at = |field| move |error| (Some(field), error);
        if protocol == Protocol::Udp && self.in_flight.is_some() {
            return Err((
                Some(LoadField::InFlight),
                CliError::Usage("--in-flight is for tcp (udp sends on its schedule)".into()),
            ));
        }
        let target = resolve(&self.target).map_err(at(LoadField::Target))?;
        let payload_field = match self.send_file {
            Some(_) => LoadField::SendFile,
            None => LoadField::Payload,
        };
        let payload = self.payload(protocol, target).map_err(at(payload_field))?;
        check_fd_limit(self.connections)
            .map_err(|(needed, allowed)| {
                CliError::Usage(format!(
                    "-c {}: needs about {needed} open files and this system allows {allowed} (raise it with ulimit -n)",
                    self.connections
                ))
            })
            .map_err(at(LoadField::Connections))?;
        let pace = match (self.rate, self.total_rate) {
            (_, Some(total)) => Pace::Total(total),
            (rate, None) => Pace::PerConnection(rate.unwrap_or(0.0)),
        };
        let limit = match (self.duration, self.count) {
            (Some(span), _) => Limit::Duration(span),
            (None, Some(count)) => Limit::Count(count),
            (None, None) => Limit::UntilStopped,
        };
        Ok(Config {
            protocol,
            target,
            connections: self.connections,
            connect_rate: self.connect_rate,
            pace,
            limit,
            payload,
            framing: self.frame.clone().unwrap_or_default(),
            timeout: Duration::from_millis(self.timeout),
            in_flight: self.in_flight,
        })
    }

    fn payload(&self, protocol: Protocol, target: SocketAddr) -> Result<Payload, CliError> {
        let encoding = TextEncoding::from_name(self.encoding.as_deref().unwrap_or("utf-8"))?;
        let append = self.append.unwrap_or(LineEnding::None);
        let literal = |template| Payload {
            template,
            checksum: self.checksum,
            append: append.bytes(),
        };
        let (option, payload) = if let Some(text) = &self.send {
            let spec = PayloadSpec {
                format: PayloadFormat::Text { escapes: true },
                encoding,
                checksum: self.checksum,
                append,
            };
            let payload = Payload::parse(text, &spec).map_err(|error| CliError::Usage(format!("--send: {error}")))?;
            ("--send", payload)
        } else if let Some(hex) = &self.send_hex {
            let bytes = parse_hex(hex).map_err(|error| CliError::Payload {
                option: "--send-hex",
                source: error.into(),
            })?;
            ("--send-hex", literal(Template::literal(bytes)))
        } else if let Some(path) = &self.send_file {
            ("--send-file", literal(Template::literal(read_payload_file(path)?)))
        } else {
            return Err(CliError::Usage(
                "give what each message is: -s TEXT, --send-hex HEX or --send-file PATH".into(),
            ));
        };
        let peer = target.to_string();
        let mut first = Vec::new();
        payload.build(
            &Values {
                seq: 0,
                conn: 0,
                count: 0,
                peer: &peer,
            },
            &mut first,
        );
        if first.is_empty() {
            return Err(CliError::NothingToSend { option });
        }
        if protocol == Protocol::Udp && first.len() > MAX_DATAGRAM {
            return Err(CliError::DatagramTooLarge {
                option,
                len: first.len(),
                limit: MAX_DATAGRAM,
            });
        }
        Ok(payload)
    }
}

/// The window's load form as the command line's arguments, each field through its flag's own parser, so a bad
/// field gets the same message the flag would; every field's message at once.
pub fn form_args(form: &LoadForm) -> Result<(Protocol, LoadArgs), Vec<(LoadField, String)>> {
    let mut errors = Vec::new();
    let target = checked(&mut errors, LoadField::Target, parse_upstream(form.target.trim()));
    let connections = checked(
        &mut errors,
        LoadField::Connections,
        parse_connections(form.connections.trim()),
    );
    let connect_rate = optional(&form.connect_rate)
        .map(|text| checked(&mut errors, LoadField::ConnectRate, parse_positive_rate(text)));
    let rate = checked(&mut errors, LoadField::Rate, parse_rate(form.rate.trim()));
    let duration = optional(&form.duration).map(|text| checked(&mut errors, LoadField::Duration, parse_duration(text)));
    let count = optional(&form.count).map(|text| checked(&mut errors, LoadField::Count, parse_count(text)));
    let timeout = checked(&mut errors, LoadField::Timeout, parse_timeout(form.timeout_ms.trim()));
    let in_flight =
        optional(&form.in_flight).map(|text| checked(&mut errors, LoadField::InFlight, parse_in_flight(text)));
    let frame = optional(&form.frame).map(|text| checked(&mut errors, LoadField::Frame, parse_framing(text)));
    if duration.is_some() && count.is_some() {
        errors.push((LoadField::Count, "give a duration or a count, not both".into()));
    }
    let (Some(target), Some(connections), Some(rate), Some(timeout), true) =
        (target, connections, rate, timeout, errors.is_empty())
    else {
        return Err(errors);
    };
    let send_file = optional(&form.send_file).map(PathBuf::from);
    // The file is sent as it is: the text, its checksum and line ending are not used.
    let text = send_file.is_none().then(|| form.payload.clone());
    let (send, send_hex) = match form.hex {
        true => (None, text),
        false => (text, None),
    };
    let args = LoadArgs {
        target,
        connections,
        connect_rate: connect_rate.flatten(),
        rate: Some(rate).filter(|_| !form.total),
        total_rate: Some(rate).filter(|_| form.total),
        duration: duration.flatten(),
        count: count.flatten(),
        timeout,
        in_flight: in_flight.flatten(),
        encoding: Some(form.encoding.name().into()),
        checksum: form.checksum.filter(|_| send_file.is_none()),
        append: Some(form.append).filter(|_| send_file.is_none()),
        send,
        send_hex,
        send_file,
        frame: frame.flatten(),
        report: ReportFormat::Json,
        report_file: None,
    };
    Ok((if form.udp { Protocol::Udp } else { Protocol::Tcp }, args))
}

/// `wirepad gui load …`: the options in the window's load form, which `form_args` turns back into the same
/// arguments. What the form has no field for (`--report-file`) is refused rather than ignored.
pub fn window_form(command: &LoadCommand) -> Result<LoadForm, CliError> {
    let (protocol, args) = match command {
        LoadCommand::Tcp(args) => (Protocol::Tcp, args),
        LoadCommand::Udp(args) => (Protocol::Udp, args),
        LoadCommand::Merge(_) => return Err(CliError::Usage("load merge is for the command line only".into())),
    };
    if args.report_file.is_some() {
        return Err(CliError::Usage(
            "--report-file is for the command line only; the window's load test exports its report".into(),
        ));
    }
    let send_file = match &args.send_file {
        Some(path) => path.to_str().map(String::from).ok_or_else(|| {
            CliError::Usage(format!(
                "--send-file {}: the window takes only UTF-8 paths",
                path.display()
            ))
        })?,
        None => String::new(),
    };
    let (payload, hex) = match (&args.send, &args.send_hex) {
        (Some(text), _) => (text.clone(), false),
        (None, Some(hex)) => (hex.clone(), true),
        (None, None) if !send_file.is_empty() => (String::new(), false),
        (None, None) => {
            return Err(CliError::Usage(
                "give what each message is: -s TEXT, --send-hex HEX or --send-file PATH".into(),
            ));
        }
    };
    let text = |value: Option<String>| value.unwrap_or_default();
    Ok(LoadForm {
        udp: protocol == Protocol::Udp,
        target: args.target.clone(),
        connections: args.connections.to_string(),
        connect_rate: text(args.connect_rate.map(|rate| rate.to_string())),
        rate: args.total_rate.or(args.rate).unwrap_or(0.0).to_string(),
        total: args.total_rate.is_some(),
        duration: text(args.duration.map(|span| span.as_secs_f64().to_string())),
        count: text(args.count.map(|count| count.to_string())),
        timeout_ms: args.timeout.to_string(),
        payload,
        hex,
        encoding: TextEncoding::from_name(args.encoding.as_deref().unwrap_or("utf-8"))?,
        checksum: args.checksum,
        append: args.append.unwrap_or(LineEnding::None),
        send_file,
        in_flight: text(args.in_flight.map(|n| n.to_string())),
        frame: text(args.frame.as_ref().map(ToString::to_string)),
    })
}

/// A field that may stay empty: `None` when it is.
fn optional(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|text| !text.is_empty())
}

/// The value, or `None` with the field's message noted.
fn checked<T>(errors: &mut Vec<(LoadField, String)>, field: LoadField, result: Result<T, String>) -> Option<T> {
    result.map_err(|why| errors.push((field, why))).ok()
}

fn read_payload_file(path: &Path) -> Result<Vec<u8>, CliError> {
    let meta =
        std::fs::metadata(path).map_err(|error| CliError::Usage(format!("--send-file {}: {error}", path.display())))?;
    if !meta.is_file() {
        return Err(CliError::NotAFile { path: path.to_owned() });
    }
    if meta.len() > MAX_FILE {
        return Err(CliError::Usage(format!(
            "--send-file {}: {} bytes; a message is at most {MAX_FILE}",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path).map_err(|error| CliError::Usage(format!("--send-file {}: {error}", path.display())))
}

/// The target's first address; a name that does not resolve is a bad argument.
fn resolve(target: &str) -> Result<SocketAddr, CliError> {
    let bad = |why: String| CliError::Usage(format!("cannot resolve {target}: {why}"));
    let mut addrs = target.to_socket_addrs().map_err(|error| bad(error.to_string()))?;
    addrs.next().ok_or_else(|| bad("no address".into()))
}

pub fn run(command: LoadCommand) -> ExitCode {
    let result = match command {
        LoadCommand::Tcp(args) => load(Protocol::Tcp, &args),
        LoadCommand::Udp(args) => load(Protocol::Udp, &args),
        LoadCommand::Merge(args) => merge(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => reported(error),
    }
}

fn load(protocol: Protocol, args: &LoadArgs) -> Result<ExitCode, CliError> {
    let config = args.config(protocol)?;
    let stops = signals::listen().unwrap_or_else(|_| never());
    note(format_args!(
        "load {} {}: {} connection(s)",
        protocol.name(),
        config.target,
        config.connections
    ));
    let run = LoadRun::start(config).map_err(|error| CliError::LoadFailed(error.to_string()))?;
    let stopped = watch(&run, &stops);
    let report = run
        .finish()
        .map_err(|error| CliError::LoadFailed(error.to_string()))?
        .report;
    output(&report, args.report, args.report_file.as_deref())?;
    if let Some(stop) = stopped {
        note(format_args!("load stopped: {stop}"));
        return Err(CliError::Stopped(stop));
    }
    if report.connections.established == 0 {
        let failed: Vec<String> = report
            .connections
            .failed
            .iter()
            .map(|(why, n)| format!("{why} {n}"))
            .collect();
        return Err(CliError::LoadFailed(format!(
            "nothing could connect to {} ({})",
            report.target,
            failed.join(", ")
        )));
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a progress line for each snapshot until the run ends; a stop request stops it at once.
fn watch(run: &LoadRun, stops: &Receiver<Stop>) -> Option<Stop> {
    let mut stopped = None;
    loop {
        select! {
            recv(run.progress) -> snapshot => match snapshot {
                Ok(snapshot) => progress(&snapshot),
                // The run dropped its side: it has ended.
                Err(_) => return stopped,
            },
            recv(stops) -> stop => {
                if let Ok(stop) = stop {
                    run.stop();
                    stopped = Some(stop);
                }
            },
        }
    }
}

fn progress(s: &Snapshot) {
    note(format_args!(
        "{:>6.1} s: {} open, {} failed, {} sent ({:.0}/s), {} replies ({:.0}/s), p50 {:.3} ms, p99 {:.3} ms",
        s.elapsed.as_secs_f64(),
        s.open,
        s.failed,
        s.sent,
        s.sent_per_s,
        s.replies,
        s.replies_per_s,
        s.p50_ms,
        s.p99_ms
    ));
}

/// The report on stdout, and as JSON in the report file.
fn output(report: &Report, format: ReportFormat, file: Option<&Path>) -> Result<(), CliError> {
    use std::io::Write;
    let text = match format {
        ReportFormat::Text => report.to_string(),
        ReportFormat::Json => report.to_json() + "\n",
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(CliError::Stdout)?;
    if let Some(path) = file {
        std::fs::write(path, report.to_json() + "\n").map_err(|error| {
            CliError::LoadFailed(format!("--report-file {}: cannot write it: {error}", path.display()))
        })?;
    }
    Ok(())
}

fn merge(args: &MergeArgs) -> Result<ExitCode, CliError> {
    let mut reports = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text = std::fs::read_to_string(path)
            .map_err(|error| CliError::LoadFailed(format!("{}: cannot read it: {error}", path.display())))?;
        let report =
            Report::from_json(&text).map_err(|error| CliError::Usage(format!("{}: {error}", path.display())))?;
        reports.push(report);
    }
    let merged = Report::merge(&reports).map_err(|error| CliError::Usage(error.to_string()))?;
    output(&merged, args.report, args.report_file.as_deref())?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Launch;

    fn launched(args: &[&str]) -> LoadForm {
        let mut all = vec!["load"];
        all.extend_from_slice(args);
        let launches =
            crate::cli::gui_sessions(all.into_iter().map(Into::into).collect()).expect("the window takes it");
        match launches.as_slice() {
            [Launch::Load(form)] => LoadForm::clone(form),
            other => panic!("{args:?}: {other:?}"),
        }
    }

    /// `wirepad gui load …` fills the form so that Start runs what `wirepad load …` would run.
    #[test]
    fn the_window_form_gives_back_the_command_lines_arguments() {
        let cases: &[&[&str]] = &[
            &["tcp", "127.0.0.1:7", "-s", "x"],
            &[
                "tcp",
                "[::1]:7",
                "-c",
                "3",
                "--connect-rate",
                "0.5",
                "--rate",
                "12.25",
                "--duration",
                "1.5",
                "--timeout",
                "250",
                "-s",
                "ping {seq}",
                "--append",
                "crlf",
                "--frame",
                "delim:0D0A",
            ],
            &[
                "udp",
                "localhost:9",
                "--total-rate",
                "1000",
                "--count",
                "7",
                "--send-hex",
                "01 02",
            ],
            &[
                "tcp",
                "127.0.0.1:7",
                "-e",
                "GBK",
                "--checksum",
                "crc16-modbus",
                "--in-flight",
                "4",
                "-s",
                "你好 {seq}",
            ],
            &["udp", "127.0.0.1:9", "--send-file", "/tmp/message.bin"],
        ];
        for args in cases {
            let form = launched(args);
            let mut all = vec!["wirepad", "load"];
            all.extend_from_slice(args);
            let Some(crate::cli::CliCommand::Load(command)) = <crate::cli::Cli as clap::Parser>::try_parse_from(&all)
                .expect("valid")
                .command
            else {
                panic!("{args:?}: not a load");
            };
            let (protocol, mut expected) = match *command {
                LoadCommand::Tcp(args) => (Protocol::Tcp, args),
                LoadCommand::Udp(args) => (Protocol::Udp, args),
                LoadCommand::Merge(_) => unreachable!("no merge here"),
            };
            // The window shows the report; it asks for JSON only to export it. Defaults come back spelled out.
            expected.report = ReportFormat::Json;
            expected.rate = expected.rate.or(Some(0.0)).filter(|_| expected.total_rate.is_none());
            expected.append = expected
                .append
                .or(Some(LineEnding::None))
                .filter(|_| expected.send_file.is_none());
            let encoding = TextEncoding::from_name(expected.encoding.as_deref().unwrap_or("utf-8")).expect("known");
            expected.encoding = Some(encoding.name().into());
            assert_eq!(form_args(&form), Ok((protocol, expected)), "{args:?}");
        }
    }
}
