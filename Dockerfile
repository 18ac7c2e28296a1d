# Signatories: build the release binary, then ship it alone on a slim Debian.
#
#   docker build -t signatories .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://user:pass@host:5432/db signatories
#
# The image has no PostgreSQL of its own: DATABASE_URL is required (see docker-compose.yml).

# ---- builder -----------------------------------------------------------------
# The crate's rust-version is 1.94; keep this at or above it.
FROM rust:1.95-bookworm AS builder
WORKDIR /src

# Dependencies first, against a placeholder crate, so that this layer is reused
# for as long as Cargo.toml and Cargo.lock do not change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src \
    && rm -rf target/release/.fingerprint/signatories-* \
              target/release/deps/signatories-* \
              target/release/deps/libsignatories-* \
              target/release/signatories*

# The crate itself. migrations/ is embedded by sqlx::migrate!, openapi.yaml by
# include_str!, and data/ holds the CSV seed files.
COPY src ./src
COPY migrations ./migrations
COPY data ./data
COPY openapi.yaml ./openapi.yaml
RUN cargo build --release --locked \
    && strip target/release/signatories

# ---- runtime -----------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 signatories \
    && useradd --system --uid 10001 --gid signatories \
               --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
               signatories

COPY --from=builder /src/target/release/signatories /usr/local/bin/signatories

ENV SIGNATORIES_BIND=0.0.0.0:8080
EXPOSE 8080

# Liveness probe without curl: bash (always in Debian) opens a TCP connection to
# the port in SIGNATORIES_BIND and asks for /healthz. Exec form, because /bin/sh
# (dash) has no /dev/tcp.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${SIGNATORIES_BIND##*:} && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

USER signatories
ENTRYPOINT ["signatories"]
CMD ["serve"]
