//! Mutations of the corpus (bytes flipped, cut, repeated, dropped, or hostile tokens put
//! in), each through the same reader as its seed. The cases are few and the seeds small, so
//! the whole binary runs in seconds in a debug build.

use proptest::prelude::*;
use proptest::sample::Index;

use crate::cases;
use crate::corpus::files;
use crate::memory::measured;

/// Seeds larger than this are left out of mutation (they are read once, as they are, by the
/// corpus tests): a mutation of a 200 MiB zip bomb proves nothing a small seed does not.
const MAX_SEED_BYTES: u64 = 128 * 1024;

/// Bytes that open, close or break something in one of the formats.
const TOKENS: [&[u8]; 16] = [
    b"{{",
    b"}}",
    b"{{#if a}}",
    b"(",
    b"\"",
    b"'",
    b"\n",
    b"\r",
    b",",
    b"[",
    b"{",
    b"*a",
    b"&a ",
    b"\xff",
    b"\x00",
    b"PK\x03\x04",
];

/// One edit: where, what, and how far.
type Edit = (Index, u8, Index, usize);

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    proptest::collection::vec((any::<Index>(), 0u8..5, any::<Index>(), 1usize..4096), 1..6)
}

fn seeds(folders: &[&str]) -> Vec<(String, Vec<u8>)> {
    folders
        .iter()
        .flat_map(|f| files(f))
        .filter(|p| std::fs::metadata(p).unwrap().len() <= MAX_SEED_BYTES)
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn mutate(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for (at, op, pick, len) in edits {
        let i = if bytes.is_empty() {
            0
        } else {
            at.index(bytes.len())
        };
        let end = (i + len).min(bytes.len());
        match op {
            0 if !bytes.is_empty() => bytes[i] ^= 1 << (len % 8),
            1 => bytes.truncate(i),
            2 => {
                let copy = bytes[i..end].to_vec();
                bytes.splice(i..i, copy);
            }
            3 => {
                bytes.drain(i..end);
            }
            _ => {
                let token = TOKENS[pick.index(TOKENS.len())];
                bytes.splice(i..i, token.iter().copied());
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn mutated_campaign_files_never_panic_abort_or_take_1_gib(
        seed in any::<Index>(),
        edits in edits(),
    ) {
        let seeds = seeds(&["yaml"]);
        let (name, bytes) = &seeds[seed.index(seeds.len())];
        let bytes = mutate(bytes.clone(), &edits);
        measured(name, || cases::campaign_bytes(name, &bytes));
    }

    #[test]
    fn mutated_patient_files_never_panic_abort_or_take_1_gib(
        seed in any::<Index>(),
        edits in edits(),
    ) {
        let seeds = seeds(&["csv", "json", "xlsx"]);
        let (name, bytes) = &seeds[seed.index(seeds.len())];
        let bytes = mutate(bytes.clone(), &edits);
        measured(name, || cases::patient_file(name, &bytes));
    }

    #[test]
    fn mutated_templates_never_panic_abort_or_take_1_gib(
        seed in any::<Index>(),
        edits in edits(),
    ) {
        let seeds = seeds(&["templates"]);
        let (name, bytes) = &seeds[seed.index(seeds.len())];
        let text = String::from_utf8_lossy(&mutate(bytes.clone(), &edits)).into_owned();
        measured(name, || cases::template(name, &text));
    }
}
