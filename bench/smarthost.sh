#!/usr/bin/env bash
# Our smarthost client against lettre's, over STARTTLS, to Debian's Postfix as a TLS sink that
# discards (tests/verify/postfix.sh): what keeping our own client costs or saves with TLS.
#   bench/smarthost.sh            # MSGS [2000] PARALLEL [8]
# Needs root for the Postfix instance.
set -euo pipefail
cd "$(dirname "$0")/.."
MSGS=${MSGS:-2000}
PARALLEL=${PARALLEL:-8}
dir=$(mktemp -d -t nonono-smarthost.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TLS_CERT=$PWD/fixtures/tls/cert.pem TLS_KEY=$PWD/fixtures/tls/key.pem RELAY_TRANSPORT=discard: \
    tests/verify/postfix.sh start "$dir" "$port" 1
trap 'tests/verify/postfix.sh stop "$dir"' EXIT
sleep 1
cargo bench --bench smarthost -- 127.0.0.1 "$port" "$PWD/fixtures/tls/ca.pem" "$MSGS" "$PARALLEL"
