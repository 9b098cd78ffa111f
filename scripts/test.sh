#!/usr/bin/env bash
# Runs every check of the project from a fresh clone: bootstrap, type-check and build,
# lint and format check, then the whole vitest suite (unit, property, integration, network).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
pnpm run build
pnpm run lint
pnpm run test
