//! What the browser's WebAssembly supports, for choosing a worker build.

/// Bytes of [`RELAXED_SIMD_PROBE`].
pub const PROBE_LEN: usize = 82;

/// The byte offset of the probe's relaxed-SIMD opcode (`0xfd` then LEB128 `0x105`).
pub const PROBE_OPCODE_AT: usize = 78;

/// The smallest module that uses relaxed SIMD: one function returning
/// `f32x4.relaxed_madd(v128.const 0, v128.const 0, v128.const 0)`. A browser without relaxed
/// SIMD rejects it.
pub const RELAXED_SIMD_PROBE: [u8; PROBE_LEN] = probe();

const fn probe() -> [u8; PROBE_LEN] {
    let mut m = [0u8; PROBE_LEN];
    let head: [u8; 24] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
        0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: () -> v128
        0x03, 0x02, 0x01, 0x00, // function section: one function, of type 0
        0x0a, 0x3d, 0x01, 0x3b, // code section (61 bytes): one body of 59 bytes
        0x00, // the body: no locals
    ];
    let mut i = 0;
    while i < head.len() {
        m[i] = head[i];
        i += 1;
    }
    // Three `v128.const` (0xfd 0x0c) of 16 zero bytes, at 24, 42 and 60.
    let mut k = 0;
    while k < 3 {
        m[24 + 18 * k] = 0xfd;
        m[25 + 18 * k] = 0x0c;
        k += 1;
    }
    // f32x4.relaxed_madd, then `end`.
    m[PROBE_OPCODE_AT] = 0xfd;
    m[PROBE_OPCODE_AT + 1] = 0x85;
    m[PROBE_OPCODE_AT + 2] = 0x02;
    m[PROBE_OPCODE_AT + 3] = 0x0b;
    m
}

/// Whether this browser's `WebAssembly.validate` accepts `module`; `false` outside a browser.
pub fn validates(module: &[u8]) -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::WebAssembly::validate(&js_sys::Uint8Array::from(module).into()).unwrap_or(false)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = module;
        false
    }
}

/// Whether this browser runs relaxed SIMD ([`RELAXED_SIMD_PROBE`]).
pub fn relaxed_simd() -> bool {
    validates(&RELAXED_SIMD_PROBE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probe as wabt reads it (scripts/setup.sh installs wabt).
    #[test]
    fn the_probe_is_one_relaxed_madd() {
        let path = std::env::temp_dir().join(format!("relaxed-probe-{}.wasm", std::process::id()));
        std::fs::write(&path, RELAXED_SIMD_PROBE).expect("write the probe");
        let out = std::process::Command::new("wasm2wat").arg("--enable-all").arg(&path).output();
        std::fs::remove_file(&path).ok();
        let out = out.expect("wasm2wat (Debian's wabt, which scripts/setup.sh installs)");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "wasm2wat: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(text.matches("v128.const").count(), 3, "{text}");
        assert_eq!(text.matches("f32x4.relaxed_madd").count(), 1, "{text}");
        assert!(text.contains("(result v128)"), "{text}");
    }
}
