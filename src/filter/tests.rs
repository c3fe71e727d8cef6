use jiff::civil::date;

use super::*;
use crate::campaign::dates::Dates;
use crate::render::dates::DateRules;

fn rules(today: jiff::civil::Date) -> DateRules {
    DateRules::new(&Dates::default(), today)
}

fn test_row(filter: &str, header: &[&str], cells: &[&str]) -> Result<bool, RowProblem> {
    let f = Filter::parse(filter).expect("parses");
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let row = csv::StringRecord::from(cells.to_vec());
    f.bind(&header).test(&row, &rules(date(2027, 3, 30)))
}

#[test]
fn relative_dates_include_both_bounds() {
    let f = "next_visit between today and today + 3d";
    for (cell, pass) in [
        ("2027-03-29", false),
        ("2027-03-30", true),
        ("2027-04-02", true),
        ("2027-04-03", false),
    ] {
        assert_eq!(test_row(f, &["next_visit"], &[cell]), Ok(pass), "{cell}");
    }
    assert_eq!(
        test_row("d < today - 1w", &["d"], &["2027-03-22"]),
        Ok(true)
    );
    assert_eq!(
        test_row("d < today - 1w", &["d"], &["2027-03-23"]),
        Ok(false)
    );
}

#[test]
fn text_numbers_lists_and_empty_cells() {
    let h = &["status", "age"];
    assert_eq!(
        test_row("status == \"active\" and age >= 18", h, &["active", "18"]),
        Ok(true)
    );
    assert_eq!(
        test_row("status == 'active' AND age >= 18", h, &["active", "17.5"]),
        Ok(false)
    );
    assert_eq!(
        test_row("status in [\"a\", \"b\"]", h, &["b", ""]),
        Ok(true)
    );
    assert_eq!(
        test_row("status not in [\"a\", \"b\"]", h, &["b", ""]),
        Ok(false)
    );
    assert_eq!(test_row("age is empty or age < 5", h, &["x", ""]), Ok(true));
    assert_eq!(test_row("not (age is not empty)", h, &["x", " "]), Ok(true));
    assert_eq!(test_row("`status` != status", h, &["x", "1"]), Ok(false));
}

#[test]
fn unreadable_cells_leave_the_row_out_without_repeating_it() {
    let problem = test_row("age >= 18", &["age"], &["1,000"]).unwrap_err();
    assert!(problem.0.contains("`age` as a number"), "{problem}");
    assert!(!problem.0.contains("1,000"));
    let problem = test_row("not (v >= today)", &["v"], &["03/04/2027"]).unwrap_err();
    assert!(!problem.0.contains("03/04"), "{problem}");
    assert!(test_row("v >= today", &["v"], &[""]).is_err());
    // A column the source lacks is never read as empty.
    assert!(test_row("not (clinic == \"x\")", &["v"], &["1"]).is_err());
}

#[test]
fn type_errors_carry_the_span_of_the_comparison() {
    let text = "status == \"a\" or today > 5";
    let e = Filter::parse(text).unwrap_err();
    assert!(e.is_type(), "{e}");
    assert_eq!(&text[e.span()], "today > 5");
    assert!(e.to_string().contains("a date with a number"), "{e}");

    for (text, at) in [
        ("age >= \"18\"", "age >= \"18\""),
        ("age", "age"),
        ("age + 3d == 5", "age + 3d == 5"),
        ("5 + 3d == today", "5"),
        ("a between 1 and today", "a between 1 and today"),
    ] {
        let e = Filter::parse(text).unwrap_err();
        assert!(e.is_type(), "{text}: {e}");
        assert_eq!(&text[e.span()], at, "{text}");
    }
}

#[test]
fn syntax_errors_and_limits() {
    for (text, at) in [
        ("status = \"a\"", "="),
        ("status == \"a", "\"a"),
        ("age >= 18 age", "age"),
        ("next_visit between today", ""),
        ("today + 3x == d", "3x"),
        ("a == $", "$"),
        ("", ""),
    ] {
        let e = Filter::parse(text).unwrap_err();
        assert!(!e.is_type(), "{text}: {e}");
        assert_eq!(&text[e.span()], at, "{text}");
    }
    let deep = format!(
        "{}a == 1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    assert!(
        Filter::parse(&deep)
            .unwrap_err()
            .to_string()
            .contains("deep")
    );
    let nots = format!("{}a == 1", "not ".repeat(10_000));
    assert!(Filter::parse(&nots).is_err());
    let long = format!("a == \"{}\"", "x".repeat(MAX_LENGTH));
    assert!(
        Filter::parse(&long)
            .unwrap_err()
            .to_string()
            .contains("long")
    );
    let ok = format!("{}a == 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(Filter::parse(&ok).is_ok());
}

#[test]
fn columns_are_listed_once_in_order() {
    let f = Filter::parse("b == 1 or a == 'x' or b == 2 or `Next Visit` >= today").unwrap();
    assert_eq!(f.columns(), ["b", "a", "Next Visit"]);
}
