#!/usr/bin/env bash
# Install tacnet on this host as hardened systemd services (run as root, from a built tree).
#
#   deploy/systemd/install.sh broker                 # the partnership's broker host
#   deploy/systemd/install.sh agency camhs           # an agency host: camhs | school |
#                                                    # health_visiting (hv) | social_care, or
#                                                    # an agency of agencies.conf served by
#                                                    # tacnet-agency (family_support)
#
# Installs the build under /usr/local (scripts/install.sh, as `make install`: binaries, the
# agency-NAME links the unit starts, shared data, units, libtacnet-client), the example config
# to /etc/tacnet (only if none is there yet: edit it), and creates the service user. Keys and the signed roster come from the offline provisioning machine
# (`tacnet provision`) and must already be in /etc/tacnet: root.pub, roster.bin and
# keys/<name>.key (0600, root-owned: systemd hands the key to the service by LoadCredential=).
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$here/build/default/bin"
[[ $EUID -eq 0 ]] || { echo "install.sh: run as root" >&2; exit 1; }
[[ -x "$bin/tacnet" ]] || { echo "install.sh: build first (make)" >&2; exit 1; }

role="${1:-}"
case "$role" in
broker) name=broker; unit=tacnet-broker.service; conf=broker.conf ;;
agency)
    name="${2:-}"
    # The agency as provisioning names it (its key file, config, view and user).
    case "$name" in
    camhs | school | health_visiting | social_care) ;;
    hv | health-visiting) name=health_visiting ;;
    social-care) name=social_care ;;
    *)
        # Another agency of the partnership: agencies.conf gives it the generic profile, and
        # make install links agency-NAME to tacnet-agency. Its config starts from the generic
        # example with [agency] name set.
        [[ $name =~ ^[a-z][a-z0-9_]+$ ]] && grep -q "^\[$name\]" "$here/deploy/agencies.conf" || {
            echo "install.sh: agency must be camhs, school, health_visiting (hv), social_care or an agency of deploy/agencies.conf" >&2
            exit 2
        }
        generic=1
        ;;
    esac
    conf=$name.conf
    [[ -z ${generic:-} ]] || conf=agency.conf
    unit="tacnet-agency@$name.service"
    ;;
*) echo "usage: install.sh broker | install.sh agency camhs|school|health_visiting|social_care|NAME" >&2; exit 2 ;;
esac

for f in /etc/tacnet/root.pub /etc/tacnet/roster.bin "/etc/tacnet/keys/$name.key"; do
    [[ -f $f ]] || { echo "install.sh: $f is missing (copy it from the provisioning machine)" >&2; exit 1; }
done
chmod 0700 /etc/tacnet/keys
chmod 0600 "/etc/tacnet/keys/$name.key"

[[ -f "$here/build/default/lib/libtacnet-client.so.0" ]] || make -C "$here" client-shared
"$here/scripts/install.sh" "$here/build/default" "" /usr/local 0
id "tacnet-$name" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir "/var/lib/tacnet/$name" --shell /usr/sbin/nologin "tacnet-$name"
# The config is the service's to read and nobody else's (0640 root:tacnet-NAME); state lives in
# StateDirectory (0700) and the units run with UMask=0077, so no file of theirs is world-readable.
if [[ ! -f "/etc/tacnet/$name.conf" ]]; then
    install -m 0640 -o root -g "tacnet-$name" "$here/deploy/$conf" "/etc/tacnet/$name.conf"
    sed -i -e "s|^key = credential:.*|key = credential:$name.key|" \
        -e "s|^name = .*|name = $name|" -e "s|/var/lib/tacnet/[a-z_]*$|/var/lib/tacnet/$name|" \
        "/etc/tacnet/$name.conf"
    echo "install.sh: wrote /etc/tacnet/$name.conf from deploy/$conf — review it"
fi
chown "root:tacnet-$name" "/etc/tacnet/$name.conf"
chmod 0640 "/etc/tacnet/$name.conf"
chmod 0644 /etc/tacnet/roster.bin /etc/tacnet/root.pub

systemctl daemon-reload
systemctl enable --now "$unit"
systemctl --no-pager status "$unit" | head -5
