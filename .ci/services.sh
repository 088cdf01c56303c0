#!/usr/bin/env bash
# Install what tests/multinode needs: redis-server and PostgreSQL (initdb, pg_ctl) from
# Debian's packages, only when missing. Idempotent; runs `apt-get update` only if the
# install needs it. The tests start and stop their own instances (own data folders,
# own loopback ports); nothing here starts a service.
set -euo pipefail

have_redis() { command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ]; }
have_postgres() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
        || { command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; }
}

packages=()
have_redis || packages+=(redis-server)
have_postgres || packages+=(postgresql)
if [ ${#packages[@]} -eq 0 ]; then
    echo "services.sh: redis-server and PostgreSQL already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "services.sh: need root to install ${packages[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Debian's postinst scripts would start the system services; the tests run their own.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
trap 'if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi' EXIT

echo "services.sh: installing ${packages[*]}"
if ! apt-get install -y --no-install-recommends "${packages[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends "${packages[@]}"
fi
have_redis && have_postgres
