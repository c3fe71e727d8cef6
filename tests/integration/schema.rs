//! The published schema is generated from the Rust types and must not go stale.

use crate::{outreach, root};

#[test]
fn committed_schema_matches_the_types() {
    let committed = std::fs::read_to_string(root().join("schemas/campaign.schema.json"))
        .expect("schemas/campaign.schema.json exists");
    let generated = outreach::campaign::schema::schema_text();
    assert!(
        committed == generated,
        "schemas/campaign.schema.json is stale: run `cargo run -- schema > schemas/campaign.schema.json` and commit it"
    );
}

#[test]
fn schema_command_prints_the_schema() {
    let out = outreach().arg("schema").assert().success();
    let printed = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(printed, outreach::campaign::schema::schema_text());
    let value: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(
        value["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn every_field_is_described() {
    // Editors show these descriptions on hover: a field without one is a documentation bug.
    let schema = outreach::campaign::schema::schema();
    let mut missing = Vec::new();
    let mut check = |path: String, props: &serde_json::Map<String, serde_json::Value>| {
        for (name, prop) in props {
            if prop.get("description").is_none() {
                missing.push(format!("{path}.{name}"));
            }
        }
    };
    check("campaign".into(), schema["properties"].as_object().unwrap());
    for (def, body) in schema["$defs"].as_object().unwrap() {
        if let Some(props) = body.get("properties").and_then(|p| p.as_object()) {
            check(def.clone(), props);
        }
    }
    assert!(
        missing.is_empty(),
        "fields without a description: {missing:?}"
    );
}

#[test]
fn every_example_campaign_starts_with_the_schema_modeline() {
    for entry in std::fs::read_dir(root().join("campaigns")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                text.starts_with(
                    "# yaml-language-server: $schema=../schemas/campaign.schema.json\n"
                ),
                "{} lacks the modeline",
                path.display()
            );
        }
    }
}
