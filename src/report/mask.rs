//! What printed output hides unless `--unmask`: phone numbers, and the values of variables and
//! tags whose templates read patient columns. One masker for every reporter.

use std::collections::BTreeMap;

use crate::campaign::Campaign;
use crate::plan::diff::{Field, FieldChange};

/// Masks the values of one campaign's calls.
#[derive(Debug)]
pub struct Masker {
    unmask: bool,
    /// `v:name` / `t:name` → whether the template reads patient columns.
    derived: BTreeMap<String, bool>,
}

impl Masker {
    /// The masker of a campaign's variables and tags; `unmask` shows everything.
    pub fn new(campaign: &Campaign, unmask: bool) -> Self {
        let mut derived = BTreeMap::new();
        for (prefix, map) in [("v", &campaign.variables), ("t", &campaign.tags)] {
            for (name, t) in map {
                let d =
                    crate::render::template::references(t).map_or(true, |r| !r.columns.is_empty());
                derived.insert(format!("{prefix}:{name}"), d);
            }
        }
        Masker { unmask, derived }
    }

    /// A phone number as printed.
    pub fn phone(&self, p: &str) -> String {
        phone(self.unmask, p)
    }

    /// A variable's or a tag's value as printed.
    pub fn value(&self, field: Field, name: &str, v: &str) -> String {
        let key = match field {
            Field::Variable => format!("v:{name}"),
            Field::Tag => format!("t:{name}"),
            // A key of the campaign's `languages:`, not the patient's cell.
            Field::Language => return v.to_owned(),
        };
        // A value whose template is gone (a removed variable) is masked: we cannot tell.
        if self.unmask || !self.derived.get(&key).copied().unwrap_or(true) {
            v.to_owned()
        } else {
            mask_words(v)
        }
    }

    /// A variable's value as printed.
    pub fn variable(&self, name: &str, v: &str) -> String {
        self.value(Field::Variable, name, v)
    }

    /// A tag's value as printed.
    pub fn tag(&self, name: &str, v: &str) -> String {
        self.value(Field::Tag, name, v)
    }

    /// A call's changed values, as printed: `name: Ada → ADA; tag ward: 3 → 4`.
    pub fn changes(&self, changes: &[FieldChange]) -> String {
        changes
            .iter()
            .map(|f| {
                let show = |v: &Option<String>| {
                    v.as_deref()
                        .map_or("(none)".to_owned(), |v| self.value(f.field, &f.name, v))
                };
                let name = match f.field {
                    Field::Variable => f.name.clone(),
                    Field::Tag => format!("tag {}", f.name),
                    Field::Language => "language".to_owned(),
                };
                format!("{name}: {} → {}", show(&f.before), show(&f.after))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Every value of a map, as printed.
    pub fn values(&self, field: Field, map: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        map.iter()
            .map(|(k, v)| (k.clone(), self.value(field, k, v)))
            .collect()
    }
}

/// A phone number as printed: masked unless `unmask`.
pub fn phone(unmask: bool, p: &str) -> String {
    if unmask {
        p.to_owned()
    } else {
        crate::patients::phone::mask(p.trim())
    }
}

/// `Ada Okafor` → `A*** O***`.
pub fn mask_words(text: &str) -> String {
    text.split(' ')
        .map(|w| {
            let mut chars = w.chars();
            match chars.next() {
                Some(c) => format!("{c}***"),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_first_letter() {
        assert_eq!(mask_words("Ada Okafor"), "A*** O***");
        assert_eq!(mask_words(""), "");
    }
}
