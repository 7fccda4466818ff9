#!/usr/bin/env bash
# The README's "Proving history", as one script: run it after
# docs/walkthrough.sh, against the same registry, from a directory where it
# may write registry.pub, saved.checkpoint and hb-power-cea.json.
# ECOCTL may name a built ecoctl binary; by default it runs from source.
# REGISTRY_PUB names the registry's public key file (ecoregistryd writes
# <data>/signing.key.pub on first start).
set -euo pipefail
ecoctl() { echo "\$ ecoctl $*"; ${ECOCTL:-go run ./cmd/ecoctl} "$@"; }
export ECOREGISTRY_ACTOR=${ECOREGISTRY_ACTOR:-regulator.mee}
cp "${REGISTRY_PUB:-./data/signing.key.pub}" registry.pub

# A regulator keeps the registry's latest signed checkpoint outside it.
ecoctl audit checkpoint save --public-key registry.pub saved.checkpoint

# Trading goes on.
ECOREGISTRY_ACTOR=exchange.hbex ecoctl transfer --right CEA-HB-2025 --id T-0002 --from HB-STEEL --to HB-POWER --quantity 700 \
  --price 59.10 --reference HBEX-2026-000812
ECOREGISTRY_ACTOR=exchange.hbex ecoctl transfer --right WUR-HB-2026 --id T-0003 --from HB-STEEL --to HB-POWER --quantity 8000

# Later, the regulator proves that today's log extends what it saved.
ecoctl audit checkpoint check --public-key registry.pub saved.checkpoint

# A bank asks for a certificate of HB-POWER's allowances, and checks it
# offline with the registry's public key, then against the registry.
ECOREGISTRY_ACTOR=bank.icbc ecoctl certificate issue --right CEA-HB-2025 --account HB-POWER --out hb-power-cea.json
ecoctl certificate verify --public-key registry.pub hb-power-cea.json
ECOREGISTRY_ACTOR=hb-power.clerk ecoctl retire --right CEA-HB-2025 --id R-0002 --holder HB-POWER --quantity 200 \
  --purpose voluntary --beneficiary "Yichang Power Co., Ltd."
ecoctl certificate verify --public-key registry.pub --server "${ECOREGISTRY_SERVER:-127.0.0.1:50051}" hb-power-cea.json

# A copy whose available quantity was raised (a 1 put in front) is refused.
sed -E 's/"available":[[:space:]]+"([0-9]+)"/"available": "1\1"/' hb-power-cea.json > forged.json
ecoctl certificate verify --public-key registry.pub forged.json || echo "(exit status $?)"

# And the registry verifies its whole history.
ecoctl audit verify --checkpoint saved.checkpoint
