//! A relay tab between a real client and a real upstream on loopback, driven through its labels: the pairs table,
//! both ways in the view with their arrows, sends to either side of a pair, kick, and the rules' relay columns.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use wirepad::automation::rules::{Direction, RuleSpec};
use wirepad::automation::script::ScriptSpec;
use wirepad::codec::text::TextEncoding;
use wirepad::gui::WirepadApp;
use wirepad::net::Kind;
use wirepad::session::pairs::PairState;
use wirepad::settings::{AutoPanel, TabConfig};

use crate::support::{accept_within, read_exactly, stays_silent};
use crate::ui::{connect, open_server, relay_to, settings, step_until, window};

/// Picks `choice` in the combo box labelled `combo`.
fn choose(harness: &mut Harness<'static, WirepadApp>, combo: &str, choice: &str) {
    harness.get_by_role_and_label(Role::ComboBox, combo).click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, choice).click();
    harness.run_steps(2);
}

/// Types `text` into the send box and clicks Send.
fn send(harness: &mut Harness<'static, WirepadApp>, text: &str) {
    harness.get_by_label("Send box").set_text_value_accesskit(text);
    harness.step();
    harness.get_by_label("Send").click();
    harness.run_steps(2);
}

#[test]
fn a_relay_tab_shows_its_pair_both_ways_injects_on_either_side_and_kicks_it() {
    let upstream = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
    let mut harness = window(relay_to(upstream.local_addr().expect("upstream address")));
    let relay = open_server(&mut harness);
    let mut client = TcpStream::connect(relay).expect("connect to the relay");
    let client_addr = client.local_addr().expect("client address");
    let (mut server, via) = accept_within(&upstream);
    step_until(&mut harness, "the pair in the table", |h| {
        let open =
            h.state().tab().state.pairs().iter().any(|pair| {
                pair.client == client_addr && pair.via == Some(via) && matches!(pair.state, PairState::Open)
            });
        open && h.query_by_label(&client_addr.to_string()).is_some() && h.query_by_label(&via.to_string()).is_some()
    });

    client.write_all(b"ping\n").expect("client sends");
    assert_eq!(read_exactly(&mut server, 5), b"ping\n");
    server.write_all(b"pong\n").expect("server answers");
    assert_eq!(read_exactly(&mut client, 5), b"pong\n");
    let (to_upstream, to_client) = (format!("C → U {client_addr}"), format!("U → C {client_addr}"));
    step_until(&mut harness, "both ways in the view, each with its arrow", |h| {
        h.query_by_label_contains(&to_upstream).is_some()
            && h.query_by_label_contains(&to_client).is_some()
            && h.query_by_label("ping").is_some()
            && h.query_by_label("pong").is_some()
            && h.query_by_label("C → U: 5 B").is_some()
            && h.query_by_label("U → C: 5 B").is_some()
    });

    // Only what went towards the client.
    choose(&mut harness, "Way", "U → C");
    step_until(&mut harness, "the view to show one way", |h| {
        h.query_by_label("pong").is_some() && h.query_by_label("ping").is_none()
    });
    choose(&mut harness, "Way", "Both ways");

    choose(&mut harness, "Side", "Upstream side");
    send(&mut harness, "to-upstream");
    assert_eq!(read_exactly(&mut server, 11), b"to-upstream");
    choose(&mut harness, "Side", "Client side");
    send(&mut harness, "to-client");
    assert_eq!(read_exactly(&mut client, 9), b"to-client");
    step_until(&mut harness, "the injections in the view", |h| {
        h.query_by_label_contains(&format!("TX → U {client_addr}")).is_some()
            && h.query_by_label_contains(&format!("TX → C {client_addr}")).is_some()
    });
    assert!(
        stays_silent(&mut server, Duration::from_millis(200)),
        "the client side's send went only to the client"
    );

    // The conversation as a script that plays the client's part: its bytes sent, the server's expected.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pair.toml");
    harness
        .state_mut()
        .set_file_dialogs(std::sync::Arc::new(crate::export::Answer(path.clone())));
    harness.get_by_label("Save as script").click();
    let saved = format!("Saved to {}", path.display());
    step_until(&mut harness, "the script to be saved", |h| {
        h.state().notice().is_some_and(|notice| notice == saved)
    });
    let text = std::fs::read_to_string(&path).expect("the script file");
    let script = ScriptSpec::parse(&text, TextEncoding::UTF8).expect("a valid script");
    let steps: Vec<(Option<&str>, Option<&str>)> = script
        .steps
        .iter()
        .map(|step| (step.send.as_deref(), step.expect.as_deref()))
        .collect();
    assert_eq!(steps, [(Some("ping\\n"), None), (None, Some("pong\\n"))], "{text}");

    harness.get_by_label("Kick").click();
    harness.run_steps(2);
    step_until(&mut harness, "the pair to end, kicked", |h| {
        let pairs = h.state().tab().state.pairs();
        pairs.open_count() == 0 && h.query_by_label("kicked").is_some()
    });
    for (side, stream) in [("client", &mut client), ("upstream", &mut server)] {
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut rest = Vec::new();
        assert!(
            stream.read_to_end(&mut rest).is_ok_and(|_| rest.is_empty()),
            "the {side} side is closed"
        );
    }
}

#[test]
fn a_relay_rule_is_refused_in_a_server_tab_and_its_columns_show_only_in_a_relay() {
    let rule = RuleSpec {
        enabled: true,
        match_text: Some("ping".into()),
        reply: Some("pong".into()),
        direction: Direction::ToUpstream,
        ..RuleSpec::default()
    };
    let mut harness = window(TabConfig {
        automation: Some(AutoPanel::Rules),
        ..settings()
    });
    // As an import or a tab switched from a relay would leave it.
    harness.state_mut().tab_mut().config.rules = vec![rule];
    let server = open_server(&mut harness);
    step_until(&mut harness, "the refusal, said", |h| {
        // On the table's message line, naming its rule and key.
        h.query_by_label_contains(
            "rule 1: `direction`: a direction or an action other than reply applies only in a relay",
        )
        .is_some()
    });
    assert!(
        harness.query_by_label("Direction").is_none(),
        "no relay columns in a server tab"
    );
    let (mut client, _) = connect(&mut harness, server);
    client.write_all(b"ping").expect("send");
    assert!(
        stays_silent(&mut client, Duration::from_millis(300)),
        "the refused rule does not answer"
    );

    harness.state_mut().tab_mut().config.mode = Kind::Relay;
    harness.run_steps(3);
    assert!(
        harness.query_by_label("Direction").is_some(),
        "a relay's rules have a direction"
    );
    assert!(harness.query_by_label_contains("applies only in a relay").is_none());
}

/// A relay window `width` px wide whose upstream refuses, with one client whose pair ended with that error.
/// Also the client's address, as its row shows it.
fn a_refused_pair_at(width: f32) -> (Harness<'static, WirepadApp>, String) {
    let refusing = TcpListener::bind("127.0.0.1:0").expect("bind");
    let upstream = refusing.local_addr().expect("address");
    drop(refusing);
    let mut harness = window(relay_to(upstream));
    harness.set_size(egui::vec2(width, 720.0));
    let relay = open_server(&mut harness);
    let client = TcpStream::connect(relay).expect("connect to the relay");
    let client_addr = client.local_addr().expect("client address");
    step_until(&mut harness, "the pair to end with an error", |h| {
        h.state()
            .tab()
            .state
            .pairs()
            .iter()
            .any(|pair| pair.client == client_addr && matches!(pair.state, PairState::Ended { error: Some(_), .. }))
            && h.query_by_label(&client_addr.to_string()).is_some()
    });
    harness.run_steps(2);
    (harness, client_addr.to_string())
}

/// The right end of the pairs table's pane: where the side panel (its quick commands) starts.
fn pane_edge(harness: &Harness<'static, WirepadApp>) -> f32 {
    harness.get_by_label("Quick commands").rect().min.x
}

/// The refused pair's reason in its row (the view says it too, further down): its rect and text.
/// (A label keeps its text in its accesskit value.)
fn reason(harness: &Harness<'static, WirepadApp>, client: &str) -> (egui::Rect, String) {
    let row = harness.get_by_label(client).rect().center().y;
    harness
        .query_all_by_label_contains("refused")
        .map(|node| (node.rect(), node.accesskit_node().value().unwrap_or_default()))
        .find(|(rect, _)| (rect.center().y - row).abs() < 4.0)
        .expect("the reason in the pair's row")
}

fn reason_rect(harness: &Harness<'static, WirepadApp>, client: &str) -> egui::Rect {
    reason(harness, client).0
}

/// Issue 23: at the window's default width the pairs table shows its buttons and the reason (cut, whole on hover).
#[test]
fn the_pairs_table_fits_at_1100_px_with_its_buttons_and_reason() {
    let (harness, client) = a_refused_pair_at(1100.0);
    let edge = pane_edge(&harness);
    let save = harness.get_by_label("Save as script").rect();
    assert!(
        save.max.x <= edge,
        "Save as script at {save:?}, the pane ends at {edge}"
    );
    let (reason, text) = reason(&harness, &client);
    // The row names its client; the reason starts with what failed.
    assert!(text.starts_with("cannot connect to"), "{text}");
    assert!(
        reason.width() >= 40.0 && reason.max.x <= edge,
        "the reason at {reason:?}, the pane ends at {edge}"
    );
}

/// Issue 23: in a narrower window the mouse wheel scrolls the pairs table sideways to its reason.
#[test]
fn the_wheel_scrolls_a_narrow_pairs_table_sideways() {
    let (mut harness, client) = a_refused_pair_at(960.0);
    let in_sight = |h: &Harness<'static, WirepadApp>| reason_rect(h, &client).max.x <= pane_edge(h);
    assert!(!in_sight(&harness), "the table is wider than its pane at 960 px");
    let over_table = harness.get_by_label("Save as script").rect().center();
    for _ in 0..20 {
        if in_sight(&harness) {
            break;
        }
        harness.hover_at(over_table);
        harness.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -120.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        harness.run_steps(3);
    }
    assert!(
        in_sight(&harness),
        "the reason at {:?}, the pane ends at {}",
        reason_rect(&harness, &client),
        pane_edge(&harness)
    );
}
