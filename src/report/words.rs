//! Words for counts, in one place: `1 call`, `2 calls`, `3 batches`.

/// `n` and the word, in the plural unless `n` is 1 (`batch` → `batches`).
pub fn plural(n: impl TryInto<u64>, word: &str) -> String {
    let n: u64 = n.try_into().unwrap_or(u64::MAX);
    if n == 1 {
        format!("{n} {word}")
    } else if word.ends_with("ch")
        || word.ends_with("sh")
        || word.ends_with('s')
        || word.ends_with('x')
    {
        format!("{n} {word}es")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(plural(1u64, "call"), "1 call");
        assert_eq!(plural(0u64, "call"), "0 calls");
        assert_eq!(plural(2u64, "batch"), "2 batches");
        assert_eq!(plural(1u64, "batch"), "1 batch");
        assert_eq!(plural(3usize, "error"), "3 errors");
    }
}
