"""The webhook channel adapter: deliveries GitHub posted to a smee.io-style channel, read as
server-sent events and posted to this server's own webhook endpoint, where they are checked like
any other (`Forwarder`, `ProxyConfig`). Pieces: `sse` (the stream format, bounded), `channel` (an
event back into GitHub's request), `forwarder` (connect, forward, reconnect). See
docs/github-app.md, "On a laptop".
"""

from app.webhook_proxy.forwarder import Forwarder, ProxyConfig, ProxyStatus

__all__ = ["Forwarder", "ProxyConfig", "ProxyStatus"]
