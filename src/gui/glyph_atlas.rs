//! Clear gives back the glyphs the cleared rows drew. egui keeps every glyph it has rasterized in one font
//! texture (up to 16,384 px wide, its height doubling as it fills) and starts it over only when it is 80 % full:
//! random bytes shown as text, or a flood of rare CJK characters, leave tens of MiB of one-off glyphs behind.
//! egui starts the atlas over whenever its text options change, so Clear changes one for a single pass and then
//! puts it back; text in that one pass is placed without sub-pixel binning, which nobody can see.

/// Where a start-over of the atlas stands: passes until the option is put back.
#[derive(Debug, Default)]
pub struct GlyphAtlas {
    restore_in: u8,
}

impl GlyphAtlas {
    /// The next pass starts the font atlas over.
    pub fn start_over(&mut self, ctx: &egui::Context) {
        if self.restore_in == 0 {
            flip(ctx);
        }
        // The pass that begins with the changed option, then the one that begins with it put back.
        self.restore_in = 2;
        ctx.request_repaint();
    }

    /// Once a pass: puts the option back once a pass has begun with it changed.
    pub fn step(&mut self, ctx: &egui::Context) {
        if self.restore_in == 0 {
            return;
        }
        self.restore_in -= 1;
        if self.restore_in == 0 {
            flip(ctx);
            // The old atlas went with the last pass; glibc keeps freed memory of its size in the heap.
            crate::memory::return_free_memory();
        }
        ctx.request_repaint();
    }
}

fn flip(ctx: &egui::Context) {
    ctx.all_styles_mut(|style| {
        let options = &mut style.visuals.text_options;
        options.subpixel_binning = !options.subpixel_binning;
    });
}
