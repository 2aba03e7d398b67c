#!/bin/sh
# Vendors the JavaScript the book needs into _vendor/vendor/ (published as _static/vendor/), so that math and embedded widget
# state render with no internet: MathJax 3, RequireJS and the ipywidgets HTML manager, taken
# from the npm registry with `npm pack` (cached in build-artifacts/npm/). Run before the build;
# _config.yml points Sphinx and myst-nb at these copies, and _static/cdn-fallback.js falls back
# to the public CDN only when a copy is missing.
# Usage: tools/vendor-js.sh            (idempotent; exits non-zero if npm is unavailable)
set -eu
cd "$(dirname "$0")/.."
MATHJAX=mathjax@3.2.2
MANAGER=@jupyter-widgets/html-manager@1.0.6
REQUIREJS=requirejs@2.3.6
dest=_vendor/vendor
cache=build-artifacts/npm
stamp="$dest/.versions"
want="$MATHJAX $MANAGER $REQUIREJS $(cksum < tools/widgets-config.js)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "vendor-js: npm not found" >&2; exit 1; }
mkdir -p "$cache"
for pkg in $MATHJAX $MANAGER $REQUIREJS; do
  name=$(echo "$pkg" | sed 's/^@//; s/\//-/; s/@/-/')
  [ -f "$cache/$name.tgz" ] || (cd "$cache" && npm pack --silent "$pkg" >/dev/null 2>&1)
  [ -f "$cache/$name.tgz" ] || { echo "vendor-js: could not fetch $pkg" >&2; exit 1; }
done
rm -rf "$dest" "$cache/x" && mkdir -p "$dest/mathjax" "$dest/html-manager" "$dest/requirejs"
for t in "$cache"/*.tgz; do
  mkdir -p "$cache/x/$(basename "$t" .tgz)" && tar xzf "$t" -C "$cache/x/$(basename "$t" .tgz)"
done
mj="$cache/x/mathjax-3.2.2/package/es5"
cp "$mj/tex-mml-chtml.js" "$dest/mathjax/"
for d in a11y adaptors input output sre ui; do cp -r "$mj/$d" "$dest/mathjax/"; done
cp -r "$cache/x/jupyter-widgets-html-manager-1.0.6/package/dist/." "$dest/html-manager/"
rm -f "$dest"/html-manager/*.map "$dest"/html-manager/embed.js "$dest"/html-manager/libembed-amd.js
cp "$cache/x/requirejs-2.3.6/package/require.js" "$dest/requirejs/"
cp tools/widgets-config.js "$dest/"
rm -rf "$cache/x"
echo "$want" > "$stamp"
echo "vendor-js: $(du -sh "$dest" | cut -f1) vendored into $dest"
