# kvclass in an image with nothing else in it: no shell, no libc, no package
# manager. The registry-free build uses the static binary built on the host:
#
#   CGO_ENABLED=0 GOOS=linux go build -o dist/kvclass ./cmd/kvclass
#   docker compose up --build          (or: docker build -t kvclass .)
#
# HTTPS roots (to reach ngrok's edge) are compiled into the binary, so the
# image needs no CA bundle; `kvclass health URL` replaces curl in
# healthchecks.
FROM scratch

COPY dist/kvclass /kvclass

# The proxy keeps its class code and admin token in /state/proxy-state.json.
# A named volume mounted there copies this directory's owner, so the
# unprivileged user below can write the file.
COPY --chown=65532:65532 deploy/state/ /state/

# Any unprivileged uid works; 65532 is the "nonroot" convention of
# distroless images.
USER 65532:65532

# 5000-5002: the seed's nodes; 5003: the proxy.
EXPOSE 5000 5001 5002 5003

ENTRYPOINT ["/kvclass"]
CMD ["--help"]
