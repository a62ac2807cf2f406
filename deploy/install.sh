#!/bin/sh
# Installs this release bundle on a Linux server that has Node.js and nothing else:
#
#   tar xzf anze-bot-<version>-linux-<arch>-node<major>-glibc<min>.tar.gz
#   sudo ./anze-bot-<version>-…/deploy/install.sh
#
# It first checks that this machine can run the bundle (Node's version and ABI, the architecture,
# glibc) and says plainly what does not fit. Then: the system user anze-bot; the release in
# /opt/anze-bot/<version> with /opt/anze-bot/current pointing to it (and /opt/anze-bot/previous to
# the one before); /etc/anze-bot/anze-bot.env from the example, mode 0600, kept if it exists;
# /var/lib/anze-bot for the database and its backups; the systemd units, enabled.
#
# On an upgrade (another version is current) it also backs up the database before anything
# changes, applies the new release's migrations and restarts the service if it was running.
# See docs/部署运维手册.md (installation, upgrade, rollback).
#
# Environment: ANZE_NODE, the node to use (default: the one on PATH). ANZE_DESTDIR, for tests and
# packagers: install under that folder instead of /, without touching systemd (the units are
# written under it, not enabled or started), and as the current user — unless ANZE_USER names the
# service user, when (as root) it is created and owns the data as in a real installation.
# ANZE_USER: the service user (default anze-bot; the units run as it).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
D=${ANZE_DESTDIR:-}
PREFIX=$D/opt/anze-bot
ETC=$D/etc/anze-bot
DATA=$D/var/lib/anze-bot
BIN=$D/usr/local/bin
USER_NAME=${ANZE_USER:-anze-bot}
UNITS=$D/etc/systemd/system

say() { echo "install.sh: $*"; }
die() {
  echo "install.sh: $*" >&2
  exit 1
}

# 1. Can this machine run the bundle? Checked before anything is changed, and without root.
NODE=${ANZE_NODE:-$(command -v node || true)}
[ -n "$NODE" ] && [ -x "$NODE" ] || die "Node.js is not installed (or not on PATH; set ANZE_NODE=/path/to/node). Install Node.js $(sed -n 's/.*"nodeMajor": \([0-9]*\).*/\1/p' "$here/bundle.json") (the official Linux binaries from nodejs.org, or the distribution's package) and run this again."
NODE=$(readlink -f "$NODE")
field() { "$NODE" -p "require('$here/bundle.json').$1"; }
version=$(field version)
want_arch=$(field arch)
want_major=$(field nodeMajor)
want_abi=$(field abi)
want_glibc=$(field glibc)
have_node=$("$NODE" -p 'process.versions.node')
have_arch=$("$NODE" -p 'process.arch')
have_abi=$("$NODE" -p 'process.versions.modules')
have_glibc=$("$NODE" -p 'process.report.getReport().header.glibcVersionRuntime || ""')

[ "$have_arch" = "$want_arch" ] ||
  die "this bundle is built for $want_arch, but this machine (its Node.js) is $have_arch. Build a bundle on a $have_arch machine: npm ci && npm run bundle."
[ "$have_abi" = "$want_abi" ] ||
  die "this bundle is built for Node.js $want_major (module ABI $want_abi), but $NODE is Node.js $have_node (ABI $have_abi). Install Node.js $want_major, or build a bundle with this Node.js: npm ci && npm run bundle."
"$NODE" -e '
  const [major, minor] = process.versions.node.split(".").map(Number);
  process.exit((major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 24 ? 0 : 1);' ||
  die "Node.js $have_node is too old: this release needs ^20.19, ^22.12 or >= 24. Update Node.js $want_major."
[ -n "$have_glibc" ] ||
  die "this machine's C library is not glibc (musl, e.g. Alpine?): the bundle's native code needs glibc $want_glibc or newer."
"$NODE" -e '
  const [have, want] = process.argv.slice(1).map((v) => v.split(".").map(Number));
  process.exit(have[0] > want[0] || (have[0] === want[0] && have[1] >= want[1]) ? 0 : 1);' "$have_glibc" "$want_glibc" ||
  die "this machine has glibc $have_glibc, but the bundle's native code needs glibc $want_glibc or newer. Build a bundle on a machine with this glibc (or older): npm ci && npm run bundle."
say "this machine fits: Node.js $have_node on $have_arch, glibc $have_glibc (needs $want_glibc)"

# 2. Install.
# As the service user: always on a real installation; under ANZE_DESTDIR only when ANZE_USER says which.
as_user=$([ -z "$D" ] || [ -n "${ANZE_USER:-}" ] && echo 1 || true)
if [ -n "$as_user" ]; then
  [ "$(id -u)" = 0 ] || die "the checks passed; now run this as root (sudo) to install."
  if ! id "$USER_NAME" >/dev/null 2>&1; then
    nologin=$(command -v nologin || echo /sbin/nologin)
    useradd --system --user-group --home-dir "$DATA" --no-create-home --shell "$nologin" "$USER_NAME"
    say "created the system user $USER_NAME"
  fi
  owned="-o $USER_NAME -g $USER_NAME"
else
  owned=""
fi
systemd=$([ -z "$D" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] && echo 1 || true)
install -d -m 0755 "$PREFIX" "$ETC" "$BIN"
# shellcheck disable=SC2086 # $owned is two options or none
install -d $owned -m 0750 "$DATA" "$DATA/backups"

dest="$PREFIX/$version"
if [ -e "$dest" ]; then
  [ "$(readlink -f "$here")" = "$(readlink -f "$dest")" ] || die "$dest exists already: to install it again, remove it first (rm -rf $dest)."
else
  rm -rf "$dest.partial"
  cp -a "$here" "$dest.partial"
  [ -z "$as_user" ] || chown -R root:root "$dest.partial"
  chmod -R go-w "$dest.partial"
  mv "$dest.partial" "$dest"
  say "installed the release in $dest"
fi

if [ ! -e "$ETC/anze-bot.env" ]; then
  # shellcheck disable=SC2086
  install $owned -m 0600 "$dest/deploy/anze-bot.env.example" "$ETC/anze-bot.env"
  fresh_env=1
  say "wrote $ETC/anze-bot.env from the example (mode 0600): fill in the WeCom settings"
fi
[ -e "$ETC/calendar.json" ] || install -m 0644 "$dest/samples/calendar.json" "$ETC/calendar.json"

# The release's own commands, as the service user, on the installed configuration.
anze() {
  if [ -n "$as_user" ]; then
    runuser -u "$USER_NAME" -- env ANZE_ENV_FILE="$ETC/anze-bot.env" "$NODE" "$dest/bin/anze.mjs" "$@"
  else
    ANZE_ENV_FILE="$ETC/anze-bot.env" "$NODE" "$dest/bin/anze.mjs" "$@"
  fi
}
anze check-config "$ETC/anze-bot.env"

old=$(readlink "$PREFIX/current" 2>/dev/null || true)
running=0
if [ -n "$systemd" ] && systemctl is-active --quiet anze-bot; then running=1; fi
if [ -n "$old" ] && [ "$old" != "$version" ]; then
  # An upgrade: stop, back up, switch, migrate. deploy/rollback.sh restores this backup when the
  # migrations changed the database.
  if [ "$running" = 1 ]; then systemctl stop anze-bot; fi
  db=$(grep -E '^DATABASE_URL=file:' "$ETC/anze-bot.env" | sed 's/^DATABASE_URL=file://' || true)
  if [ -n "$db" ] && [ -e "$db" ]; then
    backup="$DATA/backups/before-$version-from-$old-$(date +%Y%m%d-%H%M%S).db"
    anze backup "$backup"
    say "backed up the database before the upgrade: $backup"
  fi
  ln -sfn "$old" "$PREFIX/previous"
fi
ln -sfn "$version" "$PREFIX/current.new"
mv -T "$PREFIX/current.new" "$PREFIX/current"
ln -sfn "$PREFIX/current/bin/anze" "$BIN/anze"
say "$PREFIX/current → $version${old:+ (previous: $old)}"
if [ -n "$old" ] && [ "$old" != "$version" ]; then anze migrate; fi

if [ -n "$systemd" ] || [ -n "$D" ]; then
  install -d -m 0755 "$UNITS"
  for unit in anze-bot.service anze-bot-backup.service anze-bot-backup.timer; do
    sed -e "s|@NODE@|$NODE|g" -e "s|^User=.*|User=$USER_NAME|" -e "s|^Group=.*|Group=$USER_NAME|" \
      "$dest/deploy/$unit" >"$UNITS/$unit"
    chmod 0644 "$UNITS/$unit"
  done
fi
if [ -n "$systemd" ]; then
  systemctl daemon-reload
  systemctl enable anze-bot.service anze-bot-backup.timer >/dev/null
  systemctl start anze-bot-backup.timer
  if [ "$running" = 1 ] || { [ -n "$old" ] && [ -z "${fresh_env:-}" ]; }; then
    systemctl restart anze-bot
    say "anze-bot restarted; systemctl status anze-bot, journalctl -u anze-bot -f"
  else
    say "next: edit $ETC/anze-bot.env, then systemctl start anze-bot"
  fi
elif [ -z "$D" ]; then
  say "no systemd here: the units are in $dest/deploy/ (replace @NODE@ with $NODE)"
fi
