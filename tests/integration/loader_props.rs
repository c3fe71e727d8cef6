//! Property tests: no input, however broken, makes the loader or validator panic.

use std::path::Path;

use proptest::prelude::*;

fn examples() -> Vec<String> {
    ["measles-reminder", "refill-followup", "smoke-test"]
        .iter()
        .map(|n| {
            std::fs::read_to_string(crate::root().join(format!("campaigns/{n}.yaml"))).unwrap()
        })
        .collect()
}

fn check(text: &str) {
    let base = crate::root().join("campaigns");
    let checked = outreach::validate::check_text(Path::new("fuzz.yaml"), text, &base);
    // Rendering every diagnostic must not panic either.
    let mut out = Vec::new();
    for format in [
        outreach::settings::formats::ValidateFormat::Human,
        outreach::settings::formats::ValidateFormat::Json,
        outreach::settings::formats::ValidateFormat::Junit,
        outreach::settings::formats::ValidateFormat::Github,
    ] {
        outreach::report::validation::reporter(format, false)
            .validation(std::slice::from_ref(&checked.report), &mut out)
            .unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..4, any::<char>()), 1..8),
    ) {
        let mut text = examples()[which].clone().into_bytes();
        for (at, op, c) in edits {
            if text.is_empty() { break; }
            let i = at.index(text.len());
            let mut buf = [0u8; 4];
            let c = c.encode_utf8(&mut buf).as_bytes().to_vec();
            match op {
                0 => { text.remove(i); }
                1 => { text.splice(i..i, c); }
                2 => { text[i] = b"\t:-[{&*!|>'\"#%@` \n"[i % 18]; }
                _ => { let j = (i + 40).min(text.len()); text.drain(i..j); }
            }
        }
        check(&String::from_utf8_lossy(&text));
    }
}
