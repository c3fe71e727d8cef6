"""Generates N campaign files (valid, varied) plus their shared patient file.

Usage: python3 generate.py OUT_DIR N
"""
import os
import random
import sys

ACCENTS = ["yoruba", "hausa", "igbo", "pidgin", "twi", "swahili", "ibibio", "tiv"]
DAYS = ["weekdays", "saturday", "every_day", "monday", "friday"]

TEMPLATE = """# yaml-language-server: $schema=../../schemas/campaign.schema.json
version: 1
name: {name}
description: Generated campaign {i} for the validate benchmark
kind: robocall
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
voice:
  accent: {accent}
  gender: {gender}
round: "2026-{month:02d}"
patients:
  - file: patients.csv
    phone_column: phone
    default_country: NG
    allowed_countries: [NG]
{inline}variables:
  name: "{{{{title first_name}}}}"
  date: "{{{{date appointment_date '%A %-d %B'}}}}"
  clinic: "{{{{clinic}}}}"
defaults:
  clinic: your health centre
tags:
  patient_id: "{{{{patient_id}}}}"
exclude:
  - file: opt-outs.csv
    default_country: NG
schedule:
  timezone: Africa/Lagos
  windows:
    - days: [{day}]
      from: "{start:02d}:00"
      until: "{end:02d}:30"
  not_before: 2026-{month:02d}-01
  not_after: 2026-{month:02d}-28
delivery:
  batch_size: {batch}
  requests_per_second: {rps}
  concurrency: {conc}
  retry:
    attempts: {attempts}
    delay: {delay}
    outcomes: [no_answer]
"""

INLINE = """  - inline:
      - phone: "+23480{a:08d}"
        first_name: Ada
        patient_id: X{i}
        appointment_date: "2026-12-03"
        clinic: Yaba PHC
      - phone: "080{b:08d}"
        first_name: Bola
        patient_id: Y{i}
        appointment_date: "2026-12-04"
        clinic: Surulere PHC
    default_country: NG
"""


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "patients.csv"), "w") as f:
        f.write("patient_id,first_name,phone,appointment_date,clinic\n")
        for i in range(50):
            f.write(f"P{i},Name{i},0803{i:07d},2026-12-{1 + i % 28:02d},Clinic {i % 5}\n")
    with open(os.path.join(out, "opt-outs.csv"), "w") as f:
        f.write("phone\n08030000001\n")
    r = random.Random(42)
    for i in range(n):
        start = r.randint(7, 12)
        text = TEMPLATE.format(
            name=f"bench-campaign-{i}",
            i=i,
            accent=r.choice(ACCENTS),
            gender=r.choice(["female", "male"]),
            month=r.randint(1, 12),
            inline=INLINE.format(a=r.randint(0, 10**8 - 1), b=r.randint(0, 10**8 - 1), i=i) if i % 2 else "",
            day=r.choice(DAYS),
            start=start,
            end=start + r.randint(2, 8),
            batch=r.randint(1, 100),
            rps=r.choice([1, 2, 5]),
            conc=r.randint(1, 8),
            attempts=r.randint(1, 5),
            delay=r.choice(["30m", "2h", "1d"]),
        )
        with open(os.path.join(out, f"campaign-{i:04d}.yaml"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
