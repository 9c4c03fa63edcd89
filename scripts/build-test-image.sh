#!/usr/bin/env bash
# Builds `peer-test:latest` with `docker import` from Debian's busybox-static: no registry needed.
# The image has /bin/busybox and a link for every applet it has (sh, sleep, httpd, wget, test, nc…).
set -euo pipefail
busybox=$(command -v busybox || echo /bin/busybox)
[ -x "$busybox" ] || { echo "busybox-static is not installed (apt-get install busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/www" "$root/etc"
cp "$busybox" "$root/bin/busybox"
for tool in $("$busybox" --list); do [ "$tool" = busybox ] || ln -s busybox "$root/bin/$tool"; done
echo 'hello from peer' > "$root/www/index.html"
echo 'root:x:0:0:root:/:/bin/sh' > "$root/etc/passwd"
tar -C "$root" -c . | docker import --change 'CMD ["/bin/sh"]' --change 'WORKDIR /www' - peer-test:latest >/dev/null
echo "built peer-test:latest"
