# morcc with the MySQL backend. Build: docker build -t morcc .
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libmariadb-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --features mysql --bin morcc

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libmariadb3 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/morcc /usr/local/bin/morcc
USER nobody
EXPOSE 8080
ENTRYPOINT ["morcc"]
CMD ["serve"]
