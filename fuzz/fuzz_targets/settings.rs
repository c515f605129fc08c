//! The settings as eframe's persistence stores them (RON): any text loads or is refused without a panic, what
//! loads validates without one, and saves and loads back unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirepad_fuzz::settings::Settings;

fuzz_target!(|text: &str| {
    // The window's loader: any text gives settings, field by field, without a panic.
    for system in [wirepad_fuzz::i18n::Lang::Zh, wirepad_fuzz::i18n::Lang::En] {
        let _ = Settings::load(Some(text), system).value.validate();
    }
    let Ok(settings) = ron::from_str::<Settings>(text) else {
        return;
    };
    let _ = settings.validate();
    let saved = ron::to_string(&settings).expect("settings serialize");
    assert_eq!(ron::from_str::<Settings>(&saved).ok(), Some(settings), "{saved}");
});
