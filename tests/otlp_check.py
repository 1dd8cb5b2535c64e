#!/usr/bin/env python3
"""Strict check of OTLP/JSON trace exports (files of ExportTraceServiceRequest objects, one a line).

    tests/otlp_check.py [--structure] FILE...

Field rules of the OTLP/JSON encoding (opentelemetry-proto): only known fields, lowerCamelCase
names, hex trace/span ids of the right length (lower case, not all zero), enums as integers,
64-bit integers as decimal strings, exactly one value in an AnyValue. Then SPEC §7: the resource,
the semantic conventions of server and store spans, `booking.` for our own attributes. With
--structure, each file's spans as a whole: unique ids, one root per trace (a SERVER span whose
parent is remote counts as the root), every parent and link resolves to a recorded span, a child
starts no earlier than its parent and ends no later, unless it is a CONSUMER of a PRODUCER.
Exit status 0 when everything holds; every violation is printed.
"""
import json, re, sys

FIELDS = {
    "request": {"resourceSpans"},
    "resourceSpans": {"resource", "scopeSpans", "schemaUrl"},
    "resource": {"attributes", "droppedAttributesCount"},
    "scopeSpans": {"scope", "spans", "schemaUrl"},
    "scope": {"name", "version", "attributes", "droppedAttributesCount"},
    "span": {"traceId", "spanId", "traceState", "parentSpanId", "flags", "name", "kind", "startTimeUnixNano",
             "endTimeUnixNano", "attributes", "droppedAttributesCount", "events", "droppedEventsCount", "links",
             "droppedLinksCount", "status"},
    "link": {"traceId", "spanId", "traceState", "attributes", "droppedAttributesCount", "flags"},
    "status": {"message", "code"},
    "keyValue": {"key", "value"},
    "anyValue": {"stringValue", "boolValue", "intValue", "doubleValue", "arrayValue", "kvlistValue", "bytesValue"},
}
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
UINT = re.compile(r"^[0-9]+$")
INT = re.compile(r"^-?[0-9]+$")
RESOURCE = {"service.name", "service.version", "service.instance.id", "telemetry.sdk.name",
            "telemetry.sdk.language", "telemetry.sdk.version"}
DEPRECATED = {"db.system", "db.operation", "db.statement", "db.name", "http.method", "http.status_code", "http.url",
              "http.target", "http.scheme", "http.flavor", "http.user_agent", "net.peer.ip", "net.host.name",
              "net.host.port", "net.sock.peer.addr"}
STANDARD_PREFIXES = ("http.", "url.", "server.", "client.", "user_agent.", "network.", "db.", "error.", "messaging.")
SERVER_REQUIRED = {"http.request.method", "url.path", "url.scheme", "http.route", "http.response.status_code",
                   "network.protocol.version", "server.address", "client.address"}

errors = []


def err(where, msg):
    errors.append("%s: %s" % (where, msg))


def fields(where, obj, kind):
    if not isinstance(obj, dict):
        err(where, "%s is not an object" % kind)
        return False
    for k in obj:
        if not CAMEL.match(k):
            err(where, "field %r is not lowerCamelCase" % k)
        if k not in FIELDS[kind]:
            err(where, "unknown %s field %r" % (kind, k))
    return True


def hex_id(where, v, n, name):
    if not isinstance(v, str) or len(v) != n or not re.match(r"^[0-9a-f]+$", v) or set(v) == {"0"}:
        err(where, "%s %r is not %d lower-case hex digits (not all zero)" % (name, v, n))


def any_value(where, v):
    if not fields(where, v, "anyValue"):
        return None
    if len(v) != 1:
        err(where, "AnyValue with %d values" % len(v))
        return None
    (k, x), = v.items()
    if k == "intValue":
        if not (isinstance(x, str) and INT.match(x)) and not (isinstance(x, int) and not isinstance(x, bool)):
            err(where, "intValue %r is not a decimal string" % (x,))
        return int(x)
    if k == "stringValue" and not isinstance(x, str):
        err(where, "stringValue %r is not a string" % (x,))
    if k == "boolValue" and not isinstance(x, bool):
        err(where, "boolValue %r is not a boolean" % (x,))
    if k == "doubleValue" and (isinstance(x, bool) or not isinstance(x, (int, float))):
        err(where, "doubleValue %r is not a number" % (x,))
    return x


def attributes(where, attrs):
    out = {}
    if not isinstance(attrs, list):
        err(where, "attributes is not an array")
        return out
    for a in attrs:
        if fields(where, a, "keyValue"):
            if not isinstance(a.get("key"), str) or not a["key"]:
                err(where, "attribute without key")
                continue
            if a["key"] in out:
                err(where, "duplicate attribute %r" % a["key"])
            out[a["key"]] = any_value(where + " " + a["key"], a.get("value"))
    return out


def nanos(where, v, name):
    if not (isinstance(v, str) and UINT.match(v)) and not (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
        err(where, "%s %r is not an unsigned decimal" % (name, v))
        return 0
    return int(v)


def check_span(where, s):
    if not fields(where, s, "span"):
        return None
    hex_id(where, s.get("traceId"), 32, "traceId")
    hex_id(where, s.get("spanId"), 16, "spanId")
    parent = s.get("parentSpanId", "")
    if parent != "":
        hex_id(where, parent, 16, "parentSpanId")
    if not isinstance(s.get("name"), str) or not s["name"]:
        err(where, "span without a name")
    kind = s.get("kind")
    if not isinstance(kind, int) or isinstance(kind, bool) or not 0 <= kind <= 5:
        err(where, "kind %r is not an integer enum 0..5" % (kind,))
    start = nanos(where, s.get("startTimeUnixNano"), "startTimeUnixNano")
    end = nanos(where, s.get("endTimeUnixNano"), "endTimeUnixNano")
    if end < start:
        err(where, "ends before it starts")
    status = s.get("status", {})
    code = 0
    if fields(where, status, "status"):
        code = status.get("code", 0)
        if not isinstance(code, int) or isinstance(code, bool) or not 0 <= code <= 2:
            err(where, "status code %r is not an integer enum 0..2" % (code,))
    attrs = attributes(where, s.get("attributes", []))
    links = []
    for l in s.get("links", []):
        if fields(where, l, "link"):
            hex_id(where, l.get("traceId"), 32, "link traceId")
            hex_id(where, l.get("spanId"), 16, "link spanId")
            links.append((l.get("traceId"), l.get("spanId")))
    for k in attrs:
        if k in DEPRECATED:
            err(where, "deprecated attribute %r" % k)
        elif not k.startswith("booking.") and not k.startswith(STANDARD_PREFIXES):
            err(where, "attribute %r is neither a semantic convention nor prefixed booking." % k)
    if kind == 2:
        missing = SERVER_REQUIRED - set(attrs)
        if missing:
            err(where, "server span lacks %s" % sorted(missing))
        status_code = attrs.get("http.response.status_code", 0)
        if (status_code >= 500) != ("error.type" in attrs):
            err(where, "error.type must be set exactly on 5xx (status %s)" % status_code)
        if attrs.get("network.protocol.version") not in ("1.0", "1.1"):
            err(where, "network.protocol.version %r" % attrs.get("network.protocol.version"))
    if s.get("name", "").startswith("store "):
        if kind != 3:
            err(where, "store span is not CLIENT")
        if attrs.get("db.system.name") != "sqlite" or not attrs.get("db.operation.name"):
            err(where, "store span without db.system.name=sqlite and db.operation.name")
        if (code == 2) != ("error.type" in attrs):
            err(where, "store span: error.type must be set exactly on failure")
    return {"trace": s.get("traceId"), "id": s.get("spanId"), "parent": parent, "kind": kind, "start": start,
            "end": end, "links": links, "name": s.get("name")}


def check_file(path, structure):
    spans = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = "%s:%d" % (path, n)
            try:
                req = json.loads(line)
            except ValueError as e:
                err(where, "not JSON: %s" % e)
                continue
            if not fields(where, req, "request"):
                continue
            for rs in req.get("resourceSpans", []):
                if not fields(where, rs, "resourceSpans"):
                    continue
                if fields(where, rs.get("resource"), "resource"):
                    res = attributes(where + " resource", rs["resource"].get("attributes", []))
                    if RESOURCE - set(res):
                        err(where, "resource lacks %s" % sorted(RESOURCE - set(res)))
                for ss in rs.get("scopeSpans", []):
                    if not fields(where, ss, "scopeSpans"):
                        continue
                    if "scope" in ss and fields(where, ss["scope"], "scope"):
                        attributes(where + " scope", ss["scope"].get("attributes", []))
                    for i, s in enumerate(ss.get("spans", [])):
                        r = check_span("%s span %d" % (where, i), s)
                        if r:
                            spans.append(r)
    if structure:
        check_structure(path, spans)
    return len(spans)


def check_structure(path, spans):
    by_id = {}
    for s in spans:
        key = (s["trace"], s["id"])
        if key in by_id:
            err(path, "span %s recorded twice" % s["id"])
        by_id[key] = s
    roots = {}
    for s in spans:
        where = "%s trace %s span %s (%s)" % (path, s["trace"], s["id"], s["name"])
        p = by_id.get((s["trace"], s["parent"])) if s["parent"] else None
        if not s["parent"] or (p is None and s["kind"] == 2):  # a root, or a server span with a remote parent
            roots[s["trace"]] = roots.get(s["trace"], 0) + 1
        elif p is None:
            err(where, "parent %s is not recorded" % s["parent"])
        else:
            if s["start"] < p["start"]:
                err(where, "starts %d ns before its parent" % (p["start"] - s["start"]))
            if s["end"] > p["end"] and not (s["kind"] == 5 and p["kind"] == 4):
                err(where, "ends %d ns after its parent (%s)" % (s["end"] - p["end"], p["name"]))
        for lt, ls in s["links"]:
            if (lt, ls) not in by_id:
                err(where, "link to %s/%s, which is not recorded" % (lt, ls))
    for t in {s["trace"] for s in spans}:
        if roots.get(t, 0) != 1:
            err(path, "trace %s has %d roots" % (t, roots.get(t, 0)))


def main():
    args = sys.argv[1:]
    structure = "--structure" in args
    files = [a for a in args if a != "--structure"]
    if not files:
        sys.exit(__doc__)
    total = sum(check_file(f, structure) for f in files)
    for e in errors[:50]:
        print(e)
    if len(errors) > 50:
        print("... %d more" % (len(errors) - 50))
    print("%d spans checked, %d violations" % (total, len(errors)))
    sys.exit(1 if errors or total == 0 else 0)


if __name__ == "__main__":
    main()
