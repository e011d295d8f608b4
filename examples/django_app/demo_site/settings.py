"""Settings of the demo application horde load-tests (the seed article's Django app).

Everything that a load test may want to vary comes from the environment:
DEMO_DATA_DIR (SQLite file location), DATABASE_URL (PostgreSQL instead), DEMO_LOGIN_INTERVAL
(seconds before the same account may log in again), DEMO_REQUEST_LOG (append one line per
request, so tests can compare horde's counts with the server's), DEMO_INSTANCE (the token
/__instance/ answers, see serve.py), DEMO_DEBUG, DEMO_FAST_HASHER.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DEMO_DATA_DIR", BASE_DIR / ".data"))

# Demo only: this application is a load-test target on 127.0.0.1, never a deployment.
SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "demo-only-not-secret-horde-load-test-target")
DEBUG = os.environ.get("DEMO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "pages",
]

MIDDLEWARE = [
    "pages.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]

if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.config(conn_max_age=60)}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "demo.sqlite3",
            "OPTIONS": {
                # WAL lets readers run beside the writer; IMMEDIATE transactions and a busy
                # timeout let several gunicorn workers write without "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

# A load test should measure the application, not PBKDF2: with the default hasher every login
# costs ~300 ms of CPU on a small machine. Production settings keep PBKDF2.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if os.environ.get("DEMO_FAST_HASHER", "1") != "0":
    PASSWORD_HASHERS.insert(0, "django.contrib.auth.hashers.MD5PasswordHasher")

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGIN_INTERVAL = float(os.environ.get("DEMO_LOGIN_INTERVAL", "2"))
REQUEST_LOG = os.environ.get("DEMO_REQUEST_LOG") or None
INSTANCE = os.environ.get("DEMO_INSTANCE", "")

SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["pages.authentication.CaseInsensitiveJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SIMPLE_JWT = {
    "AUTH_HEADER_TYPES": ("JWT", "Bearer"),
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
    "UPDATE_LAST_LOGIN": False,
}
