#!/usr/bin/env bash
# make-deb.sh BUILD_DIR OUT_DIR — builds OUT_DIR/apikeyd_VERSION_ARCH.deb with dpkg-deb from
# `make install PREFIX=/usr` into a staging tree: the binary, the manual page (gzipped), the
# systemd unit in /lib/systemd/system, /etc/apikeyd/apikeyd.conf as a conffile, the nginx
# example; Depends computed by dpkg-shlibdeps; maintainer scripts that enable and start the
# service where systemd runs, and stop, disable and (on purge) remove its data.
set -euo pipefail
build=${1:?build dir}
out=${2:?output dir}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$("$build/apikeyd" --version | awk '{print $2}')
arch=$(dpkg --print-architecture)
work=$(mktemp -d /tmp/apikeyd-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
stage="$work/stage"
make --no-print-directory -s install BUILD="$build" DESTDIR="$stage" PREFIX=/usr \
     UNITDIR=/lib/systemd/system SYSCONFDIR=/etc >/dev/null
gzip -9n "$stage/usr/share/man/man8/apikeyd.8" "$stage/usr/share/man/man1/apikey.1"
install -Dm644 LICENSE "$stage/usr/share/doc/apikeyd/copyright"

# Depends: what the binary links, as Debian's own tool finds it
mkdir -p "$work/shlibs/debian"
printf 'Source: apikeyd\n\nPackage: apikeyd\nArchitecture: any\n' > "$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$stage/usr/sbin/apikeyd" "$stage/usr/bin/apikey" 2>/dev/null |
          sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: apikeyd
Version: $version
Architecture: $arch
Maintainer: apikeyd developers <apikeyd@localhost>
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Description: self-hosted API key service
 People create named API keys limited to scopes and to at most one year, see each
 secret once, and delete keys so every integration using them stops at once. APIs put
 apikeyd in front of themselves with nginx auth_request or POST /v1/verify.
CONTROL
echo /etc/apikeyd/apikeyd.conf > "$stage/DEBIAN/conffiles"
cat > "$stage/DEBIAN/postinst" <<'SCRIPT'
#!/bin/sh
# Enables and starts apikeyd where systemd runs; the first admin's password is in
# `journalctl -u apikeyd`.
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable apikeyd.service
    systemctl restart apikeyd.service
fi
SCRIPT
cat > "$stage/DEBIAN/prerm" <<'SCRIPT'
#!/bin/sh
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
    systemctl stop apikeyd.service || true
    systemctl disable apikeyd.service || true
fi
SCRIPT
cat > "$stage/DEBIAN/postrm" <<'SCRIPT'
#!/bin/sh
# On purge the store and the server key go too (StateDirectory of a DynamicUser service).
set -e
if [ "$1" = purge ]; then
    rm -rf /var/lib/private/apikeyd /var/lib/apikeyd
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload || true
fi
SCRIPT
chmod 755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
mkdir -p "$out"
deb="$out/apikeyd_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
