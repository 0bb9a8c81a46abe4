# A small image that runs mashov as a non-root user.
#   docker build -t mashov .
#   docker run -p 8080:8080 -v mashov-data:/data \
#     -e MASHOV_BASE_URL=https://survey.city.example mashov
# The database (SQLite by default) and its key live in /data; set MASHOV_DATABASE_URL to a
# postgres:// URL for PostgreSQL (then keep MASHOV_SECRET or the key file safe: see README).
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-dev libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin mashov && strip target/release/mashov

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libsqlite3-0 libpq5 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin mashov \
    && mkdir -p /data && chown mashov /data
COPY --from=build /src/target/release/mashov /usr/local/bin/mashov
USER mashov
WORKDIR /data
ENV MASHOV_DATABASE_URL=sqlite:///data/mashov.db \
    MASHOV_BIND=0.0.0.0:8080
EXPOSE 8080
# Orchestrators probe GET /healthz (503 when the database takes no write).
# SIGTERM (docker stop) finishes the requests in flight and exits 0 within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/mashov"]
CMD ["serve"]
