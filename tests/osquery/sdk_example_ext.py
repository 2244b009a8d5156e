#!/usr/bin/env python3
"""An extension written with osquery's Python SDK (PyPI `osquery`), used to
check the test manager itself against an implementation that is not
embargo's: `osquery.TablePlugin` + `osquery.start_extension`.

Table `sdk_example`: three fixed rows (below) and the context JSON each
`generate` received, so a test can see what the manager sent.
"""

import json

import osquery

ROWS = [
    {"name": "alpha", "count": "1", "size": "1000000000000", "ratio": "0.5"},
    {"name": "beta", "count": "0x10", "size": "", "ratio": "x"},
    {"name": "gamma", "count": "010", "ratio": "2"},  # size absent: NULL
]


@osquery.register_plugin
class SdkExample(osquery.TablePlugin):
    def name(self):
        return "sdk_example"

    def columns(self):
        return [
            osquery.TableColumn(name="name", type=osquery.STRING),
            osquery.TableColumn(name="count", type=osquery.INTEGER),
            osquery.TableColumn(name="size", type="BIGINT"),
            osquery.TableColumn(name="ratio", type="DOUBLE"),
            osquery.TableColumn(name="context", type=osquery.STRING),
        ]

    def generate(self, context):
        rows = [dict(r) for r in ROWS]
        for r in rows:
            r["context"] = json.dumps(context, sort_keys=True)
        return rows


if __name__ == "__main__":
    osquery.start_extension(name="sdk_example_ext", version="1.0.0")
