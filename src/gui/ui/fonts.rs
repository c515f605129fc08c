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
