"""The Python client against a real ingest server (started by
test/sdk/python.test.ts, which passes ANCHORLOG_TEST_API_URL and an Ed25519
key it registered for the submitter in ANCHORLOG_TEST_KEY_PEM), and the spool
on its own."""

import json
import os
import tempfile
import unittest

from anchorlog import AuditClient, Spool, SpoolFullError, ed25519_signer, p256_signer

API = os.environ.get("ANCHORLOG_TEST_API_URL")
KEY = os.environ.get("ANCHORLOG_TEST_KEY_PEM")
P256_KEY = os.environ.get("ANCHORLOG_TEST_P256_KEY_PEM")


def event(n):
    return {
        "occurredAt": "2026-03-01T11:00:00.000Z",
        "actor": {"type": "service", "id": "py-svc"},
        "action": "tool.call",
        "outcome": "success",
        "metadata": {"n": n, "sdk": "python", "ratio": 0.25},
    }


class SpoolTest(unittest.TestCase):
    def test_torn_tail_restart_and_numbering(self):
        with tempfile.TemporaryDirectory() as d:
            s = Spool(d, "py/host-1")
            self.assertEqual([e["seq"] for e in s.append_many([event(1), event(2)])], [1, 2])
            seg = [n for n in os.listdir(d) if n.startswith("seg-")][0]
            with open(os.path.join(d, seg), "a") as f:
                f.write('{"seq":3,"event":{"occ')
            s2 = Spool(d, "py/host-1")
            self.assertEqual(s2.stats["torn_lines_dropped"], 1)
            self.assertEqual([e["seq"] for e in s2.entries], [1, 2])
            self.assertEqual(s2.append_many([event(3)])[0]["event"]["id"], "py/host-1:0:3")
            s2.ack(3)
            s3 = Spool(d, "py/host-1")
            self.assertEqual(s3.entries, [])
            self.assertEqual(s3.append_many([event(4)])[0]["seq"], 4)
            with self.assertRaises(ValueError):
                Spool(d, "other")

    def test_bounded(self):
        with tempfile.TemporaryDirectory() as d:
            s = Spool(d, "py/host-1", max_bytes=1500)
            with self.assertRaises(SpoolFullError):
                for i in range(100):
                    s.append_many([event(i)])
            self.assertEqual(s.stats["overflows"], 1)
            self.assertEqual(len(Spool(d, "py/host-1").entries), len(s.entries))


@unittest.skipUnless(API and KEY, "ANCHORLOG_TEST_API_URL / ANCHORLOG_TEST_KEY_PEM not set")
class ClientTest(unittest.TestCase):
    def test_down_then_up_signed_exactly_once(self):
        signer = ed25519_signer(KEY.encode("ascii"))
        with tempfile.TemporaryDirectory() as d:
            # Down: nothing listens on port 9 of localhost; events stay spooled.
            down = AuditClient("http://127.0.0.1:9", "k", "tenant-a", d, "py/host-1", signer=signer, timeout=1)
            down.append_many([event(i) for i in range(1, 11)])
            with self.assertRaises(TimeoutError):
                down.flush(timeout=0.3)
            self.assertEqual(len(down.spool.entries), 10)
            # Up: a new client on the same spool delivers all of them, in a background thread.
            up = AuditClient(API, "k", "tenant-a", d, "py/host-1", signer=signer)
            up.start()
            up.append_many([event(i) for i in range(11, 16)])
            up.close(flush=True, timeout=30)
            self.assertEqual(up.spool.entries, [])
            self.assertEqual(up.stats["delivered"], 15)
            # A restart after everything was acknowledged sends nothing again.
            again = AuditClient(API, "k", "tenant-a", d, "py/host-1", signer=signer)
            again.flush(timeout=5)
            self.assertEqual(again.stats["requests"], 0)
            # A refused event is kept in rejected.jsonl and the stream moves on.
            bad = dict(event(99), outcome="maybe")
            again.append_many([bad, event(17)])
            again.flush(timeout=30)
            with open(os.path.join(d, "rejected.jsonl")) as f:
                rejected = [json.loads(line) for line in f]
            self.assertEqual([r["seq"] for r in rejected], [16])
            self.assertEqual(rejected[0]["error"]["code"], "BAD_REQUEST")

    @unittest.skipUnless(P256_KEY, "ANCHORLOG_TEST_P256_KEY_PEM not set")
    def test_p256_signed(self):
        signer = p256_signer(P256_KEY.encode("ascii"))
        self.assertEqual(signer.alg, "ES256")
        with self.assertRaises(ValueError):
            p256_signer(KEY.encode("ascii"))
        with tempfile.TemporaryDirectory() as d:
            client = AuditClient(API, "k", "tenant-a", d, "py/p256", signer=signer)
            client.append_many([event(i) for i in range(1, 6)])
            client.flush(timeout=30)
            self.assertEqual(client.stats["delivered"], 5)
            self.assertEqual(client.stats["rejected"], 0)


if __name__ == "__main__":
    unittest.main()


class AcceptedModeTest(unittest.TestCase):
    """A 202 acknowledges the entries and keeps the accept id; receipts() reads them later."""

    def test_202_acks_and_receipts(self):
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        seen = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers["content-length"]))
                seen.append(("POST", self.headers.get("prefer")))
                body = json.dumps({"accepted": {"id": "acc-1", "count": 2}}).encode()
                self.send_response(202)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                seen.append(("GET", self.path))
                body = json.dumps({"receipts": {"acc-1": [{"index": 0}, {"index": 1}]}, "pending": []}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with tempfile.TemporaryDirectory() as d:
                c = AuditClient(f"http://127.0.0.1:{server.server_port}", "k", "demo", d, "py/h", wait=0)
                c.append_many([event(1), event(2)])
                c.flush(timeout=5)
                self.assertEqual(c.spool.entries, [])
                self.assertEqual(c.accepted, ["acc-1"])
                self.assertEqual(c.stats["accepted"], 1)
                self.assertEqual(c.receipts(c.accepted)["receipts"]["acc-1"][1]["index"], 1)
                self.assertEqual(seen[0], ("POST", "wait=0"))
                self.assertEqual(seen[1], ("GET", "/v1/logs/demo/receipts?ids=acc-1"))
        finally:
            server.shutdown()
