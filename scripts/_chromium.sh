# Sourced by scripts/test: Debian's Chromium (and CJK fonts, so Chinese renders in
# screenshots) for the browser tests, installed from Debian's packages when missing.
# Playwright downloads no browser. With CI=true a Chromium that cannot be installed
# fails the run; otherwise the browser tests say they were skipped and why.
if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/fonts/opentype/noto ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    echo "installing chromium and fonts-noto-cjk from Debian's packages"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends chromium fonts-noto-cjk >/dev/null; } ||
      echo "apt-get could not install chromium" >&2
  fi
fi
if [ ! -x /usr/bin/chromium ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "Chromium is not installed (apt-get install chromium) and CI=true: failing" >&2
    exit 1
  fi
  echo "Chromium is not installed: the browser tests (tests/browser) will be skipped"
fi
