# syntax=docker/dockerfile:1
# Build:    docker build -t afterview .
# Migrate:  docker run --rm -e DATABASE_OWNER_URL=... -e DATABASE_URL=... afterview afterview migrate
# Serve:    docker run -p 8000:8000 -e DATABASE_URL=... -e AFTERVIEW_JWT_SECRET=... afterview
# Migrations are a separate step (run once per release, as the owner role); the service refuses
# to start against an unmigrated database or with a role that could bypass row-level security.
# The image has no embedded PostgreSQL (the `embedded` extra): it needs DATABASE_URL.
# Metrics: GET /metrics (Prometheus). Set AFTERVIEW_METRICS_TOKEN, or keep the port private.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/afterview
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
# `.` without extras: no embedded PostgreSQL server in the runtime image.
RUN /opt/afterview/bin/pip install .

FROM python:3.12-slim AS runtime
ENV PATH=/opt/afterview/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    AFTERVIEW_LOG_JSON=true
RUN groupadd --system --gid 10001 afterview \
    && useradd --system --uid 10001 --gid afterview --home-dir /srv/afterview --create-home afterview
COPY --from=build /opt/afterview /opt/afterview
WORKDIR /srv/afterview
USER afterview:afterview
EXPOSE 8000
# Readiness, not liveness: healthy only while the database answers too (urlopen raises on 503).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"
CMD ["afterview", "serve", "--host", "0.0.0.0", "--port", "8000"]
