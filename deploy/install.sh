#!/usr/bin/env bash
# Install or upgrade qtbot as a systemd service on Debian/Ubuntu.
#
#   sudo deploy/install.sh                      # from a checkout: installs that checkout
#   sudo deploy/install.sh --source /path/to/qtbot
#
# Idempotent: run it again after `git pull` to upgrade. It creates the `qtbot` system user, a
# virtualenv in /opt/qtbot/.venv with qtbot installed from the checkout, /etc/qtbot/qtbot.env
# from .env.example (0640 root:qtbot, only if absent: your edits are never overwritten), the
# state directory /var/lib/qtbot, the unit /etc/systemd/system/qtbot.service and the helper
# /usr/local/sbin/qtbot-admin. It does not start the service: it prints the next steps.
#
# --root DIR installs into DIR instead of / (a throwaway tree for tests or image building;
# systemctl is then never called and the user is written to DIR/etc/passwd).
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: install.sh [--source DIR] [--root DIR] [--python PYTHON] [--no-systemctl]
                  [--journald-limits] [--pip-arg ARG]...

  --source DIR       qtbot checkout to install (default: the checkout holding this script)
  --root DIR         install under DIR instead of / (implies --no-systemctl)
  --python PYTHON    interpreter for the virtualenv, 3.11 or newer (default: python3)
  --no-systemctl     do not run `systemctl daemon-reload`
  --journald-limits  also cap the system journal (deploy/journald-qtbot.conf)
  --pip-arg ARG      extra argument for `pip install`, repeatable
                     (offline: --pip-arg --no-index --pip-arg --find-links=/path/to/wheels)
USAGE
}

die() {
    echo "install.sh: $*" >&2
    exit 2
}

note() {
    echo "qtbot install: $*"
}

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
SOURCE=$(dirname -- "$SCRIPT_DIR")
ROOT=/
PYTHON=python3
SYSTEMCTL=1
JOURNALD=0
PIP_ARGS=()
SERVICE_USER=qtbot

while [ $# -gt 0 ]; do
    case "$1" in
        --source) [ $# -ge 2 ] || die "--source needs a directory"; SOURCE=$2; shift 2 ;;
        --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
        --python) [ $# -ge 2 ] || die "--python needs an interpreter"; PYTHON=$2; shift 2 ;;
        --no-systemctl) SYSTEMCTL=0; shift ;;
        --journald-limits) JOURNALD=1; shift ;;
        --pip-arg) [ $# -ge 2 ] || die "--pip-arg needs a value"; PIP_ARGS+=("$2"); shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 ...)"
if [ ! -f "$SOURCE/pyproject.toml" ] || [ ! -f "$SOURCE/deploy/qtbot.service" ]; then
    die "$SOURCE is not a qtbot checkout (no pyproject.toml / deploy/qtbot.service)"
fi
SOURCE=$(cd -- "$SOURCE" && pwd)
mkdir -p -- "$ROOT"
ROOT=$(cd -- "$ROOT" && pwd)
if [ "$ROOT" != / ]; then
    SYSTEMCTL=0
fi

# Absolute path of $1 inside the target root.
in_root() {
    if [ "$ROOT" = / ]; then
        printf '%s' "$1"
    else
        printf '%s%s' "$ROOT" "$1"
    fi
}

OPT=$(in_root /opt/qtbot)
VENV="$OPT/.venv"
ETC=$(in_root /etc/qtbot)
ENV_FILE="$ETC/qtbot.env"
STATE=$(in_root /var/lib/qtbot)
UNIT=$(in_root /etc/systemd/system/qtbot.service)
ADMIN=$(in_root /usr/local/sbin/qtbot-admin)

command -v "$PYTHON" >/dev/null 2>&1 \
    || die "$PYTHON not found; install it: apt install -y python3 python3-venv"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || die "Python 3.11+ is required, $PYTHON is $("$PYTHON" -V 2>&1); pass --python"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null \
    || die "the venv module is missing: apt install -y python3-venv"

# --- the service user ---------------------------------------------------------------------
user_exists() {
    if [ "$ROOT" = / ]; then
        getent passwd "$SERVICE_USER" >/dev/null
    else
        grep -q "^$SERVICE_USER:" "$ROOT/etc/passwd" 2>/dev/null
    fi
}

if user_exists; then
    note "user $SERVICE_USER exists"
else
    command -v useradd >/dev/null 2>&1 || die "useradd not found (apt install -y passwd)"
    useradd_root=()
    if [ "$ROOT" != / ]; then
        # A throwaway root may have no account files yet; useradd --prefix edits them in place.
        mkdir -p "$ROOT/etc"
        for file in passwd group shadow gshadow; do
            [ -e "$ROOT/etc/$file" ] || install -m 0640 /dev/null "$ROOT/etc/$file"
        done
        chmod 0644 "$ROOT/etc/passwd" "$ROOT/etc/group"
        useradd_root=(--prefix "$ROOT")
    fi
    useradd "${useradd_root[@]}" --system --user-group --home-dir /var/lib/qtbot \
        --no-create-home --shell /usr/sbin/nologin --comment "qtbot trading daemon" \
        "$SERVICE_USER"
    note "created system user $SERVICE_USER"
fi

if [ "$ROOT" = / ]; then
    SERVICE_UID=$(id -u "$SERVICE_USER")
    SERVICE_GID=$(id -g "$SERVICE_USER")
else
    SERVICE_UID=$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $3 }' "$ROOT/etc/passwd")
    SERVICE_GID=$(awk -F: -v u="$SERVICE_USER" '$1 == u { print $4 }' "$ROOT/etc/passwd")
fi

# --- directories ----------------------------------------------------------------------------
install -d -m 0755 -o 0 -g 0 "$OPT"
install -d -m 0750 -o 0 -g "$SERVICE_GID" "$ETC"
install -d -m 0750 -o "$SERVICE_UID" -g "$SERVICE_GID" "$STATE"

# --- the virtualenv and qtbot ----------------------------------------------------------------
if [ -x "$VENV/bin/python" ]; then
    note "upgrading qtbot in $VENV"
else
    note "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
# Build from a clean copy so root never writes build files into the user's checkout.
BUILD=$(mktemp -d)
trap 'rm -rf -- "$BUILD"' EXIT
tar -C "$SOURCE" --exclude=./.venv --exclude=./.git --exclude=./data --exclude=./build \
    --exclude=./.env --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache \
    --exclude=.ruff_cache --exclude=.hypothesis -cf - . | tar -C "$BUILD" -xf -
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_ARGS[@]}" "$BUILD"
[ -x "$VENV/bin/qtbot" ] || die "pip did not install the qtbot command into $VENV"
install -m 0644 -o 0 -g 0 "$SOURCE/README.md" "$OPT/README.md"
install -m 0644 -o 0 -g 0 "$SOURCE/.env.example" "$OPT/env.example"

# --- settings (never overwritten) -------------------------------------------------------------
if [ -e "$ENV_FILE" ]; then
    note "kept $(printf '%s' "${ENV_FILE#"${ROOT%/}"}") (compare with /opt/qtbot/env.example for new settings)"
else
    # The unit sets QTBOT_DATA_DIR too, but an EnvironmentFile wins over Environment=.
    sed -e 's|^QTBOT_DATA_DIR=.*|QTBOT_DATA_DIR=/var/lib/qtbot|' \
        -e 's|^QTBOT_LOG__FORMAT=.*|QTBOT_LOG__FORMAT=json|' \
        "$SOURCE/.env.example" >"$ENV_FILE.tmp"
    mv -- "$ENV_FILE.tmp" "$ENV_FILE"
    note "created /etc/qtbot/qtbot.env from .env.example"
fi
chown 0:"$SERVICE_GID" "$ENV_FILE"
chmod 0640 "$ENV_FILE"

# --- unit, helper, journald -------------------------------------------------------------------
install -d -m 0755 "$(dirname -- "$UNIT")" "$(dirname -- "$ADMIN")"
if cmp -s "$SOURCE/deploy/qtbot.service" "$UNIT"; then
    note "unit unchanged"
else
    install -m 0644 -o 0 -g 0 "$SOURCE/deploy/qtbot.service" "$UNIT"
    note "installed /etc/systemd/system/qtbot.service"
fi
install -m 0755 -o 0 -g 0 "$SOURCE/deploy/qtbot-admin" "$ADMIN"
if [ "$JOURNALD" = 1 ]; then
    JOURNALD_CONF=$(in_root /etc/systemd/journald.conf.d/qtbot.conf)
    install -d -m 0755 "$(dirname -- "$JOURNALD_CONF")"
    install -m 0644 -o 0 -g 0 "$SOURCE/deploy/journald-qtbot.conf" "$JOURNALD_CONF"
    note "installed journald limits (/etc/systemd/journald.conf.d/qtbot.conf)"
    if [ "$SYSTEMCTL" = 1 ]; then
        systemctl restart systemd-journald
    fi
fi

if [ "$SYSTEMCTL" = 1 ]; then
    systemctl daemon-reload
    note "systemd reloaded"
fi

cat <<NEXT

qtbot is installed ($("$VENV/bin/python" -c 'import importlib.metadata as m; print("qtbot", m.version("qtbot"))')).
Next steps:
  1. edit the settings:        sudoedit /etc/qtbot/qtbot.env
  2. check them:               sudo qtbot-admin config
  3. start at boot and now:    sudo systemctl enable --now qtbot
  4. follow the logs:          journalctl -u qtbot -f
  5. status / pause / resume:  sudo qtbot-admin status
After an upgrade (git pull && sudo deploy/install.sh): sudo systemctl restart qtbot
NEXT
