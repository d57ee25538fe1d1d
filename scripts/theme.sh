#!/bin/sh
# make theme: fetch the NL Design System CSS with npm into a temporary directory and copy the built files,
# with their versions and licences, under web/static/nlds/ (committed: `make run` and `make test` need no Node).
# `npm pack` downloads the published tarballs only; no package script runs.
set -eu
COMPONENTS=@utrecht/component-library-css@9.0.4
TOKENS=@nl-design-system-unstable/voorbeeld-design-tokens@7.4.1
OUT="$(cd "$(dirname "$0")/.." && pwd)/web/static/nlds"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "$COMPONENTS" "$TOKENS" > packed.txt
mkdir components tokens
tar xzf "$(sed -n 1p packed.txt)" -C components
tar xzf "$(sed -n 2p packed.txt)" -C tokens
mkdir -p "$OUT"
cp components/package/dist/index.css "$OUT/utrecht-component-library.css"
# variables.css sets the tokens on :root; CITYDEAL_THEME replaces this file with an organisation's own.
cp tokens/package/dist/variables.css "$OUT/theme.css"
cp components/package/LICENSE.md "$OUT/LICENCE-utrecht-component-library-css.md"
cp tokens/package/LICENSE.md "$OUT/LICENCE-voorbeeld-design-tokens.md"
{
  echo "# Fetched by \`make theme\` (scripts/theme.sh) with npm $(npm --version); licence EUPL-1.2"
  for dir in components tokens; do
    node -e 'const p=require(process.argv[1]); console.log(`${p.name}@${p.version}`)' "$TMP/$dir/package/package.json"
  done
  echo "utrecht-component-library.css  <- @utrecht/component-library-css dist/index.css"
  echo "theme.css                      <- @nl-design-system-unstable/voorbeeld-design-tokens dist/variables.css"
} > "$OUT/VERSION"
echo "theme: $(sed -n 2,3p "$OUT/VERSION" | tr '\n' ' ')-> $OUT"
