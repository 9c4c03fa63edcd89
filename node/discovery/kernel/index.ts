// Kernel forwarding for the routing mesh and service addresses: NAT rules, as kube-proxy's iptables
// mode. See docs/networking.md, "Kernel forwarding in detail".

export { kernelForwardingAvailable, type AvailabilityInit, type KernelForwardingCheck } from './available.js'
export { chainNames, type ChainNames } from './chains.js'
export { KernelForwarder, type KernelForwarderInit } from './forwarder.js'
export { IPTABLES, type IptablesCommands } from './iptables.js'
export { chooseEndpoints, desiredRules, type RuleSet } from './rules.js'
