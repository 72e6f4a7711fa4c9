//! A small seeded random generator (SplitMix64), so results are reproducible on every
//! target without pulling an OS entropy source into the wasm build.

#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    /// [`Self::normal`] returns 0 without drawing ([`Self::zero`]).
    zero: bool,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed ^ 0x9E37_79B9_7F4A_7C15, zero: false }
    }

    /// A generator whose [`Self::normal`] is always 0 and costs nothing: for building
    /// layers whose every value is overwritten next (`weights::load`), where the draws'
    /// logarithms and cosines were most of the load's time.
    pub fn zero() -> Self {
        Self { zero: true, ..Self::new(0) }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f64 {
        if self.zero {
            return 0.0;
        }
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}
