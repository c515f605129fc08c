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

/// Linux and the BSDs draw with OpenGL first: Mesa has it everywhere, and it starts faster and holds
/// less memory than wgpu over the same driver. wgpu stays the fallback.
#[cfg(all(unix, not(target_os = "macos")))]
pub const RENDERERS: [eframe::Renderer; 2] = [eframe::Renderer::Glow, eframe::Renderer::Wgpu];

/// Windows draws with wgpu first: Direct3D 12 (WARP included) works in VMs whose OpenGL is the 1.1 GDI stub.
#[cfg(not(all(unix, not(target_os = "macos"))))]
pub const RENDERERS: [eframe::Renderer; 2] = [eframe::Renderer::Wgpu, eframe::Renderer::Glow];

/// Under X11 without a usable `XDG_RUNTIME_DIR` (remote X, Xvfb, a bare `su`), Mesa's Vulkan drivers try
/// Wayland first and print "error: XDG_RUNTIME_DIR is invalid" four times at every start. There wgpu is given
/// OpenGL only, which draws the same window without the noise. `WGPU_BACKEND` still decides when set.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn quiet_wgpu_backends() -> Option<eframe::wgpu::Backends> {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    let runtime_dir_usable = std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|dir| std::path::Path::new(&dir).is_dir());
    let x11_only = set("DISPLAY") && !set("WAYLAND_DISPLAY");
    (x11_only && !runtime_dir_usable && !set("WGPU_BACKEND")).then_some(eframe::wgpu::Backends::GL)
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn quiet_wgpu_backends() -> Option<eframe::wgpu::Backends> {
    None
}

/// eframe's wgpu setup, with [`quiet_wgpu_backends`] applied.
pub fn wgpu_options() -> eframe::egui_wgpu::WgpuConfiguration {
    let mut options = eframe::egui_wgpu::WgpuConfiguration::default();
    if let (Some(backends), eframe::egui_wgpu::WgpuSetup::CreateNew(setup)) =
        (quiet_wgpu_backends(), &mut options.wgpu_setup)
    {
        setup.instance_descriptor.backends = backends;
    }
    options
}

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
