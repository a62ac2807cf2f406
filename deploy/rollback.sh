#!/bin/sh
# Goes back to the release installed before the current one (/opt/anze-bot/previous), keeping the
# data wherever that is safe:
#
#   sudo /opt/anze-bot/current/deploy/rollback.sh
#
# When the upgrade applied migrations (the current release has migrations the previous one lacks),
# the database has a schema the previous release's code was not written for: the backup
# install.sh took before the upgrade is restored first (what was written since is lost, and this
# says so). Without new migrations, the database is kept as it is. The service is stopped, and
# started again if it was running. See docs/部署运维手册.md (回滚).
#
# Environment: ANZE_NODE, ANZE_DESTDIR and ANZE_USER, as for install.sh.
set -eu

D=${ANZE_DESTDIR:-}
PREFIX=$D/opt/anze-bot
ETC=$D/etc/anze-bot
DATA=$D/var/lib/anze-bot
USER_NAME=${ANZE_USER:-anze-bot}
as_user=$([ -z "$D" ] || [ -n "${ANZE_USER:-}" ] && echo 1 || true)

say() { echo "rollback.sh: $*"; }
die() {
  echo "rollback.sh: $*" >&2
  exit 1
}

NODE=${ANZE_NODE:-$(command -v node || true)}
[ -n "$NODE" ] && [ -x "$NODE" ] || die "Node.js is not on PATH: set ANZE_NODE=/path/to/node."
[ -z "$as_user" ] || [ "$(id -u)" = 0 ] || die "run this as root (sudo)."
current=$(readlink "$PREFIX/current" 2>/dev/null || true)
previous=$(readlink "$PREFIX/previous" 2>/dev/null || true)
[ -n "$current" ] || die "$PREFIX/current does not exist: nothing is installed."
[ -n "$previous" ] && [ "$previous" != "$current" ] && [ -d "$PREFIX/$previous" ] ||
  die "there is no previous release to go back to ($PREFIX/previous)."

# Migrations of the current release that the previous one does not have: what the upgrade applied.
newer=$("$NODE" -e '
  const { readdirSync } = require("node:fs");
  const names = (dir) => readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  const old = new Set(names(process.argv[2]));
  console.log(names(process.argv[1]).filter((n) => !old.has(n)).join(" "));' \
  "$PREFIX/$current/dist/prisma/migrations" "$PREFIX/$previous/dist/prisma/migrations")

backup=""
if [ -n "$newer" ]; then
  # The newest backup install.sh took when it upgraded from $previous to $current.
  backup=$(ls -1 "$DATA/backups/before-$current-from-$previous-"*.db 2>/dev/null | sort | tail -n 1 || true)
  [ -n "$backup" ] ||
    die "$current applied migrations ($newer) that $previous lacks, and there is no backup $DATA/backups/before-$current-from-$previous-*.db to restore: $previous cannot run on this database. Restore a backup taken before the upgrade by hand (anze restore), then switch $PREFIX/current."
fi

running=0
systemd=""
if [ -z "$D" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then systemd=1; fi
if [ -n "$systemd" ] && systemctl is-active --quiet anze-bot; then running=1; fi
if [ "$running" = 1 ]; then systemctl stop anze-bot; fi

if [ -n "$backup" ]; then
  say "$current applied migrations $previous lacks ($newer): restoring the backup taken before the upgrade, $backup"
  say "what was written since the upgrade is lost (the database as it was is kept beside it, .before-restore-…)"
  if [ -n "$as_user" ]; then
    runuser -u "$USER_NAME" -- env ANZE_ENV_FILE="$ETC/anze-bot.env" "$NODE" "$PREFIX/$current/bin/anze.mjs" restore "$backup"
  else
    ANZE_ENV_FILE="$ETC/anze-bot.env" "$NODE" "$PREFIX/$current/bin/anze.mjs" restore "$backup"
  fi
else
  say "$current applied no migrations that $previous lacks: the database is kept as it is"
fi

ln -sfn "$previous" "$PREFIX/current.new"
mv -T "$PREFIX/current.new" "$PREFIX/current"
rm -f "$PREFIX/previous"
say "$PREFIX/current → $previous ($current stays in $PREFIX/$current; its install.sh upgrades to it again)"
if [ "$running" = 1 ]; then
  systemctl start anze-bot
  say "anze-bot started"
fi
