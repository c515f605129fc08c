//! Chinese glyphs on any machine: a bundled Noto Sans SC subset (GB2312, OFL) as a fallback after egui's
//! own fonts; eframe's system-font provider still covers rarer characters.
use std::sync::Arc;

const NOTO_SANS_SC: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular-GB2312.otf");

pub fn install(ctx: &egui::Context) {
    let mut fonts = egui::FontDefinitions::default();
    // Monospace glyphs on whole pixels, as a terminal draws them: one bitmap per glyph instead of up to four
    // (sub-pixel bins), so a view of random bytes or hex fills the font atlas a quarter as fast.
    if let Some(hack) = fonts.font_data.get_mut("Hack") {
        let hack = Arc::make_mut(hack);
        hack.tweak.subpixel_binning = Some(false);
    }
    fonts.font_data.insert(
        "noto-sans-sc".into(),
        Arc::new(egui::FontData::from_static(NOTO_SANS_SC)),
    );
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push("noto-sans-sc".into());
    }
    ctx.set_fonts(fonts);
}

/// A character of each script beyond the bundled fonts that random bytes decode to: every Unicode block of
/// two-byte UTF-8 from Latin Extended-B on (U+0180 to U+07FF), and the most common of three bytes (GBK's extension
/// among them).
const FALLBACK_SAMPLES: &[char] = &[
    'ƀ', 'ɐ', 'ʰ', '\u{301}', 'Ͱ', 'Ѐ', 'Ԁ', 'Ա', 'א', 'ا', 'ܐ', 'ݐ', 'ހ', 'ߊ', 'ࠀ', 'अ', 'ก', 'ა', 'ᄀ', 'あ', '丂',
    '가', '\u{E000}',
];

/// Readies the monospace font once, while the window is idle, for what the first frame of a flood of random bytes
/// would otherwise do all at once (20-45 ms here): asks it for [`FALLBACK_SAMPLES`] (the first character the
/// bundled fonts lack has egui look through the system's fonts and load the one that has it), and draws the
/// printable ASCII characters into the font atlas.
pub fn warm_up(ctx: &egui::Context) {
    let font_id = egui::TextStyle::Monospace.resolve(&ctx.global_style());
    let ascii: String = (' '..='~').collect();
    ctx.fonts_mut(|fonts| {
        for &c in FALLBACK_SAMPLES {
            fonts.has_glyph(&font_id, c);
        }
        fonts.layout_no_wrap(ascii, font_id, egui::Color32::WHITE);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a pass adds to the font atlas while it lays out printable ASCII in the monospace font.
    fn atlas_change_laying_out_ascii(ctx: &egui::Context) -> usize {
        let output = ctx.run_ui(egui::RawInput::default(), |ui| {
            let font_id = egui::TextStyle::Monospace.resolve(ui.style());
            ui.fonts_mut(|fonts| fonts.layout_no_wrap((' '..='~').collect(), font_id, egui::Color32::WHITE));
        });
        let mut delta = output.textures_delta;
        let changed = delta.set.len();
        delta.clear();
        changed
    }

    #[test]
    fn a_warmed_up_font_draws_ascii_without_touching_the_atlas() {
        let cold = egui::Context::default();
        install(&cold);
        cold.run_ui(egui::RawInput::default(), |_| {}).textures_delta.clear();
        assert!(atlas_change_laying_out_ascii(&cold) > 0, "a cold font draws its glyphs");

        let warm = egui::Context::default();
        install(&warm);
        warm.run_ui(egui::RawInput::default(), |_| {}).textures_delta.clear();
        warm_up(&warm);
        warm.run_ui(egui::RawInput::default(), |_| {}).textures_delta.clear();
        assert_eq!(atlas_change_laying_out_ascii(&warm), 0);
    }
}
