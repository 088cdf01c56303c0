#!/usr/bin/env bash
# Install what the tests need from Debian's packages, only when missing:
#   redis-server, PostgreSQL (initdb, pg_ctl)  - tests/multinode
#   pulseaudio                                 - the real audio path of calls (a null sink)
#   xvfb, xdotool                              - screen share and window tests on a real X server
#   janus                                      - the SFU tests (Janus Gateway, VideoRoom plugin)
#   chromium                                   - a browser participant in a call
#   iproute2                                   - the tests' private network namespace (ip link)
#   Qt's X11 libraries (libxcb-icccm4, ...)     - the app's real window on Xvfb
#   gcc                                        - builds a stub Qt plugin (tests/test_platform_check.py)
# Idempotent; runs `apt-get update` only if the install needs it. The tests start
# and stop their own instances (own folders, own loopback ports, own configs);
# nothing here starts a service.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ] || [ -x "/usr/sbin/$1" ]; }
have_postgres() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
        || { command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; }
}

packages=()
have redis-server || packages+=(redis-server)
have_postgres || packages+=(postgresql)
have pulseaudio || packages+=(pulseaudio pulseaudio-utils)
have Xvfb || packages+=(xvfb)
have xdotool || packages+=(xdotool)
have janus || packages+=(janus)
have chromium || packages+=(chromium)
have ip || packages+=(iproute2)
have gcc || packages+=(gcc libc6-dev)
# What the app's X11 window needs (README's list for Debian/Ubuntu), checked by soname.
x11_libs=(libxcb-icccm4:libxcb-icccm.so.4 libxcb-keysyms1:libxcb-keysyms.so.1
          libxcb-cursor0:libxcb-cursor.so.0 libxcb-image0:libxcb-image.so.0
          libxcb-render-util0:libxcb-render-util.so.0 libxkbcommon-x11-0:libxkbcommon-x11.so.0
          libxcb-xinput0:libxcb-xinput.so.0 libegl1:libEGL.so.1 libgl1:libGL.so.1
          libfontconfig1:libfontconfig.so.1 libdbus-1-3:libdbus-1.so.3 libpulse0:libpulse.so.0)
known_libs=$(ldconfig -p 2>/dev/null || true)
for pair in "${x11_libs[@]}"; do
    grep -qF "${pair##*:} " <<< "$known_libs" || packages+=("${pair%%:*}")
done
if [ ${#packages[@]} -eq 0 ]; then
    echo "services.sh: everything the tests need is installed"
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
have redis-server && have_postgres && have pulseaudio && have Xvfb && have janus && have chromium
