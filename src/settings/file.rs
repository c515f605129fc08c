//! The settings file as eframe keeps it, `app.ron`: a RON map from keys to RON texts ("app" the window's own
//! entry, "egui" egui's memory, "window" the window's size and place). eframe reads a file that does not parse
//! whole as an empty map and writes over it at exit, so the window reads it first: a file that cannot be read
//! whole, or that places the window where no screen is, is moved aside (`app.ron.bad`, never over an earlier
//! one) before eframe looks, and what could be read of it is used.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::{fs, io};

use serde::Deserialize;

use super::repair::parse_cut_short;

/// eframe's key for the window's own entry (`eframe::APP_KEY`).
pub const APP_KEY: &str = "app";
/// eframe's key for the window's size and place.
pub const WINDOW_KEY: &str = "window";
/// A larger file is not read (eframe would read it whole): it is moved aside.
pub const MAX_FILE: u64 = 64 << 20;
/// `app.ron.bad`, then `app.ron.bad.2` … up to this many copies; past them nothing more is kept.
pub const MAX_COPIES: usize = 100;

/// Why a settings file could not be read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    TooLarge {
        bytes: u64,
    },
    /// The byte offset of the first byte that is not UTF-8 (read as U+FFFD).
    NotUtf8 {
        at: usize,
    },
    /// It ends before its brackets do.
    CutShort,
    /// Not a map of keys to texts at all: nothing was read.
    NotSettings,
}

/// What was read of a settings file's text.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Read {
    pub entries: HashMap<String, String>,
    pub damage: Option<Damage>,
}

/// Reads a settings file's bytes as far as they go: not UTF-8, its bad bytes as U+FFFD; cut short, closed.
pub fn read(bytes: &[u8]) -> Read {
    let text = String::from_utf8_lossy(bytes);
    let not_utf8 = std::str::from_utf8(bytes).err().map(|error| Damage::NotUtf8 {
        at: error.valid_up_to(),
    });
    if text.trim().is_empty() {
        return Read::default();
    }
    let parse = |text: &str| ron::from_str::<HashMap<String, String>>(text).ok();
    match (parse(&text), not_utf8) {
        (Some(entries), damage) => Read { entries, damage },
        (None, damage) => match parse_cut_short(&text, parse) {
            Some(entries) => Read {
                entries,
                damage: damage.or(Some(Damage::CutShort)),
            },
            None => Read {
                entries: HashMap::new(),
                damage: Some(Damage::NotSettings),
            },
        },
    }
}

/// The settings file at a path, read before eframe reads it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Opened {
    /// What could be read of it, without a "window" entry that was out of range.
    pub read: Read,
    /// The "window" entry placed the window where no screen is: it was dropped.
    pub window_dropped: bool,
    /// Where the file was moved (it could not be read whole, or its window entry was dropped).
    pub kept: Option<PathBuf>,
    /// Where a copy goes when the window drops values inside its own entry: `None` once the file was moved.
    pub copy_to: Option<PathBuf>,
    /// A file that had to be moved aside but could not be (a read-only folder, every copy name taken): where
    /// eframe saves instead, so that the file is left as it was, never written over.
    pub save_elsewhere: Option<PathBuf>,
}

impl Opened {
    /// The window's own entry.
    pub fn app(&self) -> Option<&str> {
        self.read.entries.get(APP_KEY).map(String::as_str)
    }
}

/// Reads the settings file at `path`; a file eframe would lose (see the module) is moved aside first.
pub fn open(path: &Path) -> Opened {
    let mut opened = Opened {
        copy_to: Some(bad_path(path)),
        ..Opened::default()
    };
    let bytes = match fs::metadata(path) {
        Err(_) => return opened,
        Ok(meta) if meta.len() > MAX_FILE => {
            opened.read.damage = Some(Damage::TooLarge { bytes: meta.len() });
            Vec::new()
        }
        Ok(_) => match fs::read(path) {
            Ok(bytes) => bytes,
            // Unreadable here is unreadable to eframe too: nothing to lose, nothing to move.
            Err(_) => return opened,
        },
    };
    if opened.read.damage.is_none() {
        opened.read = read(&bytes);
    }
    opened.window_dropped = drop_bad_window(&mut opened.read.entries);
    if opened.read.damage.is_some() || opened.window_dropped {
        match move_aside(path) {
            Ok(kept) => opened.kept = Some(kept),
            Err(_) => opened.save_elsewhere = Some(unsaved_path()),
        }
        opened.copy_to = None;
    }
    opened
}

/// Where a window saves while its damaged settings file could not be moved aside: a file of its own in the
/// temporary folder, so the next start finds the damaged file as it was and tries again.
fn unsaved_path() -> PathBuf {
    std::env::temp_dir().join(format!("wirepad-unsaved-{}.ron", std::process::id()))
}

/// `app.ron.bad` for `app.ron`.
pub fn bad_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".bad");
    PathBuf::from(name)
}

/// `bad`, then `bad.2`, `bad.3` …: the names a kept file may take.
fn copies(bad: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    (1..=MAX_COPIES).map(move |n| {
        if n == 1 {
            bad.to_path_buf()
        } else {
            let mut name = bad.as_os_str().to_owned();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        }
    })
}

/// Renames `path` to the first free name of `copies`. (Another process taking that name between the look and
/// the rename, two windows starting in the same instant, is the one way an earlier copy could be replaced.)
pub fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let bad = bad_path(path);
    let free = copies(&bad)
        .find(|candidate| fs::symlink_metadata(candidate).is_err())
        .ok_or_else(|| io::Error::new(io::ErrorKind::AlreadyExists, "every name for a copy is taken"))?;
    fs::rename(path, &free)?;
    Ok(free)
}

/// Writes `bytes` to the first of `copies(bad)` that does not exist yet (never over one that does).
pub fn keep_copy(bad: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    if let Some(dir) = bad.parent() {
        fs::create_dir_all(dir)?;
    }
    for candidate in copies(bad) {
        match fs::OpenOptions::new().write(true).create_new(true).open(&candidate) {
            Ok(mut file) => {
                io::Write::write_all(&mut file, bytes)?;
                return Ok(candidate);
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "every name for a copy is taken",
    ))
}

/// The window's size and place as eframe stores them (egui_winit's `WindowSettings`).
#[derive(Debug, Deserialize)]
struct WindowEntry {
    normal_geometry: Geometry,
}

#[derive(Debug, Deserialize)]
struct Geometry {
    outer_position_pixels: Option<Xy>,
    scale_factor: f32,
    inner_size_points: Xy,
}

#[derive(Debug, Deserialize)]
struct Xy {
    x: f32,
    y: f32,
}

/// What a window's size (points) and place (pixels) can be on any screen; the scale factors systems use.
const SIZE: std::ops::RangeInclusive<f32> = 1.0..=16_384.0;
const PLACE: std::ops::RangeInclusive<f32> = -100_000.0..=100_000.0;
const SCALE: std::ops::RangeInclusive<f32> = 0.1..=16.0;

/// Removes a "window" entry whose size, place or scale is not a number in range; `true` if it did. An entry
/// of another shape is left to eframe, which ignores what it cannot read.
fn drop_bad_window(entries: &mut HashMap<String, String>) -> bool {
    let Some(window) = entries.get(WINDOW_KEY) else {
        return false;
    };
    let Ok(WindowEntry { normal_geometry: g }) = ron::from_str::<WindowEntry>(window) else {
        return false;
    };
    let place_ok = g
        .outer_position_pixels
        .is_none_or(|p| PLACE.contains(&p.x) && PLACE.contains(&p.y));
    let sound = place_ok
        && SCALE.contains(&g.scale_factor)
        && SIZE.contains(&g.inner_size_points.x)
        && SIZE.contains(&g.inner_size_points.y);
    if !sound {
        entries.remove(WINDOW_KEY);
    }
    !sound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(x: f32, y: f32, scale: f32, width: f32, height: f32) -> String {
        format!(
            "(normal_geometry:(outer_position_pixels:Some((x:{x:?},y:{y:?})),scale_factor:{scale:?},\
             inner_size_points:(x:{width:?},y:{height:?})),fullscreen:false,maximized:false)"
        )
    }

    fn file(entries: &[(&str, &str)]) -> String {
        let map: HashMap<String, String> = entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ron::ser::to_string_pretty(&map, ron::ser::PrettyConfig::default()).expect("ron")
    }

    #[test]
    fn a_sound_file_is_read_and_left_where_it_is() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.ron");
        let text = file(&[
            ("app", "(version:1)"),
            ("window", &window(10.0, 20.0, 1.0, 1100.0, 720.0)),
        ]);
        fs::write(&path, &text).expect("write");
        let opened = open(&path);
        assert_eq!(opened.read.damage, None);
        assert_eq!(opened.app(), Some("(version:1)"));
        assert!(!opened.window_dropped && opened.kept.is_none());
        assert_eq!(opened.copy_to, Some(dir.path().join("app.ron.bad")));
        assert_eq!(fs::read_to_string(&path).expect("still there"), text);
    }

    #[test]
    fn a_damaged_file_is_moved_aside_and_read_as_far_as_it_goes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.ron");
        let whole = file(&[("app", "(version:1,name:\"ab\")")]);
        let cut = whole.trim_end().trim_end_matches('}').as_bytes().to_vec();
        let mut not_utf8 = whole.replacen("ab", "a\u{1}", 1).into_bytes();
        let at = not_utf8.iter().position(|b| *b == 1).expect("marker");
        not_utf8[at] = 0xff;
        fs::write(dir.path().join("app.ron.bad"), "an earlier copy").expect("write");
        let cases: [(&[u8], Damage, Option<&str>); 3] = [
            (&cut, Damage::CutShort, Some("(version:1,name:\"ab\")")),
            (
                &not_utf8,
                Damage::NotUtf8 { at },
                Some("(version:1,name:\"a\u{fffd}\")"),
            ),
            (b"\x00\x01 not ron", Damage::NotSettings, None),
        ];
        for (n, (bytes, damage, app)) in cases.into_iter().enumerate() {
            fs::write(&path, bytes).expect("write");
            let opened = open(&path);
            assert_eq!(opened.read.damage, Some(damage));
            assert_eq!(opened.app(), app);
            let kept = dir.path().join(format!("app.ron.bad.{}", n + 2));
            assert_eq!(opened.kept.as_ref(), Some(&kept), "the next free name");
            assert_eq!(fs::read(&kept).expect("kept"), bytes);
            assert!(!path.exists(), "eframe finds no file to write over");
            assert_eq!(opened.copy_to, None);
        }
        assert_eq!(
            fs::read_to_string(dir.path().join("app.ron.bad")).expect("kept"),
            "an earlier copy"
        );
    }

    #[test]
    fn a_window_no_screen_shows_is_dropped_and_the_file_moved_aside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.ron");
        for (x, scale, width) in [
            (10.0, 1.0, 1e30),
            (10.0, 1.0, f32::NAN),
            (10.0, 0.0, 800.0),
            (f32::INFINITY, 1.0, 800.0),
            (-1e9, 1.0, 800.0),
            (10.0, 1.0, -5.0),
        ] {
            let text = file(&[("app", "(version:1)"), ("window", &window(x, 0.0, scale, width, 600.0))]);
            fs::write(&path, &text).expect("write");
            let opened = open(&path);
            assert!(opened.window_dropped, "{x} {scale} {width}");
            assert!(!opened.read.entries.contains_key(WINDOW_KEY));
            assert_eq!(opened.app(), Some("(version:1)"), "the rest is read");
            let kept = opened.kept.expect("moved aside");
            assert_eq!(fs::read_to_string(&kept).expect("kept"), text);
        }
    }

    #[test]
    fn a_damaged_file_that_cannot_be_moved_aside_is_left_as_it_was_and_not_saved_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("app.ron");
        let damaged = file(&[("app", "(tabs: [])")])
            .trim_end()
            .trim_end_matches('}')
            .to_string();
        fs::write(&path, &damaged).expect("write");
        for candidate in copies(&bad_path(&path)) {
            fs::write(candidate, "an earlier copy").expect("write");
        }
        let opened = open(&path);
        assert_eq!(opened.read.damage, Some(Damage::CutShort));
        assert_eq!(opened.kept, None);
        let elsewhere = opened.save_elsewhere.expect("eframe saves elsewhere");
        assert!(!elsewhere.starts_with(dir.path()), "{}", elsewhere.display());
        assert_eq!(fs::read_to_string(&path).expect("still there"), damaged);
    }

    #[test]
    fn a_file_too_large_is_not_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("app.ron");
        let file = fs::File::create(&path).expect("create");
        file.set_len(MAX_FILE + 1).expect("sparse file");
        let opened = open(&path);
        assert_eq!(opened.read.damage, Some(Damage::TooLarge { bytes: MAX_FILE + 1 }));
        assert!(opened.read.entries.is_empty());
        assert!(opened.kept.is_some() && !path.exists());
    }

    #[test]
    fn copies_never_replace_earlier_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        let bad = dir.path().join("app.ron.bad");
        let names: Vec<PathBuf> = (0..3)
            .map(|n| keep_copy(&bad, format!("copy {n}").as_bytes()).expect("kept"))
            .collect();
        assert_eq!(
            names,
            [
                bad.clone(),
                dir.path().join("app.ron.bad.2"),
                dir.path().join("app.ron.bad.3")
            ]
        );
        for (n, name) in names.iter().enumerate() {
            assert_eq!(fs::read_to_string(name).expect("kept"), format!("copy {n}"));
        }
        assert_eq!(
            open(&dir.path().join("missing.ron")),
            Opened {
                copy_to: Some(dir.path().join("missing.ron.bad")),
                ..Opened::default()
            }
        );
    }
}
