#!/usr/bin/env bash
# Everything `make run` and `make test` need, on a fresh machine, with nothing done by hand.
#
# The heavy parts live in a cache outside the clone, keyed by a hash of what defines them,
# so a second clone (or CI) reuses them:
#   $CACHE/app-<hash of requirements.lock>      the app's dependencies (Python >= 3.11)
#   $CACHE/rasa-<hash of rasa_project/requirements.lock>   Rasa 3.6.21 (Python 3.10)
#   $CACHE/models/nlu-<hash of the training data>.tar.gz  the trained NLU model
# The clone gets a thin .venv whose .pth file points at the cached packages and at this
# clone's own code, plus the links .venv-rasa and .models. Running it again only does
# what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE="${WEGWIJS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wegwijs}"
mkdir -p "$CACHE/models" data

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# A python of the wanted minor version, from PATH, pyenv or the usual pyenv folder.
find_python() {
    local want=$1 candidate
    for candidate in "python$want" "$(command -v pyenv >/dev/null && pyenv root 2>/dev/null)/versions/$want"*/bin/"python$want" \
        "$HOME"/.pyenv/versions/"$want"*/bin/"python$want" /root/.pyenv/versions/"$want"*/bin/"python$want" \
        /usr/bin/"python$want" /usr/local/bin/"python$want"; do
        if "$candidate" -c 'import sys, venv' >/dev/null 2>&1; then
            command -v "$candidate" 2>/dev/null || echo "$candidate"
            return 0
        fi
    done
    return 1
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# Build a venv at $1 with $2 from requirements file $3, unless it is already complete; the
# optional python code $4 runs in it before it counts as complete.
# Two set-ups at once (two clones, or CI beside a developer) take turns on the cache.
build_venv() {
    local dir=$1 python=$2 requirements=$3 finish=${4:-}
    exec 9>"$CACHE/.lock"
    flock 9
    if [ -f "$dir/.complete" ]; then flock -u 9; return 0; fi
    rm -rf "$dir"
    "$python" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --upgrade "pip==24.3.1" "setuptools==70.3.0" wheel
    "$dir/bin/python" -m pip install --quiet --requirement "$requirements"
    if [ -n "$finish" ]; then "$dir/bin/python" -c "$finish"; fi
    touch "$dir/.complete"
    flock -u 9
}

APP_PYTHON=""
for version in 3.11 3.12 3.13; do
    if APP_PYTHON=$(find_python "$version"); then break; fi
done
[ -n "$APP_PYTHON" ] || { echo "Python 3.11 or newer is needed for the app." >&2; exit 1; }
RASA_PYTHON=$(find_python 3.10) || {
    echo "Python 3.10 is needed for Rasa (install it, e.g. 'pyenv install 3.10')." >&2
    exit 1
}

APP_VERSION=$("$APP_PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
APP_DEPS="$CACHE/app-$(hash_of requirements.lock <(echo "$APP_VERSION"))"
if [ ! -f "$APP_DEPS/.complete" ]; then
    say "Installing the app's dependencies (Python $APP_VERSION) into $APP_DEPS"
    # deduce (masking personal data for the NLU inbox) builds its lookup structures into its
    # package folder on first use, for about two minutes: here, once, not at the first message.
    build_venv "$APP_DEPS" "$APP_PYTHON" requirements.lock 'from deduce import Deduce; Deduce()'
fi

# The thin per-clone environment: this clone's code first, then the cached packages.
if [ ! -x .venv/bin/python ] || [ -L .venv ]; then
    rm -rf .venv
    "$APP_PYTHON" -m venv --without-pip .venv
fi
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
DEPS_SITE=$("$APP_DEPS/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\nimport site; site.addsitedir(%s)\n' "$ROOT" "'$DEPS_SITE'" > "$SITE/wegwijs-cache.pth"
cat > .venv/bin/wegwijs <<SCRIPT
#!$ROOT/.venv/bin/python
from wegwijs.cli import main

main()
SCRIPT
chmod +x .venv/bin/wegwijs

RASA_VENV="$CACHE/rasa-$(hash_of rasa_project/requirements.lock)"
if [ ! -f "$RASA_VENV/.complete" ]; then
    say "Installing Rasa 3.6.21 (Python 3.10) into $RASA_VENV; this takes a few minutes, once"
    build_venv "$RASA_VENV" "$RASA_PYTHON" rasa_project/requirements.lock
fi
# The browser tests drive Debian's chromium (Playwright's own browser download can't work here).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "Installing Debian's chromium for the browser tests"
        apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
    else
        echo "chromium is not installed, and the browser tests need it: apt-get install chromium" >&2
    fi
fi

ln -sfn "$RASA_VENV" .venv-rasa
ln -sfn "$CACHE/models" .models

.venv/bin/wegwijs nlu prepare
