# syntax=docker/dockerfile:1
#
# A static, non-root image with the offline playground:
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t seatable-graphql .
#   docker run --rm -p 8080:8080 -e SEATABLE_URL=https://cloud.seatable.io seatable-graphql
# The final image has no shell and no curl, hence no HEALTHCHECK: probe
# GET /healthz (liveness) and GET /readyz (readiness) from the orchestrator
# (Kubernetes httpGet, a load balancer) instead.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/seatable-graphql . \
 && /out/seatable-graphql -version

# GraphiQL and React from the npm registry, at the versions pinned in
# web/playground/package-lock.json; only the four served files (and their
# licences) go into the image, laid out as in node_modules.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY web/playground/package.json web/playground/package-lock.json web/playground/
RUN npm ci --prefix web/playground --ignore-scripts --no-audit --no-fund
RUN set -eu; m=web/playground/node_modules; \
    mkdir -p /out/graphiql /out/react/umd /out/react-dom/umd; \
    cp $m/graphiql/graphiql.min.js $m/graphiql/graphiql.min.css $m/graphiql/LICENSE /out/graphiql/; \
    cp $m/react/umd/react.production.min.js /out/react/umd/; cp $m/react/LICENSE /out/react/; \
    cp $m/react-dom/umd/react-dom.production.min.js /out/react-dom/umd/; cp $m/react-dom/LICENSE /out/react-dom/

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/seatable-graphql /seatable-graphql
COPY --from=assets /out/ /playground/
ENV PORT=8080 \
    PLAYGROUND_ASSETS_DIR=/playground
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/seatable-graphql"]
