#!/usr/bin/env python3
"""Writes the hostile corpus of tests/hostile (issue 14): one small file per trap, per reader.

Run from this folder (`python3 generate.py`); the output is committed and the tests read it,
so this script runs only when the corpus changes. Deterministic: no randomness, fixed zip
timestamps. Each file's name says what it holds.
"""
import os
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(folder, name, data):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(HERE, folder, name), "wb") as f:
        f.write(data)


CAMPAIGN = """version: 1
name: hostile
workflow_id: 9b643eb4-0799-4761-bd34-9580eb315aaf
patients:
  - inline:
      - phone: "+2348031110000"
        name: Ada
    default_country: NG
variables:
  name: "{{name}}"
schedule:
  timezone: Africa/Lagos
  windows: [{days: [every_day], from: "08:00", until: "20:00"}]
"""

# --- YAML: campaign files -------------------------------------------------------------------
laughs = ['lol: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
for i in range(1, 10):
    prev = f"*a{i - 1}"
    laughs.append(f"l{i}: &a{i} [{', '.join([prev] * 9)}]")
yaml = {
    "alias-bomb.yaml": "version: 1\n" + "\n".join(laughs) + "\nname: *a9\n",
    "alias-bomb-in-variables.yaml": CAMPAIGN.replace(
        'variables:\n  name: "{{name}}"', "variables:\n  x: &x [" + ", ".join(["*y"] * 3) + "]\n"
    ).replace("version: 1\n", "version: 1\nanchors:\n  - &y [" + ", ".join(['"z"'] * 50) + "]\n"),
    "deep-block-sequence.yaml": "- " * 20_000 + "1\n",
    "deep-flow-sequence.yaml": "[" * 50_000 + "\n",
    "deep-flow-mapping.yaml": "{a: " * 20_000 + "1" + "}" * 20_000 + "\n",
    "deep-block-mapping.yaml": "".join(" " * i + "k:\n" for i in range(300)),
    "huge-scalar.yaml": CAMPAIGN.replace("name: hostile", "name: " + "x" * 300_000),
    "long-line.yaml": CAMPAIGN.replace("name: hostile", 'name: "' + "é" * 70_000 + '"'),
    "long-key.yaml": CAMPAIGN + "? " + "k" * 70_000 + "\n: 1\n",
    "invalid-utf8.yaml": CAMPAIGN.encode().replace(b"hostile", b"host\xff\xfeile"),
    "surrogate-bytes.yaml": CAMPAIGN.encode().replace(b"hostile", b"\xed\xa0\x80"),
    "nul.yaml": CAMPAIGN.encode().replace(b"hostile", b"host\x00ile"),
    "bom.yaml": b"\xef\xbb\xbf" + CAMPAIGN.encode(),
    "double-bom.yaml": b"\xef\xbb\xbf\xef\xbb\xbf" + CAMPAIGN.encode(),
    "utf16le-bom.yaml": b"\xff\xfe" + CAMPAIGN.encode("utf-16-le"),
    "utf16be.yaml": CAMPAIGN.encode("utf-16-be"),
    "unclosed-double-quote.yaml": CAMPAIGN.replace('"{{name}}"', '"{{name}}'),
    "unclosed-single-quote.yaml": "version: 1\nname: 'never closed\nworkflow_id: x\n",
    "unclosed-flow.yaml": CAMPAIGN.replace('windows: [{days: [every_day], from: "08:00", until: "20:00"}]', 'windows: [{days: [every_day'),
    "tabs.yaml": CAMPAIGN.replace("  ", "\t"),
    "cr-only.yaml": CAMPAIGN.replace("\n", "\r"),
    "crlf-mixed.yaml": CAMPAIGN.replace("\n", "\r\n", 5),
    "multi-document.yaml": CAMPAIGN + "---\n" + CAMPAIGN + "...\n---\n",
    "directive.yaml": "%YAML 1.1\n%TAG ! tag:evil:\n---\n" + CAMPAIGN,
    "tags.yaml": CAMPAIGN.replace("name: hostile", "name: !!binary aG9zdGlsZQ==").replace(
        "version: 1", "version: !custom 1"
    ),
    "merge-keys.yaml": "base: &b {a: 1}\n" + CAMPAIGN + "".join(f"m{i}: {{<<: [*b, *b, *b]}}\n" for i in range(200)),
    "duplicate-keys.yaml": CAMPAIGN + "name: again\nname: and again\n",
    "many-anchors.yaml": CAMPAIGN + "".join(f"a{i}: &n{i} {i}\n" for i in range(5000)),
    "many-nodes.yaml": CAMPAIGN + "big: [" + ",".join(["1"] * 120_000) + "]\n",
    "huge-numbers.yaml": CAMPAIGN.replace("version: 1", "version: 1" + "0" * 400)
    + "delivery:\n  batch_size: 1e400\n  requests_per_second: -0x8000000000000000000\n",
    "escapes.yaml": CAMPAIGN.replace(
        "name: hostile", 'name: "\\e[31mred\\e[0m \\u202eevil\\u202c \\0 \\x07 \\U0010FFFF \\ud800"'
    ),
    "control-characters.yaml": CAMPAIGN.replace("hostile", "ho\x1b[2Jst\x07ile\x7f\u202e"),
    "complex-keys.yaml": CAMPAIGN + "? [a, b]\n: 1\n? {c: d}\n: 2\n",
    "empty.yaml": "",
    "only-bom.yaml": b"\xef\xbb\xbf",
    "only-nul.yaml": b"\x00" * 64,
    "only-newlines.yaml": "\n" * 10_000,
    "binary.yaml": bytes(range(256)) * 8,
    "root-scalar.yaml": '"just a string"\n',
    "template-bomb.yaml": CAMPAIGN.replace('"{{name}}"', '"' + "{{#if a}}" * 2000 + "x" + "{{/if}}" * 2000 + '"'),
    "source-recursion.yaml": CAMPAIGN.replace(
        "  - inline:\n      - phone: \"+2348031110000\"\n        name: Ada\n",
        "  - file: source-recursion.yaml\n    format: csv\n",
    ),
}
for name, data in yaml.items():
    write("yaml", name, data)

# --- CSV: patient files ---------------------------------------------------------------------
csv = {
    "good.csv": "phone,name\n+2348031110000,Ada\n",
    "ragged.csv": "phone,name\n+2348031110000\n+2348031110001,Bola,extra,more\n,\n+2348031110002,Chi\n",
    "unclosed-quote.csv": 'phone,name\n"+2348031110000,Ada\n+2348031110001,Bola\n',
    "unclosed-quote-in-header.csv": '"phone,name\n+2348031110000,Ada\n',
    "quote-inside-field.csv": 'phone,name\n+2348031110000,A"d"a\n"+234803111"0001",Bola\n',
    "invalid-utf8.csv": b"phone,name\n+2348031110000,\xff\xfeAda\n",
    "invalid-utf8-header.csv": b"ph\xffone,name\n+2348031110000,Ada\n",
    "nul.csv": b"phone,name\n+2348031110000,A\x00da\n\x00\x00\x00\n",
    "bom.csv": b"\xef\xbb\xbfphone,name\n+2348031110000,Ada\n",
    "utf16le-bom.csv": b"\xff\xfe" + "phone,name\n+2348031110000,Ada\n".encode("utf-16-le"),
    "empty.csv": "",
    "header-only.csv": "phone,name\n",
    "blank-header.csv": ",,,\n+2348031110000,Ada\n",
    "only-newlines.csv": "\n" * 10_000,
    "cr-only.csv": "phone,name\r+2348031110000,Ada\r+2348031110001,Bola\r",
    "wide-header.csv": ",".join(f"c{i}" for i in range(10_001)) + "\nx\n",
    "long-runs-of-commas.csv": "phone,name\n" + ("+2348031110000" + "," * 20_000 + "\n") * 5,
    "long-record.csv": 'phone,name\n+2348031110000,Ada\n"' + "9" * (1024 * 1024 + 10) + '"\n+2348031110001,Bola\n',
    "binary.csv": bytes(range(256)) * 8,
    "control-characters.csv": "phone,name\n+2348031110000,\x1b[2J\x07\u202eAda\n",
    "formula-injection.csv": "phone,name\n+2348031110000,=HYPERLINK(\"http://x\")\n+2348031110001,@SUM(A1)\n",
    "duplicate-columns.csv": "phone,phone,name,name\n+2348031110000,+2348031110001,Ada,Bola\n",
}
for name, data in csv.items():
    write("csv", name, data)

# --- JSON and NDJSON: patient files ---------------------------------------------------------
json = {
    "good.json": '[{"phone": "+2348031110000", "name": "Ada"}]',
    "deep-array.json": "[" * 100_000 + "]" * 100_000,
    "deep-array-unclosed.json": "[" * 100_000,
    "deep-in-record.json": '[{"phone": "+2348031110000", "name": ' + "[" * 100_000 + "]" * 100_000 + "}]",
    "deep-object.json": '[{"a":' * 50_000 + "1" + "}" * 50_000,
    "object-root.json": '{"phone": "+2348031110000"}',
    "scalar-records.json": '[1, "x", null, true, {"phone": "+2348031110000", "name": "Ada"}]',
    "trailing-garbage.json": '[{"phone": "+2348031110000", "name": "Ada"}] and more',
    "truncated.json": '[{"phone": "+2348031110000", "name": "Ad',
    "invalid-utf8.json": b'[{"phone": "+2348031110000", "name": "\xff\xfe"}]',
    "nul.json": b'[{"phone": "+2348031110000", "name": "A\x00da"}]',
    "bom.json": b'\xef\xbb\xbf[{"phone": "+2348031110000", "name": "Ada"}]',
    "huge-numbers.json": '[{"phone": 1e999999, "name": 123456789012345678901234567890123456789}]',
    "duplicate-keys.json": '[{"phone": "+2348031110000", "phone": "+2348031110001", "name": "Ada"}]',
    "many-keys.json": "[{" + ",".join(f'"k{i}": 1' for i in range(10_001)) + "}]",
    "lone-surrogate.json": '[{"phone": "+2348031110000", "name": "\\ud800\\udfff\\ud800"}]',
    "nested-cells.json": '[{"phone": {"a": [1, 2, {"b": null}]}, "name": ["Ada"]}]',
    "empty.json": "",
    "empty-array.json": "[]",
    "whitespace.json": " \n\t" * 1000,
    "binary.json": bytes(range(256)) * 8,
    "bad-lines.ndjson": b'{"phone": "+2348031110000", "name": "Ada"}\n[1]\nnot json\n\xff\xfe\n{"phone": \n\n{"phone": "+2348031110001", "name": "Bola"}\n',
    "deep-line.ndjson": "[" * 100_000 + "\n" + '{"phone": "+2348031110000", "name": "Ada"}\n',
    "nul.ndjson": b'\x00\x00\n{"phone": "+2348031110000", "name": "Ada"}\n',
}
for name, data in json.items():
    write("json", name, data)

# --- XLSX: spreadsheets ---------------------------------------------------------------------
CONTENT_TYPES = b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
RELS = b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
WORKBOOK = b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Patients" sheetId="1" r:id="rId1"/></sheets></workbook>'
WORKBOOK_RELS = b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def cells(rows):
    out = b"<sheetData>"
    for r, row in rows:
        out += f'<row r="{r}">'.encode()
        for at, value in row:
            out += f'<c r="{at}" t="inlineStr"><is><t>{value}</t></is></c>'.encode()
        out += b"</row>"
    return out + b"</sheetData>"


GOOD_ROWS = [(1, [("A1", "phone"), ("B1", "name")]), (2, [("A2", "+2348031110000"), ("B2", "Ada")])]


def xlsx(name, sheet, extra=(), workbook=WORKBOOK, level=9):
    path = os.path.join(HERE, "xlsx", name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
        for part, data in [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", RELS),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
            ("xl/worksheets/sheet1.xml", sheet),
            *extra,
        ]:
            info = zipfile.ZipInfo(part, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


xlsx("good.xlsx", SHEET_HEAD + cells(GOOD_ROWS) + b"</worksheet>")
xlsx("far-corner.xlsx", SHEET_HEAD + cells(GOOD_ROWS + [(1048576, [("XFD1048576", "x")])]) + b"</worksheet>")
xlsx(
    "dimension-lie.xlsx",
    SHEET_HEAD + b'<dimension ref="A1:XFD1048576"/>' + cells(GOOD_ROWS) + b"</worksheet>",
)
xlsx("bad-references.xlsx", SHEET_HEAD + cells([(1, [("A1", "phone")]), (0, [("A0", "x"), ("ZZZZZ9", "y")]), (4294967296, [("A4294967296", "z")])]) + b"</worksheet>")
xlsx(
    "shared-strings-count.xlsx",
    SHEET_HEAD
    + b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>4294967295</v></c></row></sheetData></worksheet>',
    extra=[(
        "xl/sharedStrings.xml",
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4294967295" uniqueCount="4294967295"><si><t>phone</t></si></sst>',
    )],
)
xlsx("entity-expansion.xlsx", b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>' + SHEET_HEAD[len(b'<?xml version="1.0" encoding="UTF-8"?>'):] + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&d;&d;&d;</t></is></c></row></sheetData></worksheet>')
xlsx("deep-xml.xlsx", SHEET_HEAD + b"<sheetData>" + b"<row>" * 50_000 + b"</sheetData></worksheet>")
xlsx("no-sheets.xlsx", SHEET_HEAD + b"</worksheet>", workbook=WORKBOOK.replace(b'<sheet name="Patients" sheetId="1" r:id="rId1"/>', b""))
# A zip bomb with honest sizes: 201 MiB of blanks in the sheet, a few hundred KiB packed.
xlsx("bomb.xlsx", SHEET_HEAD + cells(GOOD_ROWS) + b" " * (201 * 1024 * 1024) + b"</worksheet>")
write("xlsx", "not-a-zip.xlsx", "phone,name\n+2348031110000,Ada\n")
write("xlsx", "empty.xlsx", b"")
with open(os.path.join(HERE, "xlsx", "good.xlsx"), "rb") as f:
    good = f.read()
write("xlsx", "truncated.xlsx", good[: len(good) // 2])
write("xlsx", "zip-magic-only.xlsx", b"PK\x03\x04" + b"\x00" * 60)

# --- Templates: one per file, as a campaign's variable would hold it --------------------------
templates = {
    "nested-blocks-2000.hbs": "{{#if a}}" * 2000 + "x" + "{{/if}}" * 2000,
    "nested-subexpressions-3000.hbs": "{{upper " + "(upper " * 3000 + "name" + ")" * 3000 + "}}",
    "nested-each-40.hbs": "{{#each a}}" * 40 + "x" + "{{/each}}" * 40,
    "else-chain-2000.hbs": "{{#if a}}a" + "{{else if b}}b" * 2000 + "{{/if}}",
    "expressions-16000.hbs": "{{name}}" * 16_000,
    "over-the-length.hbs": "x" * 4001,
    "unclosed-mustache.hbs": "Hello {{name",
    "unclosed-block.hbs": "{{#if name}} hello",
    "unopened-close.hbs": "hello {{/if}}",
    "mismatched-blocks.hbs": "{{#if name}}{{#each x}}{{/if}}{{/each}}",
    "unclosed-comment.hbs": "{{!-- never closed {{name}}",
    "unclosed-raw-block.hbs": "{{{{raw}}}} {{name}}",
    "partial.hbs": "{{> evil}}",
    "partial-block.hbs": "{{#> layout}}x{{/layout}}",
    "decorator.hbs": "{{* inline}}",
    "this.hbs": "Hello {{this}}",
    "root-and-parents.hbs": "{{@root}} {{../../../../name}} {{@index}} {{./name}}",
    "brackets.hbs": '{{[a[b]]}} {{lookup this "x"}} {{upper [}}',
    "deep-literal.hbs": "{{upper " + "[" * 3000 + "}}",
    "deep-hash.hbs": "{{upper a=" + "(upper b=" * 3000 + "x" + ")" * 3000 + "}}",
    "string-literals.hbs": '{{upper "' + "\\" * 3000 + '"}} {{upper "never closed}}',
    "control-characters.hbs": "Hello \x1b[2J\x07\u202e{{name}}\x00",
    "unknown-helpers.hbs": "".join(f"{{{{h{i} name}}}}" for i in range(500)),
    "triple-stash.hbs": "{{{name}}} {{{{name}}}} {{{{{name}}}}}",
    "whitespace-control.hbs": "{{~name~}}{{~#if a~}}{{~/if~}}",
    "empty.hbs": "",
    "only-mustaches.hbs": "{{" * 4000,
}
for name, data in templates.items():
    write("templates", name, data)
