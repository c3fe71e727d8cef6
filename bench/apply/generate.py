"""Writes a campaign of N patients with distinct valid Nigerian numbers for the apply benchmark.

Usage: python3 generate.py OUT_DIR N BATCH_SIZE REQUESTS_PER_SECOND CONCURRENCY

Writes OUT_DIR/patients.csv and OUT_DIR/campaign.yaml (calling window open all day, every
day, so the schedule never holds a call back).
"""
import os
import sys

PREFIXES = ["0803", "0806", "0813", "0816", "0703", "0706", "0810", "0814", "0903", "0805"]
NAMES = ["Adaeze", "Babatunde", "Chidi", "Damilola", "Emeka", "Funmilayo", "Garba", "Halima"]


def main():
    out, n, batch, rps, conc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "patients.csv"), "w") as f:
        f.write("patient_id,first_name,phone,clinic\n")
        for i in range(n):
            # Distinct numbers: the index spread over the prefixes.
            local = PREFIXES[i % len(PREFIXES)] + f"{i // len(PREFIXES):07d}"
            f.write(f"P{i:07d},{NAMES[i % len(NAMES)]},{local},Yaba PHC\n")
    with open(os.path.join(out, "campaign.yaml"), "w") as f:
        f.write(f"""version: 1
name: bench-apply
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
voice: {{accent: yoruba, gender: female}}
round: "bench"
patients:
  - file: patients.csv
    default_country: NG
    allowed_countries: [NG]
variables:
  name: "{{{{title first_name}}}}"
  clinic: "{{{{clinic}}}}"
tags:
  patient_id: "{{{{patient_id}}}}"
schedule:
  timezone: Africa/Lagos
  windows: [{{days: [every_day], from: "00:00", until: "24:00"}}]
delivery:
  batch_size: {batch}
  requests_per_second: {rps}
  concurrency: {conc}
""")


if __name__ == "__main__":
    main()
