//! Deterministic hashing and reversible UUID v4 ids.
//!
//! Call and batch ids encode their index in the state's tables through a keyed 64-bit
//! permutation, so looking one up needs no index map (part of the per-call memory budget)
//! and ids are reproducible from the seed.

use std::fmt::Write as _;

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;
const M1: u64 = 0xbf58_476d_1ce4_e5b9;
const M2: u64 = 0x94d0_49bb_1331_11eb;

/// The splitmix64 finaliser: a bijection on `u64`.
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(M1);
    x ^= x >> 27;
    x = x.wrapping_mul(M2);
    x ^ (x >> 31)
}

fn unxorshift(y: u64, shift: u32) -> u64 {
    let mut x = y;
    let mut s = shift;
    while s < 64 {
        x = y ^ (x >> shift);
        s += shift;
    }
    x
}

const fn mod_inverse(a: u64) -> u64 {
    // Newton's iteration: each step doubles the number of correct low bits.
    let mut x = a;
    let mut i = 0;
    while i < 6 {
        x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

const M1_INV: u64 = mod_inverse(M1);
const M2_INV: u64 = mod_inverse(M2);

/// The inverse of [`mix`].
pub fn unmix(mut x: u64) -> u64 {
    x = unxorshift(x, 31);
    x = x.wrapping_mul(M2_INV);
    x = unxorshift(x, 27);
    x = x.wrapping_mul(M1_INV);
    unxorshift(x, 30)
}

/// A stable hash of byte strings (FNV-1a, then mixed); stable across runs and platforms.
pub fn hash_bytes(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ mix(seed);
    for part in parts {
        for byte in *part {
            h ^= u64::from(*byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separator so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

/// Kinds of ids, so a call id is never a valid batch id.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    Call = 1,
    Batch = 2,
    Workflow = 3,
}

/// Encodes and decodes reversible ids for one seed and one reset epoch.
#[derive(Debug, Clone, Copy)]
pub struct IdCodec {
    key: u64,
}

impl IdCodec {
    pub fn new(seed: u64, epoch: u64) -> Self {
        Self {
            key: mix(seed ^ mix(epoch.wrapping_add(GOLDEN))),
        }
    }

    fn kind_key(self, kind: IdKind) -> u64 {
        mix(self.key ^ (kind as u64).wrapping_mul(GOLDEN))
    }

    /// The lower-case UUID v4 text of `index`.
    pub fn encode(self, kind: IdKind, index: u64) -> String {
        let key = self.kind_key(kind);
        let v = mix(index.wrapping_add(key));
        let check = mix(v ^ key) >> 6; // 58 bits
        let hi = (v >> 16) << 16 | 0x4000 | ((v >> 4) & 0x0fff);
        let lo = (0b10 << 62) | ((v >> 2) & 0b11) << 60 | (v & 0b11) << 58 | check;
        let mut text = String::with_capacity(36);
        let _ = write!(
            text,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xffff,
            lo >> 48,
            lo & 0xffff_ffff_ffff
        );
        text
    }

    /// The index encoded in `text`, if it is an id of this kind, seed and epoch.
    pub fn decode(self, kind: IdKind, text: &str) -> Option<u64> {
        let bytes = text.as_bytes();
        if bytes.len() != 36 {
            return None;
        }
        let mut value: u128 = 0;
        for (pos, byte) in bytes.iter().enumerate() {
            if matches!(pos, 8 | 13 | 18 | 23) {
                if *byte != b'-' {
                    return None;
                }
                continue;
            }
            let digit = match byte {
                b'0'..=b'9' => byte - b'0',
                b'a'..=b'f' => byte - b'a' + 10,
                _ => return None,
            };
            value = value << 4 | u128::from(digit);
        }
        // Splitting the u128 into its halves.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "intended: the two 64-bit halves"
        )]
        let (hi, lo) = ((value >> 64) as u64, value as u64);
        if (hi >> 12) & 0xf != 4 || lo >> 62 != 0b10 {
            return None;
        }
        let v =
            (hi >> 16) << 16 | (hi & 0x0fff) << 4 | ((lo >> 60) & 0b11) << 2 | (lo >> 58) & 0b11;
        let key = self.kind_key(kind);
        if mix(v ^ key) >> 6 != lo & ((1 << 58) - 1) {
            return None;
        }
        Some(unmix(v).wrapping_sub(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmix_inverts_mix() {
        for x in [0, 1, 42, u64::MAX, 0xdead_beef_cafe_f00d] {
            assert_eq!(unmix(mix(x)), x);
        }
    }

    #[test]
    fn ids_round_trip_and_are_uuid_v4() {
        let codec = IdCodec::new(7, 0);
        for index in [0, 1, 2, 1000, u64::from(u32::MAX)] {
            let id = codec.encode(IdKind::Call, index);
            assert_eq!(id.len(), 36);
            assert_eq!(&id[14..15], "4");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
            assert_eq!(id, id.to_lowercase());
            assert_eq!(codec.decode(IdKind::Call, &id), Some(index));
            assert_eq!(codec.decode(IdKind::Batch, &id), None);
            assert_eq!(IdCodec::new(8, 0).decode(IdKind::Call, &id), None);
            assert_eq!(IdCodec::new(7, 1).decode(IdKind::Call, &id), None);
        }
        assert_eq!(
            codec.decode(IdKind::Call, "12a9767f-b865-4404-91d0-a65d4cdt78fs"),
            None
        );
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(hash_bytes(1, &[b"a", b"bc"]), hash_bytes(1, &[b"a", b"bc"]));
        assert_ne!(hash_bytes(1, &[b"ab", b"c"]), hash_bytes(1, &[b"a", b"bc"]));
        assert_ne!(hash_bytes(1, &[b"a"]), hash_bytes(2, &[b"a"]));
    }
}
