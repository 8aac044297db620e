"""A spooling, signing producer client for anchorlog (docs/sdk.md semantics).

- Spool: an append-only file per stream, the same format as the TypeScript
  spool (seg-<first seq>.jsonl lines {"seq":n,"event":{...}} and an atomically
  replaced state.json {stream, epoch, ackedSeq}); every append is written and
  os.fsync'ed before it returns; a torn last line is dropped on open.
- Numbering: producer {stream, seq, epoch} and the id "<stream>:<epoch>:<seq>",
  never reused across restarts, so ingest stores a re-sent event once.
- Delivery: a background thread (or flush()) sends pending entries in order,
  in batches, retrying with full-jitter exponential backoff; an entry is
  acknowledged only after a 2xx. A 409 CONFLICT (a regrouped re-send) is
  split into single sends; a 400/413 for one event goes to rejected.jsonl.
- Signing: Ed25519 (ed25519_signer) or ECDSA P-256 (p256_signer, alg
  ES256, raw r || s) through the optional `cryptography` package; without
  it, events are sent unsigned.
- Receipt modes (docs/ingest.md §9): `wait` (seconds) is sent as
  `Prefer: wait=N`. A 202 means the request was accepted durably and will be
  sequenced: the entries are acknowledged like a 201, and the accept id is
  kept in `accepted` (the last 1,000) for `receipts(ids)`, which reads
  `GET /v1/logs/{logId}/receipts?ids=` (receipts by id, and ids still pending).
"""

import base64
import hashlib
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request

from .jcs import canonical_bytes

STATE = "state.json"


class SpoolFullError(Exception):
    code = "SPOOL_FULL"


class RejectedEvent(Exception):
    pass


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def signing_bytes(event: dict) -> bytes:
    """RFC 8785 bytes of the event without its signature member."""
    return canonical_bytes({k: v for k, v in event.items() if k != "signature"})


def _key_id(public_key) -> str:
    """base64url SHA-256 of the SPKI DER: the key id the server computes."""
    from cryptography.hazmat.primitives import serialization

    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return _b64url(hashlib.sha256(spki).digest())


def _load(private_key_pem: bytes):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(private_key_pem, password=None)


def ed25519_signer(private_key_pem: bytes):
    """A signer from an Ed25519 private key PEM; needs the `cryptography` package."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = _load(private_key_pem)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    key_id = _key_id(key.public_key())

    def sign(event: dict) -> dict:
        sig = key.sign(signing_bytes(event))
        return {**event, "signature": {"keyId": key_id, "alg": "Ed25519", "sig": _b64url(sig)}}

    sign.key_id = key_id
    sign.alg = "Ed25519"
    return sign


def p256_signer(private_key_pem: bytes):
    """A signer from an ECDSA P-256 private key PEM (alg ES256); needs the `cryptography` package.

    The signature is ECDSA with SHA-256 over the same canonical bytes, sent as
    the 64 raw bytes r || s (RFC 7518 §3.4, what WebCrypto and the server
    take), not the DER that `cryptography` returns.
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    key = _load(private_key_pem)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("not a P-256 private key")
    key_id = _key_id(key.public_key())

    def sign(event: dict) -> dict:
        r, s = decode_dss_signature(key.sign(signing_bytes(event), ec.ECDSA(hashes.SHA256())))
        raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return {**event, "signature": {"keyId": key_id, "alg": "ES256", "sig": _b64url(raw)}}

    sign.key_id = key_id
    sign.alg = "ES256"
    return sign


def signer_from_pem(private_key_pem: bytes):
    """ed25519_signer or p256_signer, whichever the key is."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if isinstance(_load(private_key_pem), Ed25519PrivateKey):
        return ed25519_signer(private_key_pem)
    return p256_signer(private_key_pem)


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Spool:
    def __init__(self, directory: str, stream: str, epoch: int = 0, max_bytes: int = 64 * 1024 * 1024):
        if not stream or len(stream) > 100 or any(not (0x21 <= ord(c) <= 0x7E) for c in stream):
            raise ValueError("stream must be 1-100 printable ASCII characters")
        self.dir, self.stream, self.epoch, self.max_bytes = directory, stream, epoch, max_bytes
        self.lock = threading.Lock()
        self.stats = {"appended": 0, "acked": 0, "overflows": 0, "torn_lines_dropped": 0}
        os.makedirs(directory, exist_ok=True)
        self.acked = 0
        state_path = os.path.join(directory, STATE)
        if os.path.exists(state_path):
            with open(state_path) as f:
                st = json.load(f)
            if st["stream"] != stream or st["epoch"] != epoch:
                raise ValueError(f"spool {directory} belongs to stream {st['stream']} epoch {st['epoch']}")
            self.acked = st["ackedSeq"]
        self.entries = []
        self.segments = []  # [first, path, last]
        last = self.acked
        for name in sorted(n for n in os.listdir(directory) if n.startswith("seg-") and n.endswith(".jsonl")):
            path = os.path.join(directory, name)
            first = int(name[4:-6])
            with open(path, "rb") as f:
                raw = f.read()
            good, seg_last = 0, first - 1
            while True:
                nl = raw.find(b"\n", good)
                if nl < 0:
                    break
                try:
                    entry = json.loads(raw[good:nl])
                except ValueError:
                    # Only the last line can be torn by a crash; damage before the end is an error.
                    if nl + 1 < len(raw):
                        raise ValueError(f"spool segment {path} has a damaged entry before its end")
                    break
                if entry["seq"] != seg_last + 1:
                    raise ValueError(f"spool segment {path} is out of sequence")
                seg_last = entry["seq"]
                if entry["seq"] > self.acked:
                    self.entries.append(entry)
                good = nl + 1
            if good < len(raw):
                self.stats["torn_lines_dropped"] += 1
                with open(path, "r+b") as f:
                    f.truncate(good)
                    os.fsync(f.fileno())
            self.segments.append([first, path, seg_last])
            last = max(last, seg_last)
        self.next_seq = last + 1

    def pending_bytes(self):
        return sum(len(json.dumps(e, separators=(",", ":"))) + 1 for e in self.entries)

    def append_many(self, events, prepare=None):
        with self.lock:
            lines, entries, seq = [], [], self.next_seq
            for e in events:
                event = dict(e)
                event.setdefault("id", f"{self.stream}:{self.epoch}:{seq}")
                event["producer"] = {"stream": self.stream, "seq": seq, **({"epoch": self.epoch} if self.epoch else {})}
                if prepare:
                    event = prepare(event)
                entry = {"seq": seq, "event": event}
                entries.append(entry)
                lines.append(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
                seq += 1
            data = "".join(lines).encode("utf-8")
            if self.pending_bytes() + len(data) > self.max_bytes:
                self.stats["overflows"] += 1
                raise SpoolFullError(f"spool {self.dir} is full ({self.max_bytes} bytes unacknowledged)")
            if not self.segments:
                path = os.path.join(self.dir, f"seg-{self.next_seq:016d}.jsonl")
                self.segments.append([self.next_seq, path, self.next_seq - 1])
                new = True
            else:
                new = False
            seg = self.segments[-1]
            fd = os.open(seg[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError:
                # Cut a partly written line so the next append does not follow a torn one.
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    pass
                raise
            finally:
                os.close(fd)
            if new:
                _fsync_dir(self.dir)
            seg[2] = seq - 1
            self.next_seq = seq
            self.entries.extend(entries)
            self.stats["appended"] += len(entries)
            return entries

    def ack(self, seq):
        with self.lock:
            if seq <= self.acked:
                return
            path = os.path.join(self.dir, STATE)
            tmp = path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"stream": self.stream, "epoch": self.epoch, "ackedSeq": seq}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            _fsync_dir(self.dir)
            self.acked = seq
            before = len(self.entries)
            self.entries = [e for e in self.entries if e["seq"] > seq]
            self.stats["acked"] += before - len(self.entries)
            # Everything acknowledged: the next append starts a fresh segment.
            if not self.entries:
                for first, p, last in self.segments:
                    if last <= seq:
                        os.remove(p)
                self.segments = [s for s in self.segments if s[2] > seq]


class AuditClient:
    def __init__(self, api_url, api_key, log_id, spool_dir, stream, epoch=0, signer=None,
                 max_batch=100, base_backoff=0.05, max_backoff=30.0, timeout=30.0, on_rejected=None,
                 wait=None):
        self.api_url = api_url.rstrip("/")
        self.api_key, self.log_id, self.signer = api_key, log_id, signer
        self.spool = Spool(spool_dir, stream, epoch)
        self.max_batch, self.base_backoff, self.max_backoff, self.timeout = max_batch, base_backoff, max_backoff, timeout
        self.on_rejected = on_rejected
        self.wait = wait
        self.accepted = []
        self.stats = {"requests": 0, "retries": 0, "delivered": 0, "rejected": 0, "accepted": 0}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def append(self, event: dict) -> int:
        """Durably spools one event; returns its seq."""
        return self.append_many([event])[0]

    def append_many(self, events) -> list:
        entries = self.spool.append_many(events, self.signer)
        self._wake.set()
        return [e["seq"] for e in entries]

    def start(self):
        """Delivers in a background thread until close()."""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def close(self, flush=True, timeout=None):
        if flush:
            self.flush(timeout)
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join()

    def flush(self, timeout=None):
        """Delivers everything pending (retrying) before returning; raises TimeoutError past `timeout` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        attempt = 0
        while self.spool.entries:
            if self._thread and self._thread.is_alive():
                self._wake.set()
                time.sleep(0.01)
            elif self._deliver_once():
                attempt = 0
            else:
                attempt += 1
                self.stats["retries"] += 1
                time.sleep(self._delay(attempt))
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.spool.entries)} event(s) still spooled")

    def _run(self):
        attempt = 0
        while not self._stop.is_set():
            if not self.spool.entries:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            if self._deliver_once():
                attempt = 0
            else:
                attempt += 1
                self.stats["retries"] += 1
                self._stop.wait(self._delay(attempt))

    def _delay(self, attempt):
        return random.uniform(0, min(self.max_backoff, self.base_backoff * 2 ** attempt))

    def _deliver_once(self) -> bool:
        batch = list(self.spool.entries[: self.max_batch])
        return self._deliver(batch) if batch else True

    def _deliver(self, batch) -> bool:
        status, code, message = self._post([e["event"] for e in batch])
        if status == 202:
            # Durably accepted, sequenced later: acknowledged, its id kept for receipts().
            self.accepted = (self.accepted + [code])[-1000:]
            self.stats["accepted"] += 1
        if status in (200, 201, 202):
            self.spool.ack(batch[-1]["seq"])
            self.stats["delivered"] += len(batch)
            return True
        if status in (400, 409, 413) and code != "IN_PROGRESS":
            if len(batch) > 1:
                return all(self._deliver([e]) for e in batch)
            entry = batch[0]
            with open(os.path.join(self.spool.dir, "rejected.jsonl"), "a") as f:
                f.write(json.dumps({**entry, "error": {"status": status, "code": code, "message": message}}) + "\n")
                f.flush()
                os.fsync(f.fileno())
            self.stats["rejected"] += 1
            if self.on_rejected:
                self.on_rejected(entry, code)
            self.spool.ack(entry["seq"])
            return True
        return False

    def _post(self, events):
        body = json.dumps({"events": events}, ensure_ascii=False).encode("utf-8")
        req = urllib.request.Request(
            f"{self.api_url}/v1/logs/{self.log_id}/events",
            data=body,
            method="POST",
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {self.api_key}",
                **({"prefer": f"wait={int(self.wait)}"} if self.wait is not None else {}),
            },
        )
        self.stats["requests"] += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                text = res.read()
                if res.status == 202:
                    # The accept id travels in the `code` slot of the answer.
                    return 202, json.loads(text)["accepted"]["id"], None
                return res.status, None, None
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            try:
                err = json.loads(text).get("error", {})
                return e.code, err.get("code"), err.get("message")
            except ValueError:
                return e.code, "HTTP_ERROR", text[:500]
        except (urllib.error.URLError, OSError, TimeoutError):
            return 0, "TRANSPORT", None

    def receipts(self, ids):
        """Receipts of accepted requests by accept id (at most 100):
        {"receipts": {id: [...]}, "pending": [...], "unknown": [...]} ("unknown": ids the log does not
        know as this caller's pending request; absent from older servers' answers)."""
        ids = list(ids)
        if not 1 <= len(ids) <= 100:
            raise ValueError("receipts takes 1..100 accept ids")
        req = urllib.request.Request(
            f"{self.api_url}/v1/logs/{self.log_id}/receipts?ids={','.join(ids)}",
            headers={"authorization": f"Bearer {self.api_key}"},
        )
        with urllib.request.urlopen(req, timeout=self.timeout) as res:
            return json.loads(res.read())
