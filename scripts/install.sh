#!/usr/bin/env bash
# Install a built tree (make install calls this): scripts/install.sh BUILD DESTDIR PREFIX SOVER
#
#   $PREFIX/bin                 tacnet, tacnet-broker, the four agency daemons and the generic
#                               one (tacnet-agency)
#   $PREFIX/libexec/tacnet      agency-NAME -> ../../bin/tacnet-...: the name the agency unit
#                               starts, NAME being the agency as provisioning names it
#                               (camhs, school, health_visiting, social_care, and each agency
#                               deploy/agencies.conf gives the generic profile -> tacnet-agency)
#   $PREFIX/share/tacnet        gazetteer, bank holidays, the example configs and the sharing
#                               and escalation policies (what `tacnet provision` reads)
#   $PREFIX/lib/systemd/system  the units, their /usr/local paths rewritten for PREFIX
#   $PREFIX/lib, include/tacnet, lib/pkgconfig
#                               libtacnet-client.so, its headers and tacnet-client.pc
# Nothing here touches /etc or starts a service: deploy/systemd/install.sh does that on a host.
set -euo pipefail
build="$1" destdir="$2" prefix="$3" sover="$4"
here="$(cd "$(dirname "$0")/.." && pwd)"
root="$destdir$prefix"
install -d "$root/bin" "$root/libexec/tacnet" "$root/share/tacnet/gazetteer" \
    "$root/share/doc/tacnet" "$root/lib/systemd/system" \
    "$root/lib/pkgconfig" "$root/include/tacnet"
for b in tacnet tacnet-broker tacnet-camhs tacnet-school tacnet-hv tacnet-social-care tacnet-agency; do
    install -m 0755 "$build/bin/$b" "$root/bin/"
done
for pair in camhs:tacnet-camhs school:tacnet-school health_visiting:tacnet-hv \
    social_care:tacnet-social-care; do
    ln -sfn "../../bin/${pair#*:}" "$root/libexec/tacnet/agency-${pair%%:*}"
done
# The agencies served by the generic daemon: the sections of agencies.conf with profile generic.
for name in $(awk '/^\[/ { s = substr($0, 2, index($0, "]") - 2) }
                   /^profile *= *generic *$/ { print s }' "$here/deploy/agencies.conf"); do
    ln -sfn ../../bin/tacnet-agency "$root/libexec/tacnet/agency-$name"
done
install -m 0644 "$here"/deploy/gazetteer/* "$root/share/tacnet/gazetteer/"
install -m 0644 "$here/deploy/bank-holidays-england-wales.txt" "$root/share/tacnet/"
for c in "$here"/deploy/*.conf; do
    sed -e "s|/usr/local/share/tacnet|$prefix/share/tacnet|g" "$c" >"$root/share/tacnet/$(basename "$c")"
    chmod 0644 "$root/share/tacnet/$(basename "$c")"
done
install -m 0644 "$here/README.md" "$root/share/doc/tacnet/"
for u in "$here"/deploy/systemd/*.service; do
    sed -e "s|/usr/local/bin/|$prefix/bin/|g" -e "s|/usr/local/libexec/|$prefix/libexec/|g" \
        -e "s|/usr/local/share/|$prefix/share/|g" "$u" >"$root/lib/systemd/system/$(basename "$u")"
    chmod 0644 "$root/lib/systemd/system/$(basename "$u")"
done
install -m 0755 "$build/lib/libtacnet-client.so.$sover" "$root/lib/"
ln -sfn "libtacnet-client.so.$sover" "$root/lib/libtacnet-client.so"
install -m 0644 "$here/services/client/client.h" "$here/common/err.h" \
    "$build/gen/api.pb-c.h" "$build/gen/events.pb-c.h" "$build/gen/wire.pb-c.h" \
    "$root/include/tacnet/"
cat >"$root/lib/pkgconfig/tacnet-client.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: tacnet-client
Description: talk to a tacnet agency daemon over its local API (libtacnet-client)
Version: $(sed -n 's/^#define TACNET_VERSION "\(.*\)"/\1/p' "$here/common/version.h")
Requires: libprotobuf-c libzmq
Cflags: -I\${includedir}/tacnet -I\${includedir}
Libs: -L\${libdir} -ltacnet-client
PC
echo "install: tacnet into $root"
