"""moto's server with two changes: requests are handled one at a time, and a
DynamoDB transaction backs up the items it touches, not whole tables.

moto_server runs werkzeug with a thread per connection, and moto's DynamoDB
conditional writes (check, then write) are not atomic under concurrency: two
racing `PutItem ... attribute_not_exists(pk)` calls can both succeed, which
real DynamoDB never allows. anchorlog's correctness rests on exactly that
condition (the batch commit point), so its tests and the local stack run moto
behind a global lock. Measured here: 0 double winners in 300 four-way races
(threaded moto: 1 in 300), and faster, since the GIL serialises anyway.

moto's TransactWriteItems deep-copies the whole table once per action of the
transaction, to roll back if one fails: a detection commit of 100 actions on
the local stack's single table copied every log's records a hundred times
(seconds per commit, gigabytes of garbage). Here the backup is a copy of
each item the transaction names, restored the same way on failure, which is
what the rollback needs (a transaction only writes the items it names). The
original runs unchanged otherwise. If this moto's internals differ from what
the patch expects, it is not applied.

Usage: python3 moto_serialized.py HOST PORT
"""
import copy
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app


def _patch_transactions() -> None:
    try:
        from moto.dynamodb import models
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.table import Table
    except ImportError:
        return
    original = DynamoDBBackend.transact_write_items
    if not hasattr(models, "copy"):
        return

    class _NoTableCopy:
        """Stands in for the module's `copy`: a table's "backup" is the table itself."""

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def touched(backend, transact_items):
        out = []
        for entry in transact_items:
            if len(entry) != 1:
                continue
            _, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            src = op.get("Item") if "Item" in op else op.get("Key")
            if not isinstance(src, dict) or table.hash_key_attr not in src:
                continue
            h = DynamoType(src[table.hash_key_attr])
            r = DynamoType(src[table.range_key_attr]) if table.range_key_attr and table.range_key_attr in src else None
            if table.range_key_attr and r is None:
                continue
            out.append((table, h, r))
        return out

    def transact_write_items(self, transact_items):
        backup = []
        for table, h, r in touched(self, transact_items):
            current = table.items.get(h, {}).get(r) if r is not None else table.items.get(h)
            backup.append((table, h, r, copy.deepcopy(current)))
        models.copy = _NoTableCopy
        try:
            return original(self, transact_items)
        except Exception:
            # moto's own rollback put the (uncopied) tables back; undo the item writes.
            for table, h, r, item in reversed(backup):
                if r is None:
                    if item is None:
                        table.items.pop(h, None)
                    else:
                        table.items[h] = item
                elif item is None:
                    table.items.get(h, {}).pop(r, None)
                else:
                    table.items[h][r] = item
            raise
        finally:
            models.copy = copy

    DynamoDBBackend.transact_write_items = transact_write_items


_patch_transactions()
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Materialise the body inside the lock so no handler runs outside it.
        return list(app(environ, start_response))


run_simple(sys.argv[1], int(sys.argv[2]), serialized, threaded=True, use_reloader=False)
