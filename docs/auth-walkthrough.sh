#!/usr/bin/env bash
# The README's "Running with authentication", as one script. First write the
# development certificates and start a registry with them:
#   go run ./cmd/ecoctl dev certs --out dev-certs
#   go run ./cmd/ecoregistryd --data data-auth --tls-cert dev-certs/server.pem \
#     --tls-key dev-certs/server-key.pem --client-ca dev-certs/ca.pem --policy dev-certs/policy.yaml
# then run: bash docs/auth-walkthrough.sh
# ECOCTL may name a built ecoctl binary; CERTS the certificates' directory.
set -uo pipefail
CERTS=${CERTS:-dev-certs}
ecoctl() { ${ECOCTL:-go run ./cmd/ecoctl} --server localhost:50051 --ca "$CERTS/ca.pem" "$@"; }
# as ROLE ...: the command, made by the principal of ROLE's certificate.
as() { local role=$1; shift; echo "\$ as $role $*" | cut -c1-110 >&2; ecoctl --cert "$CERTS/$role.pem" --key "$CERTS/$role-key.pem" "$@"; echo "(exit $?)" >&2; }

# The office of Hubei opens the accounts and registers an allowance.
as registration_office account open --id HB-STEEL --holder-name "Hubei Steel Co., Ltd." --holder-kind enterprise \
  --credit-code 91420100MA4K1A2B3Q --jurisdiction 420100 >/dev/null
as registration_office account open --id HB-POWER --holder-name "Yichang Power Co., Ltd." --holder-kind enterprise \
  --credit-code 91420500MA4L7C8D9K --jurisdiction 420500 >/dev/null
as registration_office account open --id ICBC-HB --holder-name "ICBC Hubei Branch" --holder-kind enterprise \
  --credit-code 914201001779123453 --jurisdiction 420100 >/dev/null
as registration_office right register --type carbon-allowance --id CEA-HB-2025 --jurisdiction 420000 --vintage 2025 \
  --quantity 100000 --holder HB-STEEL --province 420000 --scheme national --allocation free \
  --compliance-period 2025-2026 >/dev/null

# The holder moves and pledges its own units; the exchange settles a trade
# between accounts admitted to it; MEE freezes carbon units by an order.
as account_holder transfer --right CEA-HB-2025 --id T-0001 --from HB-STEEL --to HB-POWER --quantity 2500 >/dev/null
as account_holder pledge create --right CEA-HB-2025 --id PL-1 --pledgor HB-STEEL --pledgee ICBC-HB --loan ICBC-2026-42 --quantity 1000 >/dev/null
as account_holder pledge create --right CEA-HB-2025 --id PL-2 --pledgor HB-STEEL --pledgee HB-POWER --loan SUPPLY-9 --quantity 50 >/dev/null
as exchange trade submit --exchange HBEX --id X-0001 --right CEA-HB-2025 --seller HB-STEEL --buyer HB-POWER \
  --quantity 300 --price 58.25 --matched-at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >/dev/null
as regulator freeze --right CEA-HB-2025 --order MEE-2026-7 --authority MEE --holder HB-POWER --quantity 10 --reason inspection >/dev/null
as pledgee pledge list --right CEA-HB-2025

# Refusals: the wrong role, data outside the scope, no certificate.
as exchange right register --type carbon-allowance --id CEA-X --jurisdiction 420000 --vintage 2025 \
  --quantity 1 --holder HB-STEEL --province 420000 --scheme national --allocation free --compliance-period 2025-2026
as registration_office account open --id BJ-1 --holder-name "Beijing Co." --holder-kind individual --jurisdiction 110000
as account_holder transfer --right CEA-HB-2025 --id T-0002 --from HB-POWER --to HB-STEEL --quantity 1
as pledgee pledge enforce --right CEA-HB-2025 --id PL-2 --default-reference NOTICE-1
echo "\$ ecoctl account show HB-STEEL   # no certificate"; ecoctl account show HB-STEEL; echo "(exit $?)"
