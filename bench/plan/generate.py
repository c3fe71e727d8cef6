"""Generates a large patient CSV with realistic Nigerian numbers for the plan benchmark.

Usage: python3 generate.py OUT_DIR ROWS [--visits]

Writes OUT_DIR/patients.csv (ROWS rows: 3% invalid numbers, 2% duplicates of earlier
rows, numbers written in the formats clinics use), OUT_DIR/opt-outs.csv (1% of the
patients) and OUT_DIR/campaign.yaml. With --visits the rows also have a `next_visit` column,
a date from 15 days before today to 45 days after it (so `next_visit between today and
today + 30d` keeps about half of them), drawn from a generator of its own: the other
columns are the same with or without it.
"""
import datetime
import os
import random
import sys

PREFIXES = ["0803", "0806", "0813", "0816", "0703", "0706", "0810", "0814", "0903", "0805",
            "0807", "0815", "0811", "0705", "0905", "0802", "0808", "0812", "0701", "0902"]
FIRST = ["Adaeze", "Babatunde", "Chidi", "Damilola", "Emeka", "Funmilayo", "Garba", "Halima",
         "Ibrahim", "Jumoke", "Kelechi", "Ladi", "Musa", "Ngozi", "Obinna", "Tolu", "Zainab"]
CLINICS = ["Yaba PHC", "Surulere PHC", "Mushin PHC", "Ikeja General", "Kano Central", ""]


def fmt(local, r):
    """A number as a clinic might have typed it."""
    n = local[1:]
    style = r.randrange(5)
    if style == 0:
        return local
    if style == 1:
        return "+234" + n
    if style == 2:
        return f"+234 {n[:3]} {n[3:6]} {n[6:]}"
    if style == 3:
        return f"{local[:4]}-{local[4:7]}-{local[7:]}"
    return f"({local[:4]}) {local[4:7]} {local[7:]}"


def main():
    out, rows = sys.argv[1], int(sys.argv[2])
    visits = "--visits" in sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    r = random.Random(2026)
    v = random.Random(19)
    today = datetime.date.today()
    numbers = []
    opted = []
    with open(os.path.join(out, "patients.csv"), "w") as f:
        f.write("patient_id,first_name,phone,appointment_date,clinic"
                + (",next_visit\n" if visits else "\n"))
        for i in range(rows):
            roll = r.random()
            if roll < 0.03:
                phone = r.choice(["12345", "0803123", "+234803123456", "N/A", "0803 CALL ME", ""])
            elif roll < 0.05 and numbers:
                phone = fmt(r.choice(numbers), r)
            else:
                local = r.choice(PREFIXES) + f"{r.randrange(10**7):07d}"
                numbers.append(local)
                phone = fmt(local, r)
                if r.random() < 0.01:
                    opted.append(local)
            day = 1 + i % 28
            f.write(f"P{i:07d},{r.choice(FIRST)},{phone},2026-12-{day:02d},{r.choice(CLINICS)}")
            if visits:
                f.write(f",{today + datetime.timedelta(days=v.randrange(-15, 46))}")
            f.write("\n")
    with open(os.path.join(out, "opt-outs.csv"), "w") as f:
        f.write("phone\n")
        for n in opted:
            f.write(n + "\n")
    with open(os.path.join(out, "campaign.yaml"), "w") as f:
        f.write("""version: 1
name: bench-plan
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
voice: {accent: yoruba, gender: female}
round: "2026-12"
patients:
  - file: patients.csv
    default_country: NG
    allowed_countries: [NG]
variables:
  name: "{{title first_name}}"
  date: "{{date appointment_date '%A %-d %B'}}"
  clinic: "{{clinic}}"
defaults:
  clinic: your health centre
tags:
  patient_id: "{{patient_id}}"
exclude:
  - file: opt-outs.csv
    default_country: NG
schedule:
  timezone: Africa/Lagos
  windows: [{days: [weekdays], from: "09:00", until: "17:00"}]
delivery:
  batch_size: 100
""")


if __name__ == "__main__":
    main()
