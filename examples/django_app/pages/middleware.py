"""Append one line per request to DEMO_REQUEST_LOG: what the server saw, for exact comparisons.

Each line is written with a single ``os.write`` on an O_APPEND descriptor, so lines from several
gunicorn worker processes never interleave.
"""

import os

from django.conf import settings


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        path = settings.REQUEST_LOG
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if path else None

    def __call__(self, request):
        response = self.get_response(request)
        if self.fd is not None:
            line = f"{request.method} {request.get_full_path()} {response.status_code}\n"
            os.write(self.fd, line.encode())
        return response
