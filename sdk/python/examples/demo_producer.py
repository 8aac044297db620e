"""The Python half of `npm run demo` (src/local/demo.ts): an AI platform's
model-invocation events, catalogued (model.invoke v1), numbered in the stream
STREAM, signed with the key in ANCHORLOG_DEMO_KEY_PEM when it is set and the
`cryptography` package is present, spooled and delivered by AuditClient.
Prints one JSON line: {"delivered", "rejected", "signed", "alg", "lastSeq"}.
Usage (from sdk/python): python3 -m examples.demo_producer API_URL API_KEY LOG SPOOL_DIR STREAM COUNT"""

import hashlib
import json
import os
import sys
import time

from anchorlog import AuditClient, signer_from_pem


def main():
    api, key, log, spool_dir, stream, count = sys.argv[1:7]
    pem = os.environ.get("ANCHORLOG_DEMO_KEY_PEM")
    signer = None
    if pem:
        try:
            signer = signer_from_pem(pem.encode("ascii"))
        except ImportError:
            signer = None  # no `cryptography`: sent unsigned, and the demo says so
    client = AuditClient(api, key, log, spool_dir, stream, signer=signer)
    client.start()
    last = 0
    for n in range(int(count)):
        last = client.append({
            "occurredAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "actor": {"type": "agent", "id": f"py-agent-{n % 3}", "name": "Python research agent"},
            "action": "model.invoke",
            "outcome": "success",
            "target": {"type": "model", "id": "anthropic/claude-sonnet"},
            "metadata": {
                "provider": "anthropic",
                "model": "claude-sonnet",
                "dataClassification": "internal",
                "inputTokens": 1000 + n,
                "outputTokens": 200 + n,
                "promptDigest": "sha256:" + hashlib.sha256(str(n).encode()).hexdigest(),
            },
        })
    client.close(flush=True, timeout=60)
    print(json.dumps({
        "delivered": client.stats["delivered"],
        "rejected": client.stats["rejected"],
        "signed": signer is not None,
        "alg": getattr(signer, "alg", None),
        "lastSeq": last,
    }))


if __name__ == "__main__":
    main()
