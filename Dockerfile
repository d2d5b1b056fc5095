# syntax=docker/dockerfile:1
# drg: MS-DRG grouper and CDI service.
#
#   docker build -t drg .
#   docker volume create drg-db
#   docker run --rm -v drg-db:/var/lib/drg drg users add --name admin --role admin   # token on the last line
#   docker run -d -p 8080:8080 -v /path/to/cms-data:/data:ro -v drg-db:/var/lib/drg drg
#
# The binary is static: the SQLite driver (mattn/go-sqlite3, behind gorm.io/driver/sqlite) is
# C code built with cgo, so the builder compiles and links it against musl with -static; the
# final image holds nothing but the binary, CA certificates (PostgreSQL over TLS) and the
# two volume directories.

FROM golang:1.26-alpine AS build
RUN apk add --no-cache build-base ca-certificates
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath \
      -tags 'sqlite_omit_load_extension osusergo netgo' \
      -ldflags "-s -w -linkmode external -extldflags '-static'" \
      -o /out/drg ./cmd/drg \
 && mkdir -p /out/data /out/var/lib/drg

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/drg /drg
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/var/lib/drg /var/lib/drg
USER 65532:65532
# CMS data directory (msdrg/msdrg_combined.bin, mce/, table5/, …; mount read-only) and the
# SQLite database. With PostgreSQL set DRG_DB=postgres://… and the second volume is unused.
ENV DRG_DATA=/data DRG_DB=sqlite:/var/lib/drg/drg.db DRG_ADDR=0.0.0.0:8080
VOLUME ["/data", "/var/lib/drg"]
EXPOSE 8080
ENTRYPOINT ["/drg"]
CMD ["serve"]
