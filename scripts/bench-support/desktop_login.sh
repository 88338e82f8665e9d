#!/usr/bin/env bash
# A desktop login in miniature (as tests/secrets_select.rs does): gnome-keyring
# unlocked with a login password on this session bus, then the command. Run it
# under dbus-run-session. It waits until the daemon owns its bus name and the
# default keyring exists, because a client that asks earlier makes D-Bus start
# a second, locked daemon.
#
#   dbus-run-session -- desktop_login.sh HOME COMMAND...
set -euo pipefail
export HOME=$1 XDG_DATA_HOME=$1/data XDG_RUNTIME_DIR=$1/run
shift
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
printf 'login-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
ask() { dbus-send --session --print-reply "$@" 2>/dev/null; }
for _ in $(seq 1 100); do
  ask --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner \
      string:org.freedesktop.secrets | grep -q 'boolean true' &&
  ask --dest=org.freedesktop.secrets /org/freedesktop/secrets org.freedesktop.Secret.Service.ReadAlias \
      string:default | grep -q 'object path "/org/freedesktop/secrets/collection/' && break
  sleep 0.1
done
exec "$@"
