"""The XML-RPC server of Locust's custom_xmlrpc_client example, on a free port.

The example's own server.py listens on the fixed port 8877; this serves the same two functions
(``get_time`` and ``get_random_number``, each sleeping a random fraction of ``--max-delay``
seconds first, as the example's do with one second) on port 0 and writes the port to FD.

    python tests/compat/xmlrpc_site.py --ready-fd FD [--max-delay 0.2]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from socketserver import ThreadingMixIn
from xmlrpc.server import SimpleXMLRPCServer


class ThreadedXMLRPCServer(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    request_queue_size = 256


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--max-delay", type=float, default=0.2)
    args = parser.parse_args()

    def get_time() -> float:
        time.sleep(random.random() * args.max_delay)
        return time.time()

    def get_random_number(low: int, high: int) -> int:
        time.sleep(random.random() * args.max_delay)
        return random.randint(low, high)

    server = ThreadedXMLRPCServer(("127.0.0.1", 0), logRequests=False)
    server.register_function(get_time, "get_time")
    server.register_function(get_random_number, "get_random_number")
    if args.ready_fd is not None:
        os.write(args.ready_fd, f"{server.server_address[1]}\n".encode())
        os.close(args.ready_fd)
    server.serve_forever()


if __name__ == "__main__":
    main()
