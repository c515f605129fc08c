//! The CLI sources need the commit stamp the main crate's build.rs sets.
fn main() {
    println!("cargo:rustc-env=WIREPAD_COMMIT=fuzz");
}
