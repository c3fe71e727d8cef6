//! The countries `init` knows how to set up: the time zone of their calling windows and the
//! robocall accent most of their patients would understand.

/// A country `init` knows how to set up: its name (for messages), the time zone of its
/// calling windows, and the robocall accent most of its patients would understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    pub code: &'static str,
    pub name: &'static str,
    pub timezone: &'static str,
    pub accent: &'static str,
}

const fn c(
    code: &'static str,
    name: &'static str,
    timezone: &'static str,
    accent: &'static str,
) -> Country {
    Country {
        code,
        name,
        timezone,
        accent,
    }
}

/// The countries tried for local numbers, most likely first (the voicebot's markets).
pub const LIKELY_COUNTRIES: [Country; 21] = [
    c("NG", "Nigeria", "Africa/Lagos", "pidgin"),
    c("GH", "Ghana", "Africa/Accra", "twi"),
    c("KE", "Kenya", "Africa/Nairobi", "swahili"),
    c("ZA", "South Africa", "Africa/Johannesburg", "zulu"),
    c("UG", "Uganda", "Africa/Kampala", "luganda"),
    c("TZ", "Tanzania", "Africa/Dar_es_Salaam", "swahili"),
    c("RW", "Rwanda", "Africa/Kigali", "kinyarwanda"),
    c("ZM", "Zambia", "Africa/Lusaka", "chichewa"),
    c("ZW", "Zimbabwe", "Africa/Harare", "shona"),
    c("MW", "Malawi", "Africa/Blantyre", "chichewa"),
    c("ET", "Ethiopia", "Africa/Addis_Ababa", "amharic"),
    c("CM", "Cameroon", "Africa/Douala", "french"),
    c("SN", "Senegal", "Africa/Dakar", "french"),
    c("CI", "Côte d'Ivoire", "Africa/Abidjan", "french"),
    c("BJ", "Benin", "Africa/Porto-Novo", "french"),
    c("TG", "Togo", "Africa/Lome", "french"),
    c("SL", "Sierra Leone", "Africa/Freetown", "pidgin"),
    c("LR", "Liberia", "Africa/Monrovia", "pidgin"),
    c("GM", "Gambia", "Africa/Banjul", "pidgin"),
    c("EG", "Egypt", "Africa/Cairo", "arabic"),
    c("MA", "Morocco", "Africa/Casablanca", "arabic"),
];

/// What `init` knows about a country code, if anything.
pub fn country_info(code: &str) -> Option<&'static Country> {
    LIKELY_COUNTRIES.iter().find(|c| c.code == code)
}

/// `Nigeria (NG)`, or the bare code for a country `init` has no name for.
pub fn country_label(code: &str) -> String {
    country_info(code).map_or_else(|| code.to_owned(), |c| format!("{} ({code})", c.name))
}
