"""RFC 8785 canonical JSON: fixed vectors, and (when ANCHORLOG_JCS_VECTORS names a
file) vectors produced by the TypeScript canonicaliser (src/core/canonical.ts)."""

import json
import os
import unittest

from anchorlog.jcs import canonical_bytes


class CanonicalTest(unittest.TestCase):
    def test_fixed_vectors(self):
        cases = [
            ({"b": 1, "a": [True, None, "x\n\u2028"]}, '{"a":[true,null,"x\\n\u2028"],"b":1}'),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (0.000001, "0.000001"),
            (-0.0, "0"),
            (123.456, "123.456"),
            (100.0, "100"),
            ("\u0000\u001f\"\\", '"\\u0000\\u001f\\"\\\\"'),
            # UTF-16 order: U+E000 sorts after the surrogate pair of U+1F600
            ({"\ue000": 1, "\U0001F600": 2}, '{"\U0001F600":2,"\ue000":1}'),
        ]
        for value, expected in cases:
            self.assertEqual(canonical_bytes(value), expected.encode("utf-8"), value)

    def test_refuses_values_without_a_json_form(self):
        for bad in [float("nan"), float("inf"), "\ud800", {1: 2}, 2**53, object()]:
            with self.assertRaises(ValueError):
                canonical_bytes(bad)

    def test_matches_the_typescript_canonicaliser(self):
        path = os.environ.get("ANCHORLOG_JCS_VECTORS")
        if not path:
            self.skipTest("ANCHORLOG_JCS_VECTORS not set (run from test/sdk/python.test.ts)")
        with open(path, encoding="utf-8") as f:
            vectors = json.load(f)
        self.assertGreater(len(vectors), 0)
        for v in vectors:
            self.assertEqual(canonical_bytes(json.loads(v["json"])).decode("utf-8"), v["canonical"])


if __name__ == "__main__":
    unittest.main()
