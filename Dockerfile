# syntax=docker/dockerfile:1
# One image for every role: `serve` (the bot), `worker --vantage NAME`, `check`, `lab`, `demo`.

# --- build: compile TypeScript with the dev dependencies ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only, non-root ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY cards ./cards
COPY examples ./examples
USER node
# The bot's port (`ecebot serve`, the Bot Framework's customary 3978). The health check calls the
# liveness endpoint with Node itself: the slim image has no curl. Other roles (worker, check)
# serve no HTTP; run them with `--no-healthcheck` or a HEALTHCHECK NONE override.
EXPOSE 3978
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s CMD ["node", "-e", "require('http').get('http://127.0.0.1:3978/healthz', r => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/ecebot.js"]
CMD ["help"]
