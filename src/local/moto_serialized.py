"""moto's server with one change: requests are handled one at a time.

moto_server runs werkzeug with a thread per connection, and moto's DynamoDB
conditional writes (check, then write) are not atomic under concurrency: two
racing `PutItem ... attribute_not_exists(pk)` calls can both succeed, which
real DynamoDB never allows. anchorlog's correctness rests on exactly that
condition (the batch commit point), so its tests and the local stack run moto
behind a global lock. Measured here: 0 double winners in 300 four-way races
(threaded moto: 1 in 300), and faster, since the GIL serialises anyway.

Usage: python3 moto_serialized.py HOST PORT
"""
import sys
import threading

from werkzeug.serving import run_simple
from moto.moto_server.threaded_moto_server import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()


def serialized(environ, start_response):
    with lock:
        # Materialise the body inside the lock so no handler runs outside it.
        return list(app(environ, start_response))


run_simple(sys.argv[1], int(sys.argv[2]), serialized, threaded=True, use_reloader=False)
