"""A producer process for the kill -9 test (test/sdk/python.test.ts): spools
events one at a time through AuditClient with background delivery, signed
with the key in ANCHORLOG_TEST_KEY_PEM when given, and prints each seq once
append() returned (so the parent knows it is durable), until killed.
With --flush it only delivers what an earlier run left in the spool.
Usage: python3 -m tests.producer_loop API_URL SPOOL_DIR STREAM [--flush]"""

import os
import sys

from anchorlog import AuditClient, signer_from_pem


def main():
    api, spool_dir, stream = sys.argv[1:4]
    pem = os.environ.get("ANCHORLOG_TEST_KEY_PEM")
    signer = signer_from_pem(pem.encode("ascii")) if pem else None
    client = AuditClient(api, "k", "tenant-a", spool_dir, stream, signer=signer, base_backoff=0.005, max_backoff=0.05)
    if "--flush" in sys.argv:
        client.flush(timeout=60)
        print(client.stats["delivered"], flush=True)
        return
    client.start()
    n = 0
    while True:
        seq = client.append({
            "occurredAt": "2026-03-01T11:00:00.000Z",
            "actor": {"type": "service", "id": "py-svc"},
            "action": "tool.call",
            "outcome": "success",
            "metadata": {"n": n, "sdk": "python"},
        })
        print(seq, flush=True)
        n += 1


if __name__ == "__main__":
    main()
