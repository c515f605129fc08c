//! Stamps the git commit into the binary for `wirepad --version` ("unknown" outside a git checkout), and for a Windows
//! target embeds the icon and the version information in wirepad.exe (Explorer, the taskbar and Properties show them).
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=WIREPAD_COMMIT={commit}");
    // A new commit moves HEAD or the branch it names; only then is the stamp stale. --git-path finds both in a
    // worktree too, whose branches live in the main repository's folder.
    let mut refs = vec!["HEAD".to_owned()];
    refs.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in refs {
        if let Some(path) = git(&["rev-parse", "--git-path", &name]) {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    // The target's OS, not the host's: cross-builds from Linux use mingw-w64's windres.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        windows_resources(&commit);
    }
}

fn windows_resources(commit: &str) {
    const ICON: &str = "assets/icon/wirepad.ico";
    println!("cargo:rerun-if-changed={ICON}");
    let version = env!("CARGO_PKG_VERSION");
    let mut res = winresource::WindowsResource::new();
    res.set_icon(ICON)
        .set("ProductName", "Wirepad")
        .set("FileDescription", "Wirepad network debugging assistant")
        .set("ProductVersion", &format!("{version} (commit {commit})"))
        .set("LegalCopyright", "MIT OR Apache-2.0")
        .set("OriginalFilename", "wirepad.exe")
        .set("InternalName", "wirepad");
    // Only the program gets the resources; the test and bench binaries need none.
    if let Err(e) = res.compile_for("wirepad") {
        panic!("cannot embed the Windows resources (icon, version) with windres: {e}");
    }
}
