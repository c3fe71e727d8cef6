#!/usr/bin/env python3
"""The plan a programme's data person would write without outreach (issue 21's baseline).

Reads the rows of bench/plan/messy.py (its patients.csv and opt-outs.csv) and does what
`outreach plan` does with its campaign.yaml, the way a careful Python script would:
`phonenumbers` for the numbers (default region NG; valid numbers of NG, US, CA and GB only),
duplicates dropped by E.164 number, the opt-out list subtracted, the names spoken in title
case and the dates read day-first and written `%A %-d %B`, with Jinja2 rendering the three
variables, and the calls written as a JSON plan in batches of 100 with the skipped rows
counted by reason. It does not do what outreach does beyond that (calling windows, the
settings a reviewer compares, saved-plan verification): the comparison flatters it.

Usage: python3 bench/plan/python_plan.py DIR OUT.json
"""
import csv
import json
import sys
from datetime import datetime

import jinja2
import phonenumbers

ALLOWED = {"NG", "US", "CA", "GB"}
DATE_FORMATS = ["%d/%m/%Y", "%d %b %Y", "%Y-%m-%d", "%A %d %B %Y"]


def e164(text, region="NG"):
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, "invalid-phone"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid-phone"
    if phonenumbers.region_code_for_number(number) not in ALLOWED:
        return None, "country-not-allowed"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def spoken_date(text):
    for fmt in DATE_FORMATS:
        try:
            d = datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return f"{d:%A} {d.day} {d:%B}"
    raise ValueError(f"not a date: {text!r}")


def main():
    folder, out = sys.argv[1], sys.argv[2]
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    env.filters["spoken_date"] = spoken_date
    env.filters["spoken_name"] = lambda s: " ".join(w.capitalize() for w in s.split())
    variables = {
        "name": env.from_string("{{ name | spoken_name }}"),
        "date": env.from_string("{{ appointment | spoken_date }}"),
        "clinic": env.from_string("{{ clinic or 'your health centre' }}"),
    }
    opted = set()
    with open(f"{folder}/opt-outs.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            number, _ = e164(row["phone"])
            if number:
                opted.add(number)
    seen, calls, skipped = set(), [], {}
    with open(f"{folder}/patients.csv", newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            phone = row["phone"].strip()
            if not phone:
                reason = "missing-phone"
            else:
                number, reason = e164(phone)
                if number in opted:
                    reason = "opted-out"
                elif number in seen:
                    reason = "duplicate"
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
                continue
            seen.add(number)
            calls.append({
                "row": line,
                "phone": number,
                "variables": {k: t.render(row) for k, t in variables.items()},
                "tags": {"patient_id": row["patient_id"]},
            })
    batches = [{"calls": calls[i:i + 100]} for i in range(0, len(calls), 100)]
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"batches": batches, "skipped": skipped}, f)
    print(json.dumps({"calls": len(calls), "batches": len(batches), "skipped": skipped}))


if __name__ == "__main__":
    main()
