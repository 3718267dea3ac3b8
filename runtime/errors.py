"""Errors of the two-party runtime: network, peer and protocol failures (exit status 3).

Every message's first line says what happened; when the caller has named the protocol phase
(``channel.phase = "OT"``), the message starts with it: ``"OT: peer closed the connection"``.
Refusing plain TCP towards a non-loopback address is a usage error (exit status 2), so
:class:`InsecureTransport` derives from :class:`InputError` instead.
"""

from yaogc.circuits.errors import InputError, YaogcError


class NetworkError(YaogcError):
    """The connection, the peer or the exchanged messages failed; ``yaogc`` exits with 3."""

    exit_code = 3

    def __init__(self, message: str, *, phase: str | None = None):
        self.phase = phase
        self.detail = message
        super().__init__(f"{phase}: {message}" if phase else message)


class PeerClosed(NetworkError):
    """The peer closed (or reset) the connection while this side still expected to talk."""


class ChannelTimeout(NetworkError):
    """Nothing arrived (or could be sent) within the channel's timeout."""


class ProtocolError(NetworkError):
    """The peer sent something malformed: an oversized frame, a wrong size or message type."""


class PeerDeviated(ProtocolError):
    """A check that an honest peer always passes failed: the peer deviated from the protocol
    (malicious mode). Nothing is revealed as a result."""


class PeerAborted(NetworkError):
    """The peer gave up and told us why (an abort message carrying its reason)."""


class Stopped(NetworkError):
    """This side was told to stop waiting for its peer (the run it served was given up)."""


class HandshakeError(NetworkError):
    """Connecting failed: TLS handshake, certificate check, or plain TCP against TLS."""


class ConnectFailed(NetworkError):
    """The peer could not be reached (refused, unreachable, unresolvable) in time."""


class InsecureTransport(InputError):
    """Plain TCP was requested towards a non-loopback address without the explicit opt-in."""
