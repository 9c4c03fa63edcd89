#!/usr/bin/env bash
# TCP hole punching through two NAT routers, in network namespaces (root). What it shows and why it
# matters: docs/edge.md#hole-punching.
#
#   scripts/tcp-hole-punch.sh [mode] [unsolicited] [delay-ms]
#     mode         listen-port | punch-port | ephemeral   (see scripts/tcp-hole-punch.mjs)
#     unsolicited  rst  - a router answers a connection opened from the WAN to itself with a reset
#                         (Linux with no input rule, as test/hosts/nat-topology.ts's routers)
#                  drop - a router drops it (most home and site routers)
#     delay-ms     one-way delay added on each router's WAN link (tc netem), default 0
#
#                 rendezvous r  10.250.0.1:7000        (WAN bridge in namespace hp<pid>-r)
#              ┌───────────────────┴───────────────────┐
#   router A wan0 10.250.0.11                  router B wan0 10.250.0.12
#     MASQUERADE, replies only in              MASQUERADE, replies only in
#   router A lan0 10.251.1.254                 router B lan0 10.251.2.254
#              │                                       │
#      host a 10.251.1.2                       host b 10.251.2.2
#
# MASQUERADE keeps a connection's source port when it is free and gives one internal ip:port the
# same mapping whatever the destination (endpoint-independent mapping), but lets in only packets
# that answer a connection opened from inside (address- and port-dependent filtering): the kind of
# NAT that simultaneous open gets through. Everything is removed on exit.
set -euo pipefail

mode=${1:-punch-port}
unsolicited=${2:-drop}
delay_ms=${3:-0}
port=4001
here=$(cd "$(dirname "$0")" && pwd)
p="hp$$"
r="$p-r" ra="$p-ra" rb="$p-rb" a="$p-a" b="$p-b"

cleanup() {
  for ns in "$a" "$b" "$ra" "$rb" "$r"; do ip netns del "$ns" 2>/dev/null || true; done
}
trap cleanup EXIT

for ns in "$r" "$ra" "$rb" "$a" "$b"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
ip -n "$r" link add br0 type bridge
ip -n "$r" addr add 10.250.0.1/24 dev br0
ip -n "$r" link set br0 up

# router <namespace> <wan address> <lan prefix> <host namespace>
router() {
  local ns=$1 wan=$2 lan=$3 host=$4
  ip -n "$ns" link add wan0 type veth peer name "${ns##*-}" netns "$r"
  ip -n "$r" link set "${ns##*-}" master br0 up
  ip -n "$ns" addr add "$wan/24" dev wan0
  ip -n "$ns" link set wan0 up
  ip -n "$ns" link add lan0 type veth peer name eth0 netns "$host"
  ip -n "$ns" addr add "$lan.254/24" dev lan0
  ip -n "$ns" link set lan0 up
  ip -n "$host" addr add "$lan.2/24" dev eth0
  ip -n "$host" link set eth0 up
  ip -n "$host" route add default via "$lan.254"
  ip netns exec "$ns" sysctl -q -w net.ipv4.ip_forward=1
  ip netns exec "$ns" iptables -w -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  ip netns exec "$ns" iptables -w -A FORWARD -i wan0 -o lan0 -m conntrack --ctstate NEW -j DROP
  if [ "$unsolicited" = drop ]; then
    ip netns exec "$ns" iptables -w -A INPUT -i wan0 -m conntrack --ctstate NEW -j DROP
  fi
  # Count what the router sends back and lets through, to tell a reset from a drop afterwards.
  ip netns exec "$ns" iptables -w -A OUTPUT -o wan0 -p tcp --tcp-flags RST RST
  ip netns exec "$ns" iptables -w -A FORWARD -i wan0 -p tcp --tcp-flags RST RST
  ip netns exec "$ns" iptables -w -A FORWARD -i wan0 -p tcp --tcp-flags SYN,ACK SYN
  if [ "$delay_ms" != 0 ]; then
    ip netns exec "$ns" tc qdisc add dev wan0 root netem delay "${delay_ms}ms"
  fi
}
router "$ra" 10.250.0.11 10.251.1 "$a"
router "$rb" 10.250.0.12 10.251.2 "$b"

ip netns exec "$r" node "$here/tcp-hole-punch.mjs" rendezvous 10.250.0.1 7000 > "/tmp/$p-r.log" 2>&1 &
rendezvous_pid=$!
sleep 0.5
status=0
ip netns exec "$a" node "$here/tcp-hole-punch.mjs" peer a 10.250.0.1:7000 "$mode" "$port" > "/tmp/$p-a.log" 2>&1 &
peer_a=$!
ip netns exec "$b" node "$here/tcp-hole-punch.mjs" peer b 10.250.0.1:7000 "$mode" "$port" > "/tmp/$p-b.log" 2>&1 &
peer_b=$!
wait "$peer_a" || status=1
wait "$peer_b" || status=1
kill "$rendezvous_pid"

echo "# mode=$mode unsolicited=$unsolicited delay=${delay_ms}ms, node $(node --version), kernel $(uname -r)"
cat "/tmp/$p-r.log" "/tmp/$p-a.log" "/tmp/$p-b.log"
for ns in "$ra" "$rb"; do
  echo "# router ${ns##*-}: resets it sent to the WAN / resets, SYNs without ACK forwarded from the WAN"
  ip netns exec "$ns" iptables -w -L OUTPUT -v -n -x | awk '/tcp/ { print "  out rst", $1 }'
  ip netns exec "$ns" iptables -w -L FORWARD -v -n -x | awk '/tcp.*0x04\/0x04/ { print "  fwd rst", $1 } /tcp.*0x12\/0x02/ { print "  fwd syn", $1 }'
  echo "# router ${ns##*-}: its connection tracking table (the NAT's mappings) for the peers' links"
  ip netns exec "$ns" cat /proc/net/nf_conntrack | grep -v 'dport=7000' | awk '{ $1 = $2 = $3 = ""; print " " $0 }' || true
done
rm -f "/tmp/$p-r.log" "/tmp/$p-a.log" "/tmp/$p-b.log"
exit "$status"
