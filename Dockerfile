# syntax=docker/dockerfile:1
# horde's container image: `horde` as the entry point, run as a non-root user.
#
#   docker build -t horde:0.1.0 .
#   docker run --rm -v "$PWD:/work" -w /work horde:0.1.0 run scenario.py -H http://host:8000 \
#       -u 10 -t 1m --headless
#
# Deploying it on Kubernetes: docs/kubernetes.md.

ARG PYTHON_VERSION=3.11
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-bookworm-slim AS node

# Build: the dependencies from uv.lock (frozen, without the dev and demo groups), then horde
# itself as a wheel, whose build hook (hatch_build.py) fetches the web UI's charts library with
# `npm ci` from web/package-lock.json: the same path as `make setup` and `pip install .`.
FROM python:${PYTHON_VERSION}-slim-bookworm AS build
# uv's version is the Makefile's UV_VERSION.
ARG UV_VERSION=0.13.9
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
    && pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/opt/horde \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /src
# The dependencies first, in a layer of their own: it is rebuilt only when the lock changes.
# With the otel extra: a cluster's master can export to an OpenTelemetry collector (--otel).
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --extra otel --no-install-project \
    --python /usr/local/bin/python3
COPY README.md hatch_build.py ./
COPY web/package.json web/package-lock.json web/
COPY src src
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=cache,target=/root/.npm \
    uv sync --frozen --no-default-groups --extra otel --no-editable \
    --python /usr/local/bin/python3

FROM python:${PYTHON_VERSION}-slim-bookworm
LABEL org.opencontainers.image.title="horde" \
      org.opencontainers.image.description="A fast, exact, asyncio-native load tester for web applications, with Locust-style scenarios." \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 horde \
    && useradd --system --uid 10001 --gid horde --home-dir /home/horde --create-home \
        --shell /usr/sbin/nologin horde
COPY --from=build /opt/horde /opt/horde
ENV PATH=/opt/horde/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /home/horde
ENTRYPOINT ["horde"]
CMD ["--help"]
