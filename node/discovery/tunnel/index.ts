// Service traffic to tasks on peers this agent reaches only through a relay (another site behind NAT):
// the userspace proxy carries each TCP connection over a libp2p stream to the task's own agent, which
// connects to the task locally. See docs/edge.md, "Service traffic across sites".

export { authorizeTunnel, type TunnelTarget } from './authorize.js'
export { decodeAnswer, decodeRequest, encodeAnswer, encodeRequest, TUNNEL_HEADER_LIMIT_BYTES, type TunnelAnswer, type TunnelRequest } from './header.js'
export { spliceStream } from './splice-stream.js'
export { TunnelClient, type TunnelOpener } from './tunnel-client.js'
export { TunnelServer, type TunnelServerInit, type TunnelServerStats } from './tunnel-server.js'
