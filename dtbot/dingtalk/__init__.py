"""DingTalk's protocol: callback signatures, message formats, the HTTP client and Stream mode.

An adapter: it knows DingTalk's wire formats and nothing of our server, CLI,
database or services. `signing` checks and makes signatures, `messages` parses
what DingTalk sends and validates, builds and splits what we send, `client`
posts to webhooks and the OpenAPI, `stream` receives robot messages over
DingTalk's Stream WebSocket.
"""
