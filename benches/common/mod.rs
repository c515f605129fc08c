//! What the bench binaries share.

/// `cargo test --all-targets` runs bench binaries too, without `--bench`: a measurement is not a test.
pub fn measuring() -> bool {
    let asked = std::env::args().any(|arg| arg == "--bench");
    if !asked {
        println!("not measured: run `cargo bench --bench NAME`");
    }
    asked
}

/// xorshift: reproducible noise without a dependency.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
