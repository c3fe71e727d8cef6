"""Generates issue 21's "messy rows" for the plan benchmark: a patient CSV as clinics send it.

Usage: python3 messy.py OUT_DIR ROWS

Writes OUT_DIR/patients.csv, OUT_DIR/opt-outs.csv and OUT_DIR/campaign.yaml. Beside
generate.py's clean rows (Nigerian numbers only, names and dates already as they are spoken),
each row here needs the work a real register does:

- numbers written five ways: spaces (`0803 123 4567`), dashes (`0803-123-4567`), brackets
  (`(0803) 123 4567`), `+234 (0)803 123 4567`, and the local `08031234567`;
- 3% invalid (too short, letters, `N/A`, empty), 2% duplicates of earlier patients written
  another way, 1% opted out;
- 8% from countries whose calling code other countries share: +1 (the United States and
  Canada, 5%) and +44 (the United Kingdom, 3%, a seventh of them Jersey mobiles, which the
  campaign does not allow), written internationally;
- names in capitals, in lower case or with stray spaces (`{{title name}}` speaks them), and
  appointment dates written as `05/12/2026`, `5 Dec 2026`, `2026-12-05` or `Saturday 5
  December 2026` (`{{date appointment '%A %-d %B'}}` with `dates: {order: dmy}` reads them).
"""
import os
import random
import sys

NG_PREFIXES = ["0803", "0806", "0813", "0816", "0703", "0706", "0810", "0814", "0903", "0805",
               "0807", "0815", "0811", "0705", "0905", "0802", "0808", "0812", "0701", "0902"]
# Area codes in use: the US's (the main region of +1) and Canada's (found by leading digits).
US_AREAS = ["212", "213", "312", "415", "617", "713", "202", "305", "404", "206"]
CA_AREAS = ["416", "604", "514", "403", "613", "902"]
GB_MOBILE = ["7400", "7412", "7520", "7555", "7712", "7745", "7797"]
FIRST = ["Adaeze", "Babatunde", "Chidi", "Damilola", "Emeka", "Funmilayo", "Garba", "Halima",
         "Ibrahim", "Jumoke", "Kelechi", "Ladi", "Musa", "Ngozi", "Obinna", "Tolu", "Zainab",
         "Mary Ann", "John-Paul", "Asma'u"]
LAST = ["Okafor", "Adeyemi", "Bello", "Eze", "Ogunleye", "Abubakar", "Nwosu", "Smith", "O'Brien"]
CLINICS = ["Yaba PHC", "Surulere PHC", "Mushin PHC", "Ikeja General", "Kano Central", ""]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def ng_written(local, r):
    """A Nigerian number (`0` and ten digits) as a clinic might have typed it."""
    n = local[1:]
    style = r.randrange(5)
    if style == 0:
        return f"{local[:4]} {local[4:7]} {local[7:]}"
    if style == 1:
        return f"{local[:4]}-{local[4:7]}-{local[7:]}"
    if style == 2:
        return f"({local[:4]}) {local[4:7]} {local[7:]}"
    if style == 3:
        return f"+234 (0){n[:3]} {n[3:6]} {n[6:]}"
    return local


def foreign(r):
    """A number of a shared calling code, written internationally, and its digits."""
    roll = r.random()
    if roll < 5 / 8:
        area = r.choice(US_AREAS if roll < 3 / 8 else CA_AREAS)
        exchange = f"{r.randrange(2, 10)}{r.randrange(10)}{r.randrange(2, 10)}"
        line = f"{r.randrange(10**4):04d}"
        digits = f"+1{area}{exchange}{line}"
        return r.choice([f"+1 ({area}) {exchange}-{line}", f"+1 {area} {exchange} {line}",
                         f"+1-{area}-{exchange}-{line}"]), digits
    # Mobile ranges of the UK's numbering plan, and one of Jersey's (+44 too, found by its
    # leading digits, and not a country the campaign allows).
    mobile = f"{r.choice(GB_MOBILE)}{r.randrange(10**6):06d}"
    digits = f"+44{mobile}"
    return r.choice([f"+44 {mobile[:4]} {mobile[4:]}", f"+44 (0){mobile[:4]} {mobile[4:]}",
                     f"+44{mobile}"]), digits


def messy_name(r):
    name = f"{r.choice(FIRST)} {r.choice(LAST)}"
    style = r.randrange(4)
    if style == 0:
        return name.upper()
    if style == 1:
        return name.lower()
    if style == 2:
        return f"  {name.replace(' ', '  ')} "
    return name


def messy_date(i, r):
    day = 1 + i % 28
    weekday = WEEKDAYS[(day - 1 + 1) % 7]  # 1 December 2026 is a Tuesday
    style = r.randrange(4)
    if style == 0:
        return f"{day:02d}/12/2026"
    if style == 1:
        return f"{day} {MONTHS[11]} 2026"
    if style == 2:
        return f"2026-12-{day:02d}"
    return f"{weekday} {day} {MONTH_NAMES[11]} 2026"


def quoted(cell):
    return f'"{cell}"' if "," in cell or '"' in cell else cell


def main():
    out, rows = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    r = random.Random(2121)
    written = []  # (how it was written, a way to write it again)
    opted = []
    with open(os.path.join(out, "patients.csv"), "w") as f:
        f.write("patient_id,name,phone,appointment,clinic\n")
        for i in range(rows):
            roll = r.random()
            if roll < 0.03:
                phone = r.choice(["12345", "0803123", "+234803123456", "N/A", "0803 CALL ME", "",
                                  "+1 555 0100", "+44 20 7946"])
            elif roll < 0.05 and written:
                phone = r.choice(written)()
            else:
                if r.random() < 0.08:
                    phone, digits = foreign(r)
                    written.append(lambda d=digits: d)
                else:
                    local = r.choice(NG_PREFIXES) + f"{r.randrange(10**7):07d}"
                    phone, digits = ng_written(local, r), local
                    written.append(lambda l=local: ng_written(l, r))
                if r.random() < 0.01:
                    opted.append(digits)
            cells = [f"P{i:07d}", messy_name(r), phone, messy_date(i, r), r.choice(CLINICS)]
            f.write(",".join(quoted(c) for c in cells) + "\n")
    with open(os.path.join(out, "opt-outs.csv"), "w") as f:
        f.write("phone\n")
        for n in opted:
            f.write(n + "\n")
    with open(os.path.join(out, "campaign.yaml"), "w") as f:
        f.write("""version: 1
name: bench-messy
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
voice: {accent: yoruba, gender: female}
round: "2026-12"
patients:
  - file: patients.csv
    default_country: NG
    allowed_countries: [NG, US, CA, GB]
dates:
  order: dmy
variables:
  name: "{{title name}}"
  date: "{{date appointment '%A %-d %B'}}"
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
