//! The window's words in Chinese and English, one file per panel. In each file a label is one line, its Chinese
//! and its English text side by side; `labels!` makes of them the panel's struct and its `ZH` and `EN` values, so
//! a label without both texts does not compile. `errors` puts the engine's errors and the window's notices into
//! words.

use crate::net::Kind;

/// A panel's labels: `name: "中文", "English";` per label, each line's two texts side by side. Makes `pub struct
/// $panel` with one `&'static str` per label, and its `ZH` and `EN` values. A line with one text does not parse.
macro_rules! labels {
    ($panel:ident { $($(#[$doc:meta])* $label:ident: $zh:literal, $en:literal;)* }) => {
        pub struct $panel {
            $($(#[$doc])* pub $label: &'static str,)*
        }

        impl $panel {
            pub const ZH: $panel = $panel { $($label: $zh,)* };
            pub const EN: $panel = $panel { $($label: $en,)* };

            /// Each label's name and text.
            #[cfg(test)]
            pub fn labels(&self) -> Vec<(&'static str, &'static str)> {
                vec![$((stringify!($label), self.$label),)*]
            }
        }
    };
}

/// `Texts`, one field per panel (`t.connection.open`), and its Chinese and English values.
macro_rules! texts {
    ($($panel:ident: $labels:ident,)*) => {
        pub struct Texts {
            $(pub $panel: $panel::$labels,)*
        }

        static ZH: Texts = Texts { $($panel: $panel::$labels::ZH,)* };
        static EN: Texts = Texts { $($panel: $panel::$labels::EN,)* };

        impl Texts {
            /// Each label's panel, name and text.
            #[cfg(test)]
            fn labels(&self) -> Vec<(&'static str, &'static str, &'static str)> {
                let mut all = Vec::new();
                $(all.extend(self.$panel.labels().into_iter().map(|(label, text)| (stringify!($panel), label, text)));)*
                all
            }
        }
    };
}

pub mod automation;
pub mod clients;
pub mod common;
pub mod connection;
pub mod dialogs;
mod errors;
pub mod export;
pub mod find;
pub mod load;
pub mod plot;
pub mod quick;
pub mod receive;
pub mod relay;
pub mod rules;
pub mod script;
pub mod send;
pub mod status;
pub mod tabs;
pub mod tls;

pub use crate::settings::Lang;
pub use errors::Notice;

texts! {
    common: CommonLabels,
    connection: ConnectionLabels,
    receive: ReceiveLabels,
    export: ExportLabels,
    send: SendLabels,
    clients: ClientsLabels,
    quick: QuickLabels,
    status: StatusLabels,
    tabs: TabsLabels,
    dialogs: DialogsLabels,
    find: FindLabels,
    plot: PlotLabels,
    automation: AutomationLabels,
    rules: RulesLabels,
    script: ScriptLabels,
    relay: RelayLabels,
    load: LoadLabels,
    tls: TlsLabels,
}

impl Lang {
    /// Chinese on a Chinese system (any `zh*` locale), English elsewhere.
    pub fn from_system() -> Lang {
        Lang::from_locale(sys_locale::get_locale().as_deref().unwrap_or("en"))
    }

    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// A kind's name in this language (each kind names itself: `Caps::label`).
    pub fn kind_name(self, kind: Kind) -> &'static str {
        kind.label(self == Lang::Zh)
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_locales_get_chinese_labels() {
        for (locale, lang) in [
            ("zh-CN", Lang::Zh),
            ("zh_TW.UTF-8", Lang::Zh),
            ("en-US", Lang::En),
            ("de", Lang::En),
        ] {
            assert_eq!(Lang::from_locale(locale), lang, "{locale}");
        }
        assert_eq!(Lang::Zh.texts().connection.open, "打开");
        assert_eq!(Lang::En.texts().connection.open, "Open");
    }

    /// Issue 22.11: the buffer's field shows "64 MiB" itself; its label does not say the unit again.
    #[test]
    fn the_buffer_label_does_not_repeat_its_unit() {
        for lang in [Lang::Zh, Lang::En] {
            assert!(!lang.texts().receive.buffer_mib.contains("MiB"), "{lang:?}");
        }
    }

    #[test]
    fn no_label_is_empty() {
        for lang in [Lang::Zh, Lang::En] {
            for (panel, label, text) in lang.texts().labels() {
                assert!(!text.trim().is_empty(), "{lang:?}: {panel}.{label} is empty");
            }
        }
    }
}
