//! The settings as eframe's persistence stores them (RON): any text loads or is refused without a panic, what
//! loads validates without one, and saves and loads back unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad_fuzz::i18n::Lang;
use wirepad_fuzz::settings::Settings;

fuzz_target!(|text: &str| {
    // The window's loader: any text gives settings, field by field, without a panic. Once per input, the
    // system language by the text's length: the language only changes a default, and each load is most of a run.
    let system = if text.len() % 2 == 0 { Lang::Zh } else { Lang::En };
    let _ = Settings::load(Some(text), system).value.validate();
    let Ok(settings) = ron::from_str::<Settings>(text) else {
        return;
    };
    let _ = settings.validate();
    let saved = ron::to_string(&settings).expect("settings serialize");
    assert_eq!(ron::from_str::<Settings>(&saved).ok(), Some(settings), "{saved}");
});
