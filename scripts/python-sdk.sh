#!/usr/bin/env bash
# The Pulumi Python SDK (PyPI `pulumi`) with everything a program's virtualenv needs to install it and a generated
# ddpsim SDK (pulumi_ddpsim), as a folder of wheels, downloaded once per version and Python and reused offline after;
# prints the folder on its last line:
#   PIP_NO_INDEX=1 PIP_FIND_LINKS="$(bash scripts/python-sdk.sh)" pip install -r requirements.txt
# Cached under ${DDPSIM_PYTHON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-python}/wheels-pulumi-<version>-<python>.
# The version (DDPSIM_PULUMI_PYTHON_VERSION) must satisfy what pulumi-gen-python's SDKs require (pulumi>=3.269.0).
case "${1:-}" in -h|--help) sed -n '2,/^set -/{/^set -/!s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;; esac
set -euo pipefail
version="${DDPSIM_PULUMI_PYTHON_VERSION:-3.272.0}"
python="${PYTHON:-python3}"
say() { echo "python-sdk: $*" >&2; }
command -v "$python" >/dev/null || { say "error: no $python on PATH"; exit 1; }
tag="$("$python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
dir="${DDPSIM_PYTHON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ddpsim-python}/wheels-pulumi-$version-$tag"
mkdir -p "$dir"
(
  flock 9
  if [ ! -f "$dir/.ok" ]; then
    start="$(date +%s)"
    say "downloading pulumi $version and its dependencies for $tag into $dir"
    rm -f "$dir"/*.whl
    # setuptools and wheel: pip builds the generated SDK (setup.py) from these when it installs offline.
    "$python" -m pip download --quiet --disable-pip-version-check --dest "$dir" \
      "pulumi==$version" "semver>=2.8.1" "packaging>=24.0" setuptools wheel >&2
    touch "$dir/.ok"
    say "done in $(($(date +%s) - start))s"
  fi
) 9>"$dir/.lock"
echo "$dir"
