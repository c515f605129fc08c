//! The report at the end of a load run: JSON (contract, docs/cli.md), text, and the merge of several.
use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

use super::stats::{Stats, new_histogram};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub target: String,
    pub protocol: String,
    pub connections: Connections,
    pub messages: Messages,
    pub bytes: Bytes,
    pub latency_ms: Percentiles,
    pub connect_ms: Percentiles,
    pub duration_s: f64,
    pub schedule_slip_ms: f64,
    pub udp: Udp,
    /// HdrHistogram V2 (base64) of the reply latencies in µs: what `load merge` adds up.
    pub histogram: String,
    /// The same of the connect times.
    #[serde(default)]
    pub connect_histogram: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    pub attempted: u64,
    pub established: u64,
    pub failed: BTreeMap<String, u64>,
    /// Seconds from the start until the last connection opened.
    #[serde(default)]
    pub all_open_s: f64,
    /// Established connections lost before the end, by reason.
    #[serde(default)]
    pub dropped: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Messages {
    pub sent: u64,
    pub replies: u64,
    pub timeouts: u64,
    #[serde(default)]
    pub unexpected: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bytes {
    pub sent: u64,
    pub received: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Udp {
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
}

/// Why reports could not be read or merged.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("not a load report: {0}")]
    Json(#[from] serde_json::Error),
    #[error("its histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("its histogram does not decode: {0:?}")]
    Histogram(hdrhistogram::serialization::DeserializeError),
    #[error("nothing to merge")]
    Empty,
}

impl Percentiles {
    fn of(histogram: &Histogram<u64>) -> Percentiles {
        let ms = |us: u64| us as f64 / 1000.0;
        if histogram.is_empty() {
            return Percentiles {
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
            };
        }
        Percentiles {
            p50: ms(histogram.value_at_quantile(0.5)),
            p90: ms(histogram.value_at_quantile(0.9)),
            p99: ms(histogram.value_at_quantile(0.99)),
            p999: ms(histogram.value_at_quantile(0.999)),
            max: ms(histogram.max()),
        }
    }
}

fn by_name(counts: &BTreeMap<super::stats::Reason, u64>) -> BTreeMap<String, u64> {
    counts
        .iter()
        .map(|(reason, n)| (reason.name().to_owned(), *n))
        .collect()
}

fn encode(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail for want of room; an error would leave the field empty, which merge refuses.
    let _ = V2Serializer::new().serialize(histogram, &mut bytes);
    BASE64.encode(bytes)
}

fn decode(text: &str) -> Result<Histogram<u64>, ReportError> {
    if text.is_empty() {
        return Ok(new_histogram());
    }
    let bytes = BASE64.decode(text)?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(ReportError::Histogram)
}

impl Report {
    pub fn new(target: String, protocol: &str, stats: &Stats, duration: std::time::Duration) -> Report {
        Report {
            target,
            protocol: protocol.to_owned(),
            connections: Connections {
                attempted: stats.attempted,
                established: stats.established,
                failed: by_name(&stats.failed),
                all_open_s: stats.all_open.as_secs_f64(),
                dropped: by_name(&stats.dropped),
            },
            messages: Messages {
                sent: stats.sent,
                replies: stats.replies,
                timeouts: stats.timeouts,
                unexpected: stats.unexpected,
            },
            bytes: Bytes {
                sent: stats.bytes_sent,
                received: stats.bytes_received,
            },
            latency_ms: Percentiles::of(&stats.latency),
            connect_ms: Percentiles::of(&stats.connect),
            duration_s: duration.as_secs_f64(),
            schedule_slip_ms: stats.slip.as_secs_f64() * 1000.0,
            udp: Udp {
                lost: stats.lost,
                duplicated: stats.duplicated,
                reordered: stats.reordered,
            },
            histogram: encode(&stats.latency),
            connect_histogram: encode(&stats.connect),
        }
    }

    pub fn from_json(text: &str) -> Result<Report, ReportError> {
        let report: Report = serde_json::from_str(text)?;
        decode(&report.histogram)?;
        decode(&report.connect_histogram)?;
        Ok(report)
    }

    /// One row per metric (`metric,value`), the same numbers as the JSON without its histograms.
    pub fn to_csv(&self) -> String {
        let mut rows: Vec<(String, String)> = vec![
            ("target".into(), self.target.clone()),
            ("protocol".into(), self.protocol.clone()),
            ("duration_s".into(), self.duration_s.to_string()),
            ("connections.attempted".into(), self.connections.attempted.to_string()),
            (
                "connections.established".into(),
                self.connections.established.to_string(),
            ),
            ("connections.all_open_s".into(), self.connections.all_open_s.to_string()),
            ("messages.sent".into(), self.messages.sent.to_string()),
            ("messages.replies".into(), self.messages.replies.to_string()),
            ("messages.timeouts".into(), self.messages.timeouts.to_string()),
            ("messages.unexpected".into(), self.messages.unexpected.to_string()),
            ("bytes.sent".into(), self.bytes.sent.to_string()),
            ("bytes.received".into(), self.bytes.received.to_string()),
            ("schedule_slip_ms".into(), self.schedule_slip_ms.to_string()),
            ("udp.lost".into(), self.udp.lost.to_string()),
            ("udp.duplicated".into(), self.udp.duplicated.to_string()),
            ("udp.reordered".into(), self.udp.reordered.to_string()),
        ];
        for (name, p) in [("latency_ms", &self.latency_ms), ("connect_ms", &self.connect_ms)] {
            for (which, value) in [
                ("p50", p.p50),
                ("p90", p.p90),
                ("p99", p.p99),
                ("p999", p.p999),
                ("max", p.max),
            ] {
                rows.push((format!("{name}.{which}"), value.to_string()));
            }
        }
        for (kind, reasons) in [
            ("failed", &self.connections.failed),
            ("dropped", &self.connections.dropped),
        ] {
            rows.extend(
                reasons
                    .iter()
                    .map(|(why, n)| (format!("connections.{kind}.{why}"), n.to_string())),
            );
        }
        let mut out = String::from("metric,value\n");
        for (metric, value) in rows {
            // A target is the only field that could hold a comma or quote (a host name does not, but be safe).
            let value = match value.contains([',', '"']) {
                true => format!("\"{}\"", value.replace('"', "\"\"")),
                false => value,
            };
            out.push_str(&format!("{metric},{value}\n"));
        }
        out
    }

    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and string-keyed maps always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// One report from several: counts add up, histograms merge exactly, the duration is the longest.
    pub fn merge(reports: &[Report]) -> Result<Report, ReportError> {
        let first = reports.first().ok_or(ReportError::Empty)?;
        let mut merged = first.clone();
        let mut latency = decode(&first.histogram)?;
        let mut connect = decode(&first.connect_histogram)?;
        latency.auto(true);
        connect.auto(true);
        for report in &reports[1..] {
            // With auto-resize on, adding cannot run out of range.
            let _ = latency.add(decode(&report.histogram)?);
            let _ = connect.add(decode(&report.connect_histogram)?);
            merged.add_counts(report);
        }
        merged.latency_ms = Percentiles::of(&latency);
        merged.connect_ms = Percentiles::of(&connect);
        merged.histogram = encode(&latency);
        merged.connect_histogram = encode(&connect);
        Ok(merged)
    }

    fn add_counts(&mut self, other: &Report) {
        let add_map = |into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>| {
            for (reason, n) in from {
                let sum = into.entry(reason.clone()).or_default();
                *sum = sum.saturating_add(*n);
            }
        };
        let c = &mut self.connections;
        c.attempted = c.attempted.saturating_add(other.connections.attempted);
        c.established = c.established.saturating_add(other.connections.established);
        c.all_open_s = c.all_open_s.max(other.connections.all_open_s);
        add_map(&mut c.failed, &other.connections.failed);
        add_map(&mut c.dropped, &other.connections.dropped);
        let m = &mut self.messages;
        m.sent = m.sent.saturating_add(other.messages.sent);
        m.replies = m.replies.saturating_add(other.messages.replies);
        m.timeouts = m.timeouts.saturating_add(other.messages.timeouts);
        m.unexpected = m.unexpected.saturating_add(other.messages.unexpected);
        self.bytes.sent = self.bytes.sent.saturating_add(other.bytes.sent);
        self.bytes.received = self.bytes.received.saturating_add(other.bytes.received);
        self.udp.lost = self.udp.lost.saturating_add(other.udp.lost);
        self.udp.duplicated = self.udp.duplicated.saturating_add(other.udp.duplicated);
        self.udp.reordered = self.udp.reordered.saturating_add(other.udp.reordered);
        self.duration_s = self.duration_s.max(other.duration_s);
        self.schedule_slip_ms = self.schedule_slip_ms.max(other.schedule_slip_ms);
        if self.target != other.target {
            self.target = format!("{}, {}", self.target, other.target);
        }
    }
}

/// Per second over the run, 0 for a run of no length.
fn per_second(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

fn reasons(counts: &BTreeMap<String, u64>) -> String {
    let list: Vec<String> = counts.iter().map(|(reason, n)| format!("{reason} {n}")).collect();
    if list.is_empty() {
        String::new()
    } else {
        format!(" ({})", list.join(", "))
    }
}

impl fmt::Display for Percentiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            self.p50, self.p90, self.p99, self.p999, self.max
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (c, m, secs) = (&self.connections, &self.messages, self.duration_s);
        let failed: u64 = c.failed.values().sum();
        let dropped: u64 = c.dropped.values().sum();
        writeln!(f, "load {} {}: {secs:.3} s", self.protocol, self.target)?;
        writeln!(
            f,
            "connections: {} attempted, {} established (all by {:.3} s), {failed} failed{}, {dropped} lost{}",
            c.attempted,
            c.established,
            c.all_open_s,
            reasons(&c.failed),
            reasons(&c.dropped)
        )?;
        writeln!(
            f,
            "messages:    {} sent ({:.1}/s), {} replies ({:.1}/s), {} timeouts, {} unexpected",
            m.sent,
            per_second(m.sent, secs),
            m.replies,
            per_second(m.replies, secs),
            m.timeouts,
            m.unexpected
        )?;
        writeln!(
            f,
            "bytes:       {} sent, {} received",
            self.bytes.sent, self.bytes.received
        )?;
        writeln!(f, "latency ms:  {}", self.latency_ms)?;
        writeln!(f, "connect ms:  {}", self.connect_ms)?;
        writeln!(f, "schedule:    at most {:.3} ms behind", self.schedule_slip_ms)?;
        if self.protocol == "udp" {
            let udp = &self.udp;
            writeln!(
                f,
                "udp:         {} lost, {} duplicated, {} reordered",
                udp.lost, udp.duplicated, udp.reordered
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stats(latencies_ms: &[u64]) -> Stats {
        let mut stats = Stats::new();
        stats.attempted = 1;
        stats.established = 1;
        for &ms in latencies_ms {
            stats.reply(Duration::from_millis(ms));
        }
        stats
    }

    fn report(latencies_ms: &[u64], sent: u64) -> Report {
        let stats = Stats {
            sent,
            ..stats(latencies_ms)
        };
        Report::new("127.0.0.1:9".into(), "tcp", &stats, Duration::from_secs(2))
    }

    #[test]
    fn json_round_trips() {
        let one = report(&[1, 2, 3], 3);
        let back = Report::from_json(&one.to_json()).expect("reads back");
        assert_eq!(back, one);
        // Milliseconds from a Duration need all 17 digits (a 98.023 µs slip), and read back as written.
        let slipped = Report {
            schedule_slip_ms: Duration::from_nanos(98_023).as_secs_f64() * 1000.0,
            ..one.clone()
        };
        assert_eq!(Report::from_json(&slipped.to_json()).expect("reads back"), slipped);
        for key in [
            "\"connections\"",
            "\"attempted\"",
            "\"p999\"",
            "\"schedule_slip_ms\"",
            "\"histogram\"",
        ] {
            assert!(one.to_json().contains(key), "{key}");
        }
    }

    #[test]
    fn csv_has_a_row_per_metric_and_the_histogram_buckets_count_every_reply() {
        let mut one = report(&[1, 2, 40], 3);
        one.connections.failed.insert("refused".into(), 2);
        one.target = "a,\"b".into();
        let csv = one.to_csv();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows[0], "metric,value");
        for row in [
            "target,\"a,\"\"b\"",
            "messages.sent,3",
            "messages.replies,3",
            "connections.failed.refused,2",
        ] {
            assert!(rows.contains(&row), "{row} in {csv}");
        }
        let buckets = stats(&[1, 2, 40]).latency_buckets();
        assert_eq!(buckets.iter().map(|(_, n)| n).sum::<u64>(), 3);
        let forty = buckets
            .iter()
            .find(|(upper, n)| *n == 1 && *upper >= 40.0)
            .expect("a bucket holding 40 ms");
        assert!(forty.0 < 82.0, "{buckets:?}");
    }

    #[test]
    fn merging_adds_counts_and_histograms_exactly() {
        let all: Vec<u64> = (1..=200).collect();
        let (low, high) = all.split_at(100);
        let merged = Report::merge(&[report(low, 100), report(high, 100)]).expect("merges");
        let whole = report(&all, 200);
        assert_eq!(merged.messages, whole.messages);
        assert_eq!(merged.latency_ms, whole.latency_ms);
        assert_eq!(merged.connections.attempted, 2);
        assert!(
            merged.latency_ms.p50 >= 99.0 && merged.latency_ms.p50 <= 101.0,
            "{:?}",
            merged.latency_ms
        );
    }

    #[test]
    fn bad_reports_are_refused() {
        assert!(Report::from_json("{}").is_err());
        let mut bad = report(&[1], 1);
        bad.histogram = "not base64!".into();
        assert!(matches!(Report::from_json(&bad.to_json()), Err(ReportError::Base64(_))));
        bad.histogram = BASE64.encode(b"nope");
        assert!(matches!(
            Report::from_json(&bad.to_json()),
            Err(ReportError::Histogram(_))
        ));
        assert!(matches!(Report::merge(&[]), Err(ReportError::Empty)));
    }
}
