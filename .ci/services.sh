#!/usr/bin/env bash
# Install what the tests need from Debian's packages, only when missing:
#   redis-server, PostgreSQL (initdb, pg_ctl)  - tests/multinode
#   pulseaudio                                 - the real audio path of calls (a null sink)
#   xvfb, xdotool                              - screen share and window tests on a real X server
#   janus                                      - the SFU tests (Janus Gateway, VideoRoom plugin)
#   chromium                                   - a browser participant in a call
#   socket.io-client 4 (npm, into /opt/conference-gui-js) - that participant's page
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

# --- tests/browser: socket.io-client 4 from npm, outside the repo ---------------------
# The browser participant page (tests/browser/page) loads the real socket.io-client
# browser build. The tests run in a private network namespace (no registry), so it
# is installed here, once, into a folder outside the repo (never node_modules in
# git); tests/browser/harness.py looks there ($CONFERENCE_GUI_JS_PREFIX overrides).
js_prefix="${CONFERENCE_GUI_JS_PREFIX:-/opt/conference-gui-js}"
have_js_client() { [ -f "$js_prefix/node_modules/socket.io-client/dist/socket.io.min.js" ]; }
install_js_client() {
    have_js_client && return 0
    echo "services.sh: installing socket.io-client@4 into $js_prefix"
    mkdir -p "$js_prefix"
    npm install --prefix "$js_prefix" --no-audit --no-fund --no-update-notifier \
        socket.io-client@4
    have_js_client
}
have npm || packages+=(nodejs npm)
# --- end of tests/browser -------------------------------------------------------------

if [ ${#packages[@]} -eq 0 ]; then
    install_js_client  # tests/browser
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
install_js_client  # tests/browser
have redis-server && have_postgres && have pulseaudio && have Xvfb && have janus && have chromium
