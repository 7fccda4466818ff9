#!/usr/bin/env bash
# The README's five-minute walkthrough, as one script. Start a registry first
# (go run ./cmd/ecoregistryd), then run: bash docs/walkthrough.sh
# ECOCTL may name a built ecoctl binary; by default it runs from source.
set -euo pipefail
ecoctl() { ${ECOCTL:-go run ./cmd/ecoctl} "$@"; }
export ECOREGISTRY_ACTOR=${ECOREGISTRY_ACTOR:-hubei-office.li}

# Two enterprises open accounts.
ecoctl account open --id HB-STEEL --holder-name "Hubei Steel Co., Ltd." --holder-kind enterprise \
  --credit-code 91420100MA4K1A2B3Q --jurisdiction 420100
ecoctl account open --id HB-POWER --holder-name "Yichang Power Co., Ltd." --holder-kind enterprise \
  --credit-code 91420500MA4L7C8D9K --jurisdiction 420500

# One right of each of the four types, issued to HB-STEEL.
ecoctl right register --type carbon-allowance --id CEA-HB-2025 --jurisdiction 420000 --vintage 2025 \
  --quantity 100000 --holder HB-STEEL --province 420000 --scheme national --allocation free \
  --compliance-period 2025-2026
ecoctl right register --type water --id WUR-HB-2026 --jurisdiction 420000 --vintage 2026 \
  --quantity 50000 --holder HB-STEEL --valid-from 2026-01-01 --valid-until 2031-01-01 \
  --class water-intake --intake-permit QS-420100-2026-0042 --basin "Yangtze River" \
  --source surface --use industrial --annual-volume 50000
ecoctl right register --type pollutant --id PDR-HB-2026 --jurisdiction 420000 --vintage 2026 \
  --quantity 12000 --holder HB-STEEL --valid-from 2026-01-01 --valid-until 2031-01-01 \
  --pollutant COD --discharge-permit 91420100MA4K1A2B3Q001P --region 420100 \
  --basin "Han River" --origin initial-paid
ecoctl right register --type carbon-sink --id CSR-HB-2024 --jurisdiction 420000 --vintage 2024 \
  --quantity 10000 --holder HB-STEEL --project CCER-14-2024-0001 --methodology AR-CM-001 \
  --monitoring-start 2023-01-01 --monitoring-end 2024-12-31 --location 422800 --area-ha 1234.5 \
  --verifier "China Quality Certification Centre" --verification-date 2025-03-01 \
  --kind removal --buffer-bp 1000

# A matched trade settles as a transfer with a price; then the buyer
# surrenders part of it for compliance.
ecoctl transfer --right CEA-HB-2025 --id T-0001 --from HB-STEEL --to HB-POWER --quantity 2500 \
  --price 58.50 --reference HBEX-2026-000777
ecoctl retire --right CEA-HB-2025 --id R-0001 --holder HB-POWER --quantity 1000 \
  --purpose compliance --beneficiary "Yichang Power Co., Ltd." --compliance-period 2025-2026

# Holdings, and a refusal with its check code.
ecoctl holding show --right CEA-HB-2025 --account HB-POWER
ecoctl right show CEA-HB-2025
ecoctl transfer --right CEA-HB-2025 --id T-0002 --from HB-POWER --to HB-STEEL --quantity 5000 || true

# An exchange settles a matched trade; sending it again is a replay, and the
# same trade id with other content is refused (E3009) with the original shown.
matched=$(date -u +%Y-%m-%dT%H:%M:%SZ)
ecoctl trade submit --exchange HBEX --id X-0001 --right CEA-HB-2025 --seller HB-STEEL --buyer HB-POWER \
  --quantity 300 --price 58.25 --matched-at "$matched"
ecoctl trade submit --exchange HBEX --id X-0001 --right CEA-HB-2025 --seller HB-STEEL --buyer HB-POWER \
  --quantity 300 --price 58.25 --matched-at "$matched"
ecoctl trade submit --exchange HBEX --id X-0001 --right CEA-HB-2025 --seller HB-STEEL --buyer HB-POWER \
  --quantity 301 --price 58.25 --matched-at "$matched" || true
