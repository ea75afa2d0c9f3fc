# club-renewal API image: slim Python 3.11, non-root, migrates on start, port 8000.
# Build: docker build -t club-renewal .
# Run:   docker run -p 8000:8000 -e CLUB_RENEWAL_DATABASE_URL=postgresql+asyncpg://... club-renewal

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# A wheel carries the migrations inside the package (app/_migrations), so the runtime
# image needs no source tree.
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLUB_RENEWAL_DATABASE_URL=sqlite+aiosqlite:////data/club-renewal.db \
    CLUB_RENEWAL_LOG_FORMAT=json \
    CLUB_RENEWAL_ENVIRONMENT=production
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin clubrenewal \
    && mkdir -p /data && chown clubrenewal:clubrenewal /data
USER clubrenewal
WORKDIR /home/clubrenewal
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"
# `serve` migrates (under a lock on PostgreSQL, so replicas may start together) then serves.
CMD ["club-renewal", "serve", "--host", "0.0.0.0", "--port", "8000"]
