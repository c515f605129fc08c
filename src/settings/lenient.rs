//! Reading a settings file field by field: one unreadable value costs that value, not every setting.
//!
//! eframe stores the settings as RON. A strict parse fails as a whole on one bad value (a renamed enum
//! variant, a number where a string was), which would wipe quick commands and history too. Here the file is
//! split into its fields (RON's `RawValue` keeps each value's text), each field is laid over the defaults and
//! kept only if the whole still parses; nested structs are merged the same way, one level down.
use ron::value::RawValue;
use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::repair::parse_cut_short;

/// What a lenient load gave: the value, and the dotted paths of the fields that were dropped for defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Lenient<T> {
    pub value: T,
    /// Empty when the file parsed as it is. `["*"]` when it is not a struct at all.
    pub dropped: Vec<String>,
}

/// Parses `text` as `T`; where that fails, keeps every field that parses over `defaults`.
pub fn load<T: Serialize + DeserializeOwned>(text: &str, defaults: T) -> Lenient<T> {
    if let Ok(value) = ron::from_str::<T>(text) {
        return Lenient {
            value,
            dropped: Vec::new(),
        };
    }
    // The file first: text that is not a struct at all is refused before the defaults are laid out.
    // A text cut short (a full disk) keeps the fields before the cut.
    let Some(loaded) = Node::parse(text).or_else(|| parse_cut_short(text, Node::parse)) else {
        return whole_file_dropped(defaults);
    };
    let Some(mut tree) = ron::to_string(&defaults).ok().and_then(|t| Node::parse(&t)) else {
        return whole_file_dropped(defaults);
    };
    let mut dropped = Vec::new();
    let mut path = Vec::new();
    merge(&mut tree, &mut path, &loaded, &mut dropped, &|tree: &Node| {
        ron::from_str::<T>(&tree.render()).is_ok()
    });
    match ron::from_str::<T>(&tree.render()) {
        Ok(value) => Lenient { value, dropped },
        Err(_) => whole_file_dropped(defaults),
    }
}

fn whole_file_dropped<T>(defaults: T) -> Lenient<T> {
    Lenient {
        value: defaults,
        dropped: vec!["*".to_string()],
    }
}

/// A RON value as text, or a struct split into its fields.
#[derive(Debug, Clone)]
enum Node {
    Raw(String),
    Struct(Vec<(String, Node)>),
}

impl Node {
    /// A struct `(a: …, b: …)` split into fields, recursively; `None` if `text` is not one.
    fn parse(text: &str) -> Option<Node> {
        if !text.trim_start().starts_with('(') {
            return None;
        }
        let Fields(fields) = ron::from_str(text).ok()?;
        if fields.is_empty() {
            return None;
        }
        let fields = fields
            .into_iter()
            .map(|(name, raw)| {
                let text = raw.get_ron();
                let node = Node::parse(text).unwrap_or_else(|| Node::Raw(text.to_string()));
                (name, node)
            })
            .collect();
        Some(Node::Struct(fields))
    }

    fn render(&self) -> String {
        match self {
            Node::Raw(text) => text.clone(),
            Node::Struct(fields) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|(name, node)| format!("{name}:{}", node.render()))
                    .collect();
                format!("({})", inner.join(","))
            }
        }
    }

    fn field_mut(&mut self, path: &[String]) -> Option<&mut Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        match self {
            Node::Struct(fields) => fields
                .iter_mut()
                .find(|(name, _)| name == first)
                .and_then(|(_, node)| node.field_mut(rest)),
            Node::Raw(_) => None,
        }
    }
}

/// Lays each field of `loaded` over `tree` at `path`, keeping it only where `valid` still holds.
fn merge(
    tree: &mut Node,
    path: &mut Vec<String>,
    loaded: &Node,
    dropped: &mut Vec<String>,
    valid: &dyn Fn(&Node) -> bool,
) {
    let Node::Struct(fields) = loaded else { return };
    for (name, value) in fields {
        path.push(name.clone());
        // Fields the defaults do not have (renamed or removed settings) are ignored, as serde would.
        let Some(slot) = tree.field_mut(path) else {
            path.pop();
            continue;
        };
        let previous = std::mem::replace(slot, value.clone());
        if !valid(tree) {
            let Some(slot) = tree.field_mut(path) else { break };
            let both_structs = matches!((&previous, value), (Node::Struct(_), Node::Struct(_)));
            *slot = previous;
            if both_structs {
                merge(tree, path, value, dropped, valid);
            } else {
                dropped.push(path.join("."));
            }
        }
        path.pop();
    }
}

/// A struct's fields with each value's RON text.
pub(super) struct Fields(pub(super) Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;
        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a struct")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_struct("", &[], FieldsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
    enum Mode {
        #[default]
        A,
        B,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
    #[serde(default)]
    struct Inner {
        number: u32,
        text: String,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
    #[serde(default)]
    struct Outer {
        mode: Mode,
        inner: Inner,
        history: Vec<String>,
    }

    fn saved() -> Outer {
        Outer {
            mode: Mode::B,
            inner: Inner {
                number: 7,
                text: "kept".into(),
            },
            history: vec!["a:1".into(), "b:2".into()],
        }
    }

    #[test]
    fn a_good_file_loads_as_it_is() {
        let text = ron::to_string(&saved()).expect("ron");
        assert_eq!(
            load(&text, Outer::default()),
            Lenient {
                value: saved(),
                dropped: vec![]
            }
        );
    }

    #[test]
    fn one_bad_value_costs_only_that_value() {
        let text = ron::to_string(&saved()).expect("ron");
        // (what breaks the file, the fields dropped, what the loaded value then differs in)
        type Expect = fn(&mut Outer);
        let cases: &[(&str, &str, &[&str], Expect)] = &[
            ("mode:B", "mode:Gone", &["mode"], |o| o.mode = Mode::A),
            ("number:7", "number:\"x\"", &["inner.number"], |o| o.inner.number = 0),
            ("number:7", "number:-1", &["inner.number"], |o| o.inner.number = 0),
            ("\"a:1\"", "1", &["history"], |o| o.history.clear()),
            // An unknown field (a setting since renamed) is ignored, not counted as lost.
            ("mode:B", "old:3,mode:B", &[], |_| {}),
        ];
        for (from, to, dropped, expect) in cases {
            let broken = text.replacen(from, to, 1);
            assert_ne!(broken, text, "{from} is in the file");
            let mut expected = saved();
            expect(&mut expected);
            let loaded = load(&broken, Outer::default());
            assert_eq!(loaded.value, expected, "{to}");
            assert_eq!(loaded.dropped, *dropped, "{to}");
        }
    }

    #[test]
    fn garbage_gives_defaults_and_says_so() {
        for text in ["", "not ron", "[1,2]", "(mode:"] {
            let loaded = load(text, saved());
            assert_eq!(loaded.value, saved(), "{text:?}");
            assert_eq!(loaded.dropped, vec!["*"], "{text:?}");
        }
    }
}
