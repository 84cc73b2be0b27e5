#!/usr/bin/env python3
"""The outside witness for timeline order: given the rows pyvelociraptor read from each source (in the order the tool
reports its sources), print the order a unified timeline must have — one event per row with a CreateTime, sorted by
time, equal times in source order then row order (docs/analysis.md). Written apart from the TypeScript build, merge,
spill and page-cache code it checks, with its own RFC 3339 reader (Go's RFC3339Nano as Velociraptor encodes
time.Time: UTC "Z", fraction trimmed of trailing zeros, none when whole).

Input (argv[1]): {"sources": [{"client_id": str, "rows": [row, ...]}, ...]}
Output (stdout): [[client_id, Pid, microseconds since the epoch], ...]
"""
import calendar
import json
import re
import sys

RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")
# The tool's documented range for a plausible event time: 1995-01-01 (inclusive) to 2100-01-01 (exclusive).
LOW = calendar.timegm((1995, 1, 1, 0, 0, 0)) * 1_000_000
HIGH = calendar.timegm((2100, 1, 1, 0, 0, 0)) * 1_000_000


def micros(text):
    m = RFC3339.match(text) if isinstance(text, str) else None
    if not m:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    whole = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s)))
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        whole -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    us = whole * 1_000_000 + int((frac or "").ljust(6, "0")[:6] or "0")
    return us if LOW <= us < HIGH else None


def main():
    with open(sys.argv[1], encoding="utf8") as f:
        sources = json.load(f)["sources"]
    events = []
    for s_idx, source in enumerate(sources):
        for r_idx, row in enumerate(source["rows"]):
            us = micros(row.get("CreateTime"))
            if us is not None:
                events.append((us, s_idx, r_idx, source["client_id"], row["Pid"]))
    events.sort()
    json.dump([[e[3], e[4], e[0]] for e in events], sys.stdout)


if __name__ == "__main__":
    main()
