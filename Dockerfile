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
ENTRYPOINT ["node", "/app/bin/ecebot.js"]
CMD ["help"]
