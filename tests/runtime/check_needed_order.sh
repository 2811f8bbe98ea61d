#!/usr/bin/env bash
# Each file given must name libstdc++ before any libtorch library among its DT_NEEDED entries,
# so that std:: symbols bind to the system's libstdc++, not to the copy a pip libtorch exports
# (the top-level CMakeLists.txt says why).
set -euo pipefail
status=0
for f in "$@"; do
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    std=$(grep -n '^libstdc++' <<<"$needed" | head -1 | cut -d: -f1)
    torch=$(grep -n '^libtorch\|^libc10' <<<"$needed" | head -1 | cut -d: -f1 || true)
    if [[ -z $std ]]; then
        echo "$f: libstdc++ is not among its DT_NEEDED entries" >&2; status=1
    elif [[ -n $torch && $torch -lt $std ]]; then
        echo "$f: libtorch comes before libstdc++ in DT_NEEDED:" $needed >&2; status=1
    fi
done
exit $status
