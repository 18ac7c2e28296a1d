//! Random choices from a ChaCha8 stream, turned into choices with integer arithmetic
//! only, so that the same seed gives the same data on every platform.

use chacha20::ChaCha8Rng;
use rand_core::Rng;

/// Random choices from a ChaCha8 stream, with integer arithmetic only.
pub(super) struct Random(pub(super) ChaCha8Rng);

impl Random {
    /// Uniform in `0..n` (Lemire's multiply-and-reject: no modulo bias).
    pub(super) fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.0.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// Uniform in `low..=high`.
    pub(super) fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    /// True `per_mille` times in a thousand.
    pub(super) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub(super) fn weighted<T: Copy>(&mut self, items: &[(T, u64)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut ticket = self.below(total);
        for (item, weight) in items {
            if ticket < *weight {
                return *item;
            }
            ticket -= weight;
        }
        unreachable!("the ticket is below the total weight")
    }

    /// Moves a uniform sample of `k` items to the front (partial Fisher–Yates).
    pub(super) fn sample_to_front<T>(&mut self, items: &mut [T], k: usize) {
        for i in 0..k.min(items.len()) {
            let j = i + self.below((items.len() - i) as u64) as usize;
            items.swap(i, j);
        }
    }
}
