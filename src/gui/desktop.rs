//! What the desktop offers the window, the platform differences in one place: a file dialog to fall back
//! on, which graphics backends to try, and the window's icon.
use std::sync::Arc;

/// The icon in the title bar and the taskbar: assets/icon/wirepad-256.png, made from assets/icon.svg by
/// scripts/icons.sh. `None` only if that file were broken (the window then has the system's default icon).
pub fn icon() -> Option<Arc<egui::IconData>> {
    eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon/wirepad-256.png"))
        .ok()
        .map(Arc::new)
}

/// Whether rfd has zenity to fall back on where the portal is missing (Linux and the BSDs).
#[cfg(all(unix, not(target_os = "macos")))]
pub fn has_fallback_dialog() -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()))
}

/// Windows and macOS always have their own dialogs.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn has_fallback_dialog() -> bool {
    true
}

/// Linux and the BSDs draw with OpenGL: Mesa has it everywhere, and it starts faster and holds less memory than
/// wgpu over the same driver (which is left out there: the binary must stay under 20 MB).
#[cfg(all(unix, not(target_os = "macos")))]
pub const RENDERERS: &[eframe::Renderer] = &[eframe::Renderer::Glow];

/// Windows draws with wgpu first: Direct3D 12 (WARP included) works in VMs whose OpenGL is the 1.1 GDI stub.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub const RENDERERS: &[eframe::Renderer] = &[eframe::Renderer::Wgpu, eframe::Renderer::Glow];

#[cfg(test)]
mod tests {
    #[test]
    fn the_icon_decodes_to_a_square_with_some_opaque_pixels() {
        let icon = super::icon().expect("the embedded PNG decodes");
        assert_eq!((icon.width, icon.height), (256, 256));
        assert_eq!(icon.rgba.len(), 256 * 256 * 4);
        assert!(icon.rgba.chunks(4).any(|pixel| pixel[3] == 255), "not blank");
    }
}
