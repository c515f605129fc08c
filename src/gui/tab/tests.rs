//! Tab logic that needs neither a window nor a socket: the title, the counters, which errors show, the send box.
use std::sync::Arc;

use crate::gui::i18n::{Lang, Notice};
use crate::net::{CounterSnapshot, Kind, NetError, Nobody, RemoteUse};
use crate::settings::TabConfig;

use super::{Tab, TabAction, TabId, Totals, share_history};

fn tab(config: TabConfig) -> Tab {
    // The receiver goes: what background work would report is not looked at here.
    let (picked, _) = crossbeam_channel::unbounded();
    Tab::new(TabId(1), config, picked, egui::Context::default())
}

fn counts(rx_bytes: u64, dropped_from_view: u64) -> CounterSnapshot {
    CounterSnapshot {
        rx_bytes,
        dropped_from_view,
        ..CounterSnapshot::default()
    }
}

#[test]
fn an_unnamed_closed_tab_is_titled_by_its_kind_and_the_port_it_will_use() {
    for &kind in Kind::ALL {
        let mut config = TabConfig {
            mode: kind,
            remote_port: "9000".into(),
            ..TabConfig::default()
        };
        *config.local_port_mut() = "7000".into();
        // A client's own port is the system's choice: the remote one says more.
        let port = if kind.caps().remote == RemoteUse::Required {
            "9000"
        } else {
            "7000"
        };
        assert_eq!(
            tab(config).title(Lang::En),
            format!("{} {port}", Lang::En.kind_name(kind))
        );
    }
}

/// Issue 22.11: a port that is not one (70000, a remote 0, "x") is left out of the title, not shown.
#[test]
fn an_invalid_port_is_left_out_of_the_title() {
    for &kind in Kind::ALL {
        for bad in ["70000", "x", ""] {
            let mut config = TabConfig {
                mode: kind,
                remote_port: bad.into(),
                ..TabConfig::default()
            };
            *config.local_port_mut() = bad.into();
            assert_eq!(tab(config).title(Lang::En), Lang::En.kind_name(kind), "{bad:?}");
        }
    }
    let client = TabConfig {
        mode: Kind::TcpClient,
        remote_port: "0".into(),
        ..TabConfig::default()
    };
    assert_eq!(tab(client).title(Lang::En), Lang::En.kind_name(Kind::TcpClient));
}

#[test]
fn a_named_tab_is_titled_by_its_trimmed_name_marked_while_it_holds_unseen_data() {
    let mut tab = tab(TabConfig {
        name: "  bench ".into(),
        ..TabConfig::default()
    });
    assert_eq!(tab.title(Lang::Zh), "bench");
    tab.state.unseen = true;
    assert_eq!(tab.title(Lang::Zh), "bench ◆");
}

#[test]
fn totals_add_up_every_session_since_reset_and_the_history_drops() {
    let mut totals = Totals {
        current: counts(10, 1),
        log_dropped: 100,
        ..Totals::default()
    };
    totals.close_session();
    totals.current = counts(5, 2);
    totals.close_session();
    totals.current = counts(1, 0);
    assert_eq!(totals.rx_bytes(), 16);
    assert_eq!(totals.dropped_from_view(), 103);
}

#[test]
fn reset_starts_the_counts_from_zero_history_drops_included() {
    let mut tab = tab(TabConfig::default());
    tab.state.totals.current = counts(10, 1);
    tab.apply(TabAction::ResetCounters);
    tab.update_counters();
    assert_eq!(tab.state.totals().rx_bytes(), 0);
    assert_eq!(tab.state.totals().dropped_from_view(), 0);
}

#[test]
fn a_network_error_shows_only_while_the_fields_are_the_ones_that_made_it() {
    let mut tab = tab(TabConfig {
        mode: Kind::TcpClient,
        ..TabConfig::default()
    });
    let made_it = tab.config.clone();
    let error = Arc::new(NetError::NoPeer(Nobody::NotConnected));
    tab.attempt_failed(error.clone());
    let shown = Lang::En.notice(&Notice::Net(error));
    assert_eq!(tab.state.error(&made_it, Lang::En), Some(shown));
    for &other in Kind::ALL.iter().filter(|&&kind| kind != made_it.mode) {
        let config = TabConfig {
            mode: other,
            ..made_it.clone()
        };
        assert_eq!(tab.state.error(&config, Lang::En), None, "{other:?}");
    }
    // Issue 22.11: an edited port (or address) hides the error about the old one.
    let mut edited = made_it.clone();
    edited.remote_port = "9".into();
    assert_eq!(tab.state.error(&edited, Lang::En), None, "remote port");
    let mut edited = made_it;
    *edited.local_port_mut() = "7".into();
    assert_eq!(tab.state.error(&edited, Lang::En), None, "local port");
}

#[test]
fn a_send_on_a_closed_tab_says_it_is_not_open_until_the_box_is_cleared() {
    let mut tab = tab(TabConfig::default());
    let send = TabAction::Send {
        text: "hi".into(),
        hex: false,
    };
    tab.apply(send);
    let not_open = Lang::En.notice(&Notice::Net(Arc::new(NetError::NoPeer(Nobody::NotOpen))));
    assert_eq!(tab.state.send_error(Lang::En), Some(not_open));
    tab.apply(TabAction::ClearSendBox);
    assert_eq!(tab.state.send_error(Lang::En), None);
}

#[test]
fn the_send_box_converts_between_text_and_hex_and_keeps_what_cannot_be_converted() {
    let mut tab = tab(TabConfig::default());
    tab.config.send.text = "AB".into();
    tab.apply(TabAction::SetSendHex(true));
    assert!(tab.config.send.hex);
    assert_eq!(tab.config.send.text.split_whitespace().collect::<String>(), "4142");
    tab.apply(TabAction::SetSendHex(false));
    assert_eq!((tab.config.send.hex, tab.config.send.text.as_str()), (false, "AB"));

    tab.config.send = crate::settings::SendSettings {
        hex: true,
        text: "zz".into(),
        ..tab.config.send.clone()
    };
    tab.apply(TabAction::SetSendHex(false));
    assert_eq!((tab.config.send.hex, tab.config.send.text.as_str()), (true, "zz"));
    assert!(tab.state.send_error(Lang::En).is_some());
}

#[test]
fn a_new_pane_width_waits_to_settle_before_the_history_is_rewrapped() {
    let mut tab = tab(TabConfig::default());
    assert_eq!(tab.settled_columns(80), 80, "the first width is taken at once");
    assert_eq!(tab.settled_columns(100), 80, "a new one waits");
    assert_eq!(tab.settled_columns(100), 80, "still waiting");
    assert_eq!(tab.settled_columns(80), 80);
    assert_eq!(
        tab.state.pending_columns, None,
        "back to the width in force: nothing waits"
    );
}

/// Issue 22.12: a storm of short connections (join, one line, leave) keeps the tab's per-peer state bounded: no
/// client stays listed, the filter keeps the last peers only, and the view carries text for few streams.
#[test]
fn a_storm_of_short_connections_keeps_per_peer_state_bounded() {
    use std::net::SocketAddr;
    use std::time::SystemTime;

    use crate::net::{Counters, Event, EventKind, LeaveReason, tcp_server};
    use crate::session::state::SessionState;

    use super::peers::PEERS_KEPT;

    let mut tab = tab(TabConfig::default());
    let mode = crate::net::Mode::TcpServer(tcp_server::Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        max_clients: None,
        tls: None,
    });
    tab.state.live = Some(SessionState::new(&mode));
    let event = |kind| Event {
        at: SystemTime::now(),
        kind,
    };
    for n in 0..20_000u32 {
        let peer = SocketAddr::from(([127, 0, (n >> 8) as u8, n as u8], 40_000));
        tab.handle(
            event(EventKind::PeerJoined {
                peer,
                counters: Arc::new(Counters::default()),
            }),
            true,
        );
        // Every other client leaves in the middle of a character ("你" is E4 BD A0).
        let line = if n % 2 == 0 {
            &b"one line\n"[..]
        } else {
            &b"cut \xe4\xbd"[..]
        };
        tab.handle(
            event(EventKind::Received {
                peer,
                bytes: line.to_vec(),
            }),
            true,
        );
        tab.handle(
            event(EventKind::PeerLeft {
                peer,
                reason: LeaveReason::Closed,
            }),
            true,
        );
        tab.state.view.append(&tab.state.log);
    }
    assert_eq!(tab.state.client_count(), 0);
    assert!(
        tab.state.recent_peers() <= 2 * PEERS_KEPT,
        "{}",
        tab.state.recent_peers()
    );
    assert!(tab.state.filter_peers().len() <= 2 * PEERS_KEPT);
    assert!(
        tab.state.view.carried_streams() <= 4096,
        "{} streams carried",
        tab.state.view.carried_streams()
    );
    assert_eq!(
        tab.state.log.len(),
        3 * 20_000,
        "the history itself keeps them all, each client's data and its two notes (within its budget)"
    );
}

/// Issue 22.10: tabs fed more than the window's history budget in all hold no more than it together, each
/// counting what it dropped; a tab on show gets more than a hidden one as busy.
#[test]
fn tabs_share_one_history_budget_and_count_what_they_drop() {
    use crate::history::{CHUNK_OVERHEAD, Direction};
    use std::time::{Instant, SystemTime};
    const BUDGET: usize = 4 << 20;
    const PIECE: usize = 64 << 10;
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 5000));
    let mut tabs: Vec<Tab> = (0..4).map(|_| tab(TabConfig::default())).collect();
    let held = |tab: &Tab| tab.state.log.bytes() + tab.state.log.len() * CHUNK_OVERHEAD;
    for _ in 0..48 {
        tabs[0].state.activity.shown = Some(Instant::now());
        share_history(tabs.iter_mut(), BUDGET);
        for tab in &mut tabs {
            tab.record(SystemTime::now(), peer, Direction::Rx, vec![b'x'; PIECE]);
        }
        let all: usize = tabs.iter().map(held).sum();
        assert!(all <= BUDGET, "{all} held in all");
    }
    for tab in &tabs {
        let log = &tab.state.log;
        assert!(log.dropped_bytes() > 0);
        assert_eq!(log.bytes() as u64 + log.dropped_bytes(), 48 * PIECE as u64);
    }
    assert!(
        tabs[0].state.log.bytes() > tabs[1].state.log.bytes(),
        "the tab on show holds more"
    );
    // A lone idle tab takes a burst of many MiB within one frame, before it counts as busy.
    let mut lone = tab(TabConfig::default());
    share_history(std::iter::once(&mut lone), 256 << 20);
    for _ in 0..256 {
        lone.record(SystemTime::now(), peer, Direction::Rx, vec![b'x'; PIECE]);
    }
    assert_eq!(lone.state.log.dropped_bytes(), 0);
}

/// Issue 22.3: a search starts over what the view has laid out so far, not once the view has caught up (under
/// inflow and load that kept the first match back for seconds).
#[test]
fn find_searches_a_view_still_being_laid_out() {
    use crate::history::Direction;
    use std::time::{Duration, SystemTime};
    let (picked, found) = crossbeam_channel::unbounded();
    let mut config = TabConfig::default();
    config.find.text = "needle".into();
    let mut tab = Tab::new(TabId(1), config, picked, egui::Context::default());
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 5000));
    let mut read = b"needle\n".to_vec();
    read.resize(16 << 10, b'x');
    for _ in 0..2048 {
        tab.record(SystemTime::now(), peer, Direction::Rx, read.clone());
    }
    tab.state.view.append(&tab.state.log);
    assert!(tab.state.view.catching_up(), "32 MiB take the view more than one frame");
    tab.state.find.open();
    tab.update_find();
    let first = found.recv_timeout(Duration::from_secs(10));
    assert!(
        matches!(first, Ok(super::Picked::Found(_, _, batch)) if !batch.matches.is_empty()),
        "a first match from what the view holds"
    );
}
