#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A strict reader of one monitoring-plugins status line, after the
# development guidelines (monitoring-plugins.org/doc/guidelines.html,
# "Plugin Output" and "Performance data"):
#   NTPWALL STATUS - text[ | perfdata]
#   perfdata: 'label'=value[UOM];[warn];[crit];[min];[max] separated by spaces
#   label: any characters but = and ' (a ' doubled inside quotes); quotes
#          needed when it holds a space
#   value, min, max: [-0-9.] or U (value only); warn, crit: ranges
#   [@]start:end, start <= end, "start:" (no end), "~:" (no start), or end
#   UOM: none, s ms us % B KB MB TB c; the same for value, min and max
# Reads stdin; exactly one line (a trailing newline, nothing after it).
# Prints {"status", "text", "perf": {label: {value, uom, warn, crit, min,
# max}}} as JSON, or says what breaks the grammar on stderr and exits 1.
import json
import re
import sys

NUM = r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
RANGE = re.compile(r"^(@)?(?:(~|%s):(%s)?|(%s))$" % (NUM, NUM, NUM))
UOM = r"(?:s|ms|us|%|B|KB|MB|TB|c)?"
LABEL = r"(?:'(?:[^'=]|'')+'|[^'= ]+)"
TOKEN = re.compile(r"^(%s)=(%s|U)(%s)(?:;([^;]*)(?:;([^;]*)(?:;([^;]*)(?:;([^;]*))?)?)?)?$"
                   % (LABEL, NUM, UOM))
LINE = re.compile(r"^NTPWALL (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+?)(?: \| (.+))?$")


def die(why):
    print("nagios_check: " + why, file=sys.stderr)
    sys.exit(1)


def check_range(label, what, r):
    if r == "":
        return None
    m = RANGE.match(r)
    if not m:
        die("%s: %s threshold %r is not a range" % (label, what, r))
    if m.group(2) is not None and m.group(2) != "~" and m.group(3) is not None:
        if float(m.group(2)) > float(m.group(3)):
            die("%s: %s range %r: start above end" % (label, what, r))
    return r


def split_perf(s):
    out, cur, quoted = [], "", False
    for ch in s:
        if ch == "'":
            quoted = not quoted
        if ch == " " and not quoted:
            if cur == "":
                die("two spaces in a row in the performance data")
            out.append(cur)
            cur = ""
            continue
        cur += ch
    if quoted:
        die("unbalanced quote in the performance data")
    if cur == "":
        die("performance data ends with a space")
    out.append(cur)
    return out


def main():
    data = sys.stdin.read()
    if not data.endswith("\n") or data.count("\n") != 1:
        die("expected exactly one line, got %d: %r" % (data.count("\n"), data))
    m = LINE.match(data[:-1])
    if not m:
        die("not 'NTPWALL STATUS - text[ | perfdata]': %r" % data)
    status, text, perf = m.group(1), m.group(2), m.group(3)
    if text != text.strip() or not text:
        die("empty text or blanks around it: %r" % text)
    labels = {}
    for tok in split_perf(perf) if perf is not None else []:
        t = TOKEN.match(tok)
        if not t:
            die("performance datum %r does not follow 'label'=value[UOM];[warn];[crit];[min];[max]" % tok)
        label = t.group(1)
        if label.startswith("'"):
            label = label[1:-1].replace("''", "'")
        elif " " in label:
            die("label %r has a space but no quotes" % label)
        if label in labels:
            die("label %r twice" % label)
        for what, v in (("min", t.group(6)), ("max", t.group(7))):
            if v not in (None, "") and not re.match("^%s$" % NUM, v):
                die("%s: %s %r is not a number" % (label, what, v))
        labels[label] = {
            "value": None if t.group(2) == "U" else float(t.group(2)),
            "uom": t.group(3),
            "warn": check_range(label, "warning", t.group(4) or ""),
            "crit": check_range(label, "critical", t.group(5) or ""),
            "min": float(t.group(6)) if t.group(6) else None,
            "max": float(t.group(7)) if t.group(7) else None,
        }
    print(json.dumps({"status": status, "text": text, "perf": labels}))


main()
