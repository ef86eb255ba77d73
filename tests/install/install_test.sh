#!/usr/bin/env bash
# An installed optipfair works without the source tree: `cmake --install` into a fresh prefix, the
# prefix moved elsewhere, and the moved binary runs fair-prune on the bundled demo model from its own
# share/ folder (proved by editing the installed prompt pairs and seeing the run use them). The bash
# completion script it installs completes commands and options.
#   install_test.sh <build-dir>
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
mv "$work/prefix" "$work/moved"
share="$work/moved/share/optipfair"
for f in bin/optipfair share/optipfair/models/demo/model.safetensors share/optipfair/data/prompt_pairs/default.jsonl \
         share/optipfair/data/prompt_pairs/attributes.json share/bash-completion/completions/optipfair; do
  [ -e "$work/moved/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
head -n 3 "$share/data/prompt_pairs/default.jsonl" > "$work/three.jsonl"
cp "$work/three.jsonl" "$share/data/prompt_pairs/default.jsonl"

out=$(cd "$work" && env -i PATH=/usr/bin:/bin "$work/moved/bin/optipfair" fair-prune --no-generate --quiet --json \
        --output-dir "$work/report")
model=$(printf '%s' "$out" | grep -m1 '"model"')
pairs=$(printf '%s' "$out" | grep -m1 '"pairs":')
case "$model" in
  *"$share/models/demo"*) ;;
  *) echo "FAIL: the installed binary used another demo model: $model"; exit 1 ;;
esac
case "$pairs" in
  *'"pairs": 3,'*) ;;
  *) echo "FAIL: the installed binary did not read its own prompt pairs: $pairs"; exit 1 ;;
esac
[ -s "$work/report/report.html" ] || { echo "FAIL: no report.html"; exit 1; }
"$work/moved/bin/optipfair" --version | grep -q '^optipfair [0-9]' || { echo "FAIL: --version"; exit 1; }

# Completion: commands after the program name, a subcommand's options, files after a path option.
source "$work/moved/share/bash-completion/completions/optipfair"
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _optipfair
  printf '%s\n' "${COMPREPLY[@]}"
}
complete_words optipfair fair-p | grep -qx fair-prune || { echo "FAIL: no fair-prune completion"; exit 1; }
complete_words optipfair fair-prune --pruning-p | grep -qx -- --pruning-percentage \
  || { echo "FAIL: no --pruning-percentage completion"; exit 1; }
touch "$work/pairs-for-completion.jsonl"
complete_words optipfair bias --pairs-file "$work/pairs-for" | grep -qx "$work/pairs-for-completion.jsonl" \
  || { echo "FAIL: no file completion after --pairs-file"; exit 1; }
echo "install test passed"
