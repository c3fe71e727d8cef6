//! The countries of the voicebot's markets: their names, the time zone of their calling
//! windows and the robocall accent most of their patients would understand. `init` sets
//! campaigns up from them; `validate` turns a country's name, or a city, into the code or
//! the zone it meant.

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

/// The country a campaign meant by `given`, when it is not a code: its name (`Nigeria`), or
/// its code in the wrong case (`ng`).
pub fn code_for(given: &str) -> Option<String> {
    let given = given.trim();
    if let Some(c) = LIKELY_COUNTRIES
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(given))
    {
        return Some(c.code.to_owned());
    }
    let upper = given.to_ascii_uppercase();
    (given.len() == 2 && upper != given && upper.parse::<phonenumber::country::Id>().is_ok())
        .then_some(upper)
}

/// Cities that people write as a time zone (`Africa/Kano`), with the country whose zone they
/// are in: the IANA database names one city per zone.
const CITIES: [(&str, &str); 34] = [
    ("abuja", "NG"),
    ("kano", "NG"),
    ("ibadan", "NG"),
    ("kaduna", "NG"),
    ("port_harcourt", "NG"),
    ("benin_city", "NG"),
    ("enugu", "NG"),
    ("maiduguri", "NG"),
    ("sokoto", "NG"),
    ("jos", "NG"),
    ("ilorin", "NG"),
    ("abeokuta", "NG"),
    ("owerri", "NG"),
    ("calabar", "NG"),
    ("kumasi", "GH"),
    ("tamale", "GH"),
    ("takoradi", "GH"),
    ("mombasa", "KE"),
    ("kisumu", "KE"),
    ("nakuru", "KE"),
    ("eldoret", "KE"),
    ("cape_town", "ZA"),
    ("durban", "ZA"),
    ("pretoria", "ZA"),
    ("port_elizabeth", "ZA"),
    ("gulu", "UG"),
    ("dodoma", "TZ"),
    ("arusha", "TZ"),
    ("mwanza", "TZ"),
    ("lilongwe", "MW"),
    ("bulawayo", "ZW"),
    ("yaounde", "CM"),
    ("cotonou", "BJ"),
    ("alexandria", "EG"),
];

/// The zone a campaign meant by a zone that does not exist, when it names a country
/// (`Nigeria`, `NG`) or one of its cities (`Africa/Kano`, `Kano`), with the country's name.
pub fn zone_for(given: &str) -> Option<(&'static str, &'static str)> {
    let city = given
        .rsplit('/')
        .next()
        .unwrap_or(given)
        .trim()
        .to_ascii_lowercase()
        .replace([' ', '-'], "_");
    let code = CITIES
        .iter()
        .find(|(c, _)| *c == city)
        .map(|(_, code)| (*code).to_owned())
        .or_else(|| code_for(given))
        .or_else(|| country_info(given).map(|c| c.code.to_owned()))?;
    country_info(&code).map(|c| (c.timezone, c.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_cities_find_their_code_and_zone() {
        assert_eq!(code_for("Nigeria").as_deref(), Some("NG"));
        assert_eq!(code_for("ng").as_deref(), Some("NG"));
        assert_eq!(code_for("gh").as_deref(), Some("GH"));
        assert_eq!(code_for("NG"), None, "already a code");
        assert_eq!(code_for("zz"), None, "no such country");
        assert_eq!(code_for("Narnia"), None);
        assert_eq!(zone_for("Africa/Kano"), Some(("Africa/Lagos", "Nigeria")));
        assert_eq!(
            zone_for("Africa/Port Harcourt"),
            Some(("Africa/Lagos", "Nigeria"))
        );
        assert_eq!(zone_for("Kumasi"), Some(("Africa/Accra", "Ghana")));
        assert_eq!(zone_for("Kenya"), Some(("Africa/Nairobi", "Kenya")));
        assert_eq!(zone_for("Africa/Atlantis"), None);
        for (city, code) in CITIES {
            assert!(country_info(code).is_some(), "{city}: {code}");
            assert!(
                jiff::tz::TimeZone::get(&format!("Africa/{city}")).is_err(),
                "Africa/{city} is a real zone: it needs no hint"
            );
        }
    }
}
