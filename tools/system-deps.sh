#!/bin/sh
# Installs the system packages the tests use, where the machine allows it:
#   chromium    - the browser test of the built book (tests/book)
#   bubblewrap  - the sandbox in which `course grade-batch` runs student code
# Without root or apt the tests that need them say how to get them, and skip or degrade.
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo ">> installing system packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 \
    || echo "!! could not install:$missing (tests needing them will skip or degrade)"
else
  echo "!! missing:$missing. Install them (e.g. sudo apt-get install$missing) to run"
  echo "   the browser test and the sandboxed batch grader; those tests skip or degrade."
fi
exit 0
