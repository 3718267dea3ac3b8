"""Opening a channel over the network: ``listen``, ``connect`` and the transport policy.

``listen``/``connect`` exchange an 8-byte greeting after the (optional) TLS handshake, so a
TLS/plain mismatch, a rejected certificate or a stranger on the port fails at once on both
sides rather than at the first protocol message; the TLS handshake and the greeting together
must end within the timeout (a deadline, not a gap between reads). A listener goes on
listening after a connection that fails before the greeting. Plain TCP is allowed only on
loopback unless the caller opts in, since it neither encrypts nor authenticates: the host is
resolved once, the rule is checked on those addresses and only they are connected to or bound.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import ssl
import sys
import time
from typing import Callable

from yaogc.circuits.errors import InputError
from yaogc.runtime.channel import DEFAULT_MAX_FRAME, DEFAULT_TIMEOUT, Channel
from yaogc.runtime.errors import (ChannelTimeout, ConnectFailed, HandshakeError,
                                  InsecureTransport, NetworkError)
from yaogc.runtime.tls import TLSConfig, check_context, der_fingerprint, describe_ssl_error

_SOCK_BUF = 4 << 20      # SO_SNDBUF / SO_RCVBUF request (the kernel may clamp it)
MAX_TIMEOUT = 1e7        # seconds (about 116 days): far below what socket timeouts can hold


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def check_timeout(seconds, what: str = "timeout") -> float:
    """``seconds`` as a float if it is a usable timeout, else InputError naming ``what``.

    A timeout must be positive and finite: zero would make every wait fail at once, and
    infinity (or NaN) would either overflow the socket layer or let a silent peer hang the run.
    """
    try:
        t = float(seconds)
        shown = f"{t:g}"
    except (TypeError, ValueError):
        t, shown = math.nan, repr(seconds)
    if not 0 < t <= MAX_TIMEOUT:  # NaN fails this too
        raise InputError(f"{what} {shown}: must be a positive number of seconds, at most "
                         f"{MAX_TIMEOUT:g}")
    return t


def _strerror(e: OSError) -> str:
    """The system's words for a socket error, without the address Python appends to them."""
    text = e.strerror or str(e)
    return text.split(" (while attempting to bind")[0]


def _is_loopback_addr(addr: str) -> bool:
    return ipaddress.ip_address(addr.split("%")[0]).is_loopback


def resolve(host: str, port: int, *, passive: bool = False, phase: str | None = None) -> list:
    """The addresses (getaddrinfo tuples) of ``host:port``, looked up once: the transport rule
    is checked on exactly these and the socket binds or connects to one of them, so a second
    DNS answer can never differ from the one checked."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE if passive else 0)
    except socket.gaierror as e:
        raise ConnectFailed(f"cannot resolve host {host!r}: {e.strerror}", phase=phase) from None
    except UnicodeError:
        raise ConnectFailed(f"cannot resolve host {host!r}: not a valid host name",
                            phase=phase) from None
    if not infos:
        raise ConnectFailed(f"cannot resolve host {host!r}: no address", phase=phase)
    return infos


def is_loopback(host: str) -> bool:
    """True if every address ``host`` resolves to is a loopback address."""
    try:
        return _is_loopback_addr(host)
    except ValueError:
        pass
    if not host:
        return False
    return all(_is_loopback_addr(i[4][0]) for i in resolve(host, 0))


def require_secure(host: str, tls, insecure_plain_tcp: bool, infos: list | None = None) -> None:
    """Refuse plain TCP towards a non-loopback address unless explicitly allowed.

    ``infos``: the resolved addresses the caller will use (checked instead of resolving
    ``host`` again)."""
    if tls is not None or insecure_plain_tcp:
        return
    if infos is not None:
        ok = bool(host) and all(_is_loopback_addr(i[4][0]) for i in infos)
    else:
        ok = is_loopback(host)
    if not ok:
        raise InsecureTransport(
            f"plain TCP to {host or 'all interfaces'} refused: TLS is required for non-loopback "
            "addresses, since plain TCP neither encrypts the traffic (anyone on the path sees "
            "the results) nor authenticates the peer (anyone reaching the port can take part); "
            "give certificates, or pass --insecure-plain-tcp (insecure_plain_tcp=True) "
            "to accept that")


def _tune(sock: socket.socket) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SOCK_BUF)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SOCK_BUF)


def _context(tls, server_side: bool) -> ssl.SSLContext | None:
    if tls is None:
        return None
    if isinstance(tls, TLSConfig):
        ctx = tls.context(server_side)
    elif isinstance(tls, ssl.SSLContext):
        ctx = tls
    else:
        raise TypeError(f"tls must be a TLSConfig or an ssl.SSLContext, not {type(tls).__name__}")
    check_context(ctx)
    return ctx


def _check_pin(sock: ssl.SSLSocket, ctx: ssl.SSLContext, where: str, phase: str | None) -> None:
    """The peer's certificate must be the pinned one itself, not merely one that verifies."""
    pin = getattr(ctx, "yaogc_pin", None)
    if pin is None:  # a context marked for testing without a pin
        return
    der = sock.getpeercert(binary_form=True)
    got = der_fingerprint(der) if der else None
    if got not in (pin if isinstance(pin, frozenset) else (pin,)):   # one pin, or a set
        pinned = ", ".join(sorted(pin)) if isinstance(pin, frozenset) else pin
        raise HandshakeError(f"TLS handshake with {where} failed: the peer's certificate is not "
                             f"the pinned one (SHA-256 {got or 'none'}, pinned {pinned})",
                             phase=phase)


def _secure(sock: socket.socket, ctx: ssl.SSLContext | None, server_side: bool,
            where: str, timeout: float, phase: str | None, peer: str,
            max_frame: int) -> Channel:
    """Run the TLS handshake (if any) and the greeting on a connected socket.

    Both together must end within ``timeout`` seconds: a deadline, not a gap between reads,
    so a peer that trickles bytes cannot hold this side."""
    deadline = time.monotonic() + timeout
    try:
        _tune(sock)
        sock.settimeout(timeout)
        if ctx is not None:
            sock = ctx.wrap_socket(sock, server_side=server_side,
                                   do_handshake_on_connect=False)
            try:
                sock.do_handshake()   # the socket timeout bounds the whole handshake call
            except TimeoutError:
                raise HandshakeError(f"TLS handshake with {where} timed out after {timeout:g} s",
                                     phase=phase) from None
            except ssl.SSLError as e:
                raise HandshakeError(f"TLS handshake with {where} failed: "
                                     f"{describe_ssl_error(e)}", phase=phase) from None
            except OSError as e:
                raise HandshakeError(f"TLS handshake with {where} failed: the peer closed the "
                                     f"connection ({e.strerror or e}); it may not speak TLS "
                                     "or may have rejected this side's certificate",
                                     phase=phase) from None
            _check_pin(sock, ctx, where, phase)
        ch = Channel(sock, timeout=timeout, max_frame=max_frame, phase=phase, peer=peer,
                     tls=ctx is not None)
        ch.set_deadline(max(deadline - time.monotonic(), 1e-3), "the connection handshake",
                        budget=timeout)
        ch._greet(server_side)
        ch.set_deadline(None)
        return ch
    except BaseException:
        sock.close()
        raise


def _bind(host: str, port: int, tls, insecure_plain_tcp: bool, phase: str | None):
    """A listening socket on ``host:port``, bound to the very address the transport rule
    checked."""
    try:
        if host in ("", "::") and socket.has_dualstack_ipv6():
            require_secure(host, tls, insecure_plain_tcp)
            # All interfaces means IPv4 too, not IPv6 only.
            return socket.create_server((host, port), family=socket.AF_INET6, backlog=4,
                                        dualstack_ipv6=True)
        infos = resolve(host, port, passive=True, phase=phase)
        require_secure(host, tls, insecure_plain_tcp, infos)
        family, _, _, _, sockaddr = infos[0]
        return socket.create_server(sockaddr[:2], family=family, backlog=4)
    except OSError as e:
        raise ConnectFailed(f"cannot listen on {_hostport(host, port)}: {_strerror(e)}",
                            phase=phase) from None


class Listener:
    """A bound listening socket that accepts peers one by one (``yaogc serve`` takes many).

    ``accept`` returns the next raw connection and the peer's address; ``secure`` runs the
    TLS handshake (if any) and the greeting on it, within ``timeout``, and returns the channel.
    The two are separate so a caller may secure each connection in a thread of its own, and a
    slow stranger cannot hold up the next peer."""

    def __init__(self, host: str, port: int, tls=None, *, insecure_plain_tcp: bool = False,
                 max_frame: int = DEFAULT_MAX_FRAME, phase: str | None = None):
        self.ctx = _context(tls, server_side=True)
        self.phase, self.max_frame = phase, max_frame
        self.sock = _bind(host, port, tls, insecure_plain_tcp, phase)
        _tune(self.sock)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.where = _hostport(host, self.port)

    def accept(self, timeout: float) -> tuple[socket.socket, str]:
        """The next connection within ``timeout`` seconds (else ``TimeoutError``)."""
        self.sock.settimeout(max(timeout, 1e-3))
        sock, addr = self.sock.accept()
        return sock, _hostport(addr[0], addr[1])

    def secure(self, sock: socket.socket, peer: str, timeout: float,
               phase: str | None = None) -> Channel:
        return _secure(sock, self.ctx, True, peer, timeout, phase or self.phase, peer,
                       self.max_frame)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def listen(host: str = "127.0.0.1", port: int = 0, timeout: float = DEFAULT_TIMEOUT,
           tls: TLSConfig | ssl.SSLContext | None = None, *,
           on_listening: Callable[[str, int], None] | None = None,
           insecure_plain_tcp: bool = False, max_frame: int = DEFAULT_MAX_FRAME,
           phase: str | None = None,
           on_failed: Callable[[str, NetworkError], None] | None = None) -> Channel:
    """Accept one peer on ``host:port`` and return the channel to it.

    Once bound (port 0 picks a free port), ``on_listening(host, port)`` is called, or
    ``listening on HOST:PORT`` is printed to stderr. Waits at most ``timeout`` seconds for a
    peer that completes the handshake; each connection's TLS handshake and greeting must end
    within ``timeout`` too. A connection that fails before the greeting (a port scanner, a
    stranger, a peer with the wrong certificate) does not end the wait: it is reported to
    ``on_failed(peer, error)``, or on stderr, and the next one is accepted; ``on_failed`` may
    raise (the error, say) to stop listening instead.
    """
    timeout = check_timeout(timeout)
    with Listener(host, port, tls, insecure_plain_tcp=insecure_plain_tcp,
                  max_frame=max_frame, phase=phase) as server:
        where = server.where
        if on_listening is None:
            print(f"listening on {where}", file=sys.stderr, flush=True)
        else:
            on_listening(host, server.port)
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                sock, peer = server.accept(left)
            except TimeoutError:
                raise ChannelTimeout(f"no peer connected to {where} within {timeout:g} s"
                                     + last, phase=phase) from None
            try:
                return server.secure(sock, peer, timeout)
            except NetworkError as e:
                last = f" (the last connection, from {peer}, failed: {e.detail})"
                if on_failed is not None:
                    on_failed(peer, e)
                else:
                    print(f"{where}: a connection from {peer} failed before the greeting "
                          f"({e.detail}); still listening", file=sys.stderr, flush=True)


def connect(host: str, port: int, timeout: float = DEFAULT_TIMEOUT,
            tls: TLSConfig | ssl.SSLContext | None = None, *,
            retry_for: float | None = None, insecure_plain_tcp: bool = False,
            max_frame: int = DEFAULT_MAX_FRAME, phase: str | None = None) -> Channel:
    """Connect to a listening peer and return the channel to it.

    The host is resolved once; the transport rule is checked on those addresses and only
    they are tried. A refused connection (the peer is not listening yet) is retried for
    ``retry_for`` seconds (default: ``timeout``); each attempt waits up to ``timeout``, and
    the TLS handshake and greeting together must end within ``timeout``.
    """
    timeout = check_timeout(timeout)
    if not 0 < int(port) <= 65535:
        raise InputError(f"cannot connect to {_hostport(host, port)}: a peer listens on a "
                         "port in 1..65535 (the port it printed as 'listening on HOST:PORT')")
    ctx = _context(tls, server_side=False)
    infos = resolve(host, port, phase=phase)
    require_secure(host, tls, insecure_plain_tcp, infos)
    where = _hostport(host, port)
    window = retry_for if retry_for is not None else (timeout or DEFAULT_TIMEOUT)
    deadline = time.monotonic() + window
    pause = 0.02
    while True:
        left = deadline - time.monotonic()
        try:
            sock = _connect_any(infos, timeout)
            break
        except (ConnectionRefusedError, ConnectionResetError) as e:
            if left <= pause:
                raise ConnectFailed(f"cannot connect to {where}: {e.strerror or e} "
                                    "(is the other party listening?)", phase=phase) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        except TimeoutError:
            raise ChannelTimeout(f"connecting to {where} timed out after {timeout:g} s",
                                 phase=phase) from None
        except OSError as e:
            raise ConnectFailed(f"cannot connect to {where}: {e.strerror or e}",
                                phase=phase) from None
    if tls is None and not insecure_plain_tcp:
        # the address actually reached, checked once more before any byte is sent
        try:
            reached = sock.getpeername()[0]
        except OSError as e:
            sock.close()
            raise ConnectFailed(f"cannot connect to {where}: {e.strerror or e}",
                                phase=phase) from None
        if not _is_loopback_addr(reached):
            sock.close()
            raise InsecureTransport(f"plain TCP to {host} reached {reached}, not a loopback "
                                    "address; refused")
    return _secure(sock, ctx, False, where, timeout, phase, where, max_frame)


def _connect_any(infos: list, timeout: float) -> socket.socket:
    """Connect to the first of ``infos`` that accepts; raise the last error otherwise."""
    err: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as e:
            sock.close()
            err = e
    raise err
