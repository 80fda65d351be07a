#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Reads the Prometheus text exposition format (0.0.4) on stdin and parses it
# with the Prometheus client library's own parser
# (prometheus_client.parser.text_string_to_metric_families), then checks
# what that parser lets through: every sample follows the # TYPE line of its
# family and carries exactly that name (a counter's family is x_total, and
# so are its samples), # HELP comes first, no family twice, no series
# twice, types gauge or counter, the parser's families and values the same.
# Prints {"TYPE-name": {"type", "help", "samples": [{"labels", "value"}]}}
# as JSON, or says what is wrong on stderr and exits 1.
import json
import math
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def die(why):
    print("prom_check: " + why, file=sys.stderr)
    sys.exit(1)


def raw_families(text):
    fams, cur, helps = {}, None, {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            if name in helps:
                die("line %d: a second HELP for %s" % (n, name))
            helps[name] = line.split(" ", 3)[3] if line.count(" ") >= 3 else ""
        elif line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            if name in fams:
                die("line %d: family %s twice" % (n, name))
            if name not in helps:
                die("line %d: TYPE %s without a HELP before it" % (n, name))
            if typ not in ("gauge", "counter"):
                die("line %d: %s has type %s" % (n, name, typ))
            if typ == "counter" and not name.endswith("_total"):
                die("line %d: counter %s is not named x_total" % (n, name))
            if not NAME.match(name):
                die("line %d: bad metric name %r" % (n, name))
            cur = name
            fams[name] = {"type": typ, "help": helps[name], "series": set()}
        elif line.startswith("#") or not line:
            die("line %d: unexpected %r" % (n, line))
        else:
            name = re.split(r"[{ ]", line, 1)[0]
            if name != cur:
                die("line %d: sample %s under # TYPE %s" % (n, name, cur))
            series = line.rsplit(" ", 1)[0]
            if series in fams[cur]["series"]:
                die("line %d: series %s twice" % (n, series))
            fams[cur]["series"].add(series)
    return fams


def main():
    text = sys.stdin.read()
    if text and not text.endswith("\n"):
        die("no newline at the end")
    raw = raw_families(text)
    out = {}
    for fam in text_string_to_metric_families(text):
        name = fam.name + "_total" if fam.type == "counter" else fam.name
        if name not in raw or raw[name]["type"] != fam.type:
            die("the parser reads family %s (%s), not in the text as such" % (fam.name, fam.type))
        if len(fam.samples) != len(raw[name]["series"]):
            die("%s: the parser reads %d samples, the text has %d"
                % (name, len(fam.samples), len(raw[name]["series"])))
        for s in fam.samples:
            if s.name != name:
                die("%s: sample named %s" % (name, s.name))
            if math.isnan(s.value):
                die("%s: NaN" % name)
        out[name] = {"type": fam.type, "help": fam.documentation,
                     "samples": [{"labels": s.labels, "value": s.value} for s in fam.samples]}
    if set(out) != set(raw):
        die("families the parser did not read: %s" % sorted(set(raw) - set(out)))
    print(json.dumps(out))


main()
