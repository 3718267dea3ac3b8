"""Opening a channel over the network: ``listen``, ``connect`` and the transport policy.

``listen``/``connect`` exchange an 8-byte greeting after the (optional) TLS handshake, so a
TLS/plain mismatch, a rejected certificate or a stranger on the port fails at once on both
sides rather than at the first protocol message. Plain TCP is allowed only on loopback unless
the caller opts in, since it neither encrypts nor authenticates.
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
                                  InsecureTransport)
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


def is_loopback(host: str) -> bool:
    """True if every address ``host`` resolves to is a loopback address."""
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        pass
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise ConnectFailed(f"cannot resolve host {host!r}: {e.strerror}") from None
    return all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


def require_secure(host: str, tls, insecure_plain_tcp: bool) -> None:
    """Refuse plain TCP towards a non-loopback address unless explicitly allowed."""
    if tls is None and not insecure_plain_tcp and not is_loopback(host):
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
    if got != pin:
        raise HandshakeError(f"TLS handshake with {where} failed: the peer's certificate is not "
                             f"the pinned one (SHA-256 {got or 'none'}, pinned {pin})",
                             phase=phase)


def _secure(sock: socket.socket, ctx: ssl.SSLContext | None, server_side: bool,
            where: str, timeout: float, phase: str | None, peer: str,
            max_frame: int) -> Channel:
    """Run the TLS handshake (if any) and the greeting on a connected socket."""
    try:
        _tune(sock)
        sock.settimeout(timeout)
        if ctx is not None:
            sock = ctx.wrap_socket(sock, server_side=server_side,
                                   do_handshake_on_connect=False)
            try:
                sock.do_handshake()
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
        ch._greet(server_side)
        return ch
    except BaseException:
        sock.close()
        raise


def listen(host: str = "127.0.0.1", port: int = 0, timeout: float = DEFAULT_TIMEOUT,
           tls: TLSConfig | ssl.SSLContext | None = None, *,
           on_listening: Callable[[str, int], None] | None = None,
           insecure_plain_tcp: bool = False, max_frame: int = DEFAULT_MAX_FRAME,
           phase: str | None = None) -> Channel:
    """Accept one peer on ``host:port`` and return the channel to it.

    Once bound (port 0 picks a free port), ``on_listening(host, port)`` is called, or
    ``listening on HOST:PORT`` is printed to stderr. Waits at most ``timeout`` seconds for the
    peer, then as long again for each handshake step.
    """
    timeout = check_timeout(timeout)
    require_secure(host, tls, insecure_plain_tcp)
    ctx = _context(tls, server_side=True)
    try:
        if host in ("", "::") and socket.has_dualstack_ipv6():
            # All interfaces means IPv4 too, not IPv6 only.
            server = socket.create_server((host, port), family=socket.AF_INET6, backlog=1,
                                          dualstack_ipv6=True)
        else:
            family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                        flags=socket.AI_PASSIVE)[0][0]
            server = socket.create_server((host, port), family=family, backlog=1)
    except OSError as e:
        raise ConnectFailed(f"cannot listen on {_hostport(host, port)}: {_strerror(e)}",
                            phase=phase) from None
    with server:
        _tune(server)
        bound = server.getsockname()[1]
        where = _hostport(host, bound)
        if on_listening is None:
            print(f"listening on {where}", file=sys.stderr, flush=True)
        else:
            on_listening(host, bound)
        server.settimeout(timeout)
        try:
            sock, addr = server.accept()
        except TimeoutError:
            raise ChannelTimeout(f"no peer connected to {where} within {timeout:g} s",
                                 phase=phase) from None
    peer = _hostport(addr[0], addr[1])
    return _secure(sock, ctx, True, peer, timeout, phase, peer, max_frame)


def connect(host: str, port: int, timeout: float = DEFAULT_TIMEOUT,
            tls: TLSConfig | ssl.SSLContext | None = None, *,
            retry_for: float | None = None, insecure_plain_tcp: bool = False,
            max_frame: int = DEFAULT_MAX_FRAME, phase: str | None = None) -> Channel:
    """Connect to a listening peer and return the channel to it.

    A refused connection (the peer is not listening yet) is retried for ``retry_for``
    seconds (default: ``timeout``); each attempt and handshake step waits up to ``timeout``.
    """
    timeout = check_timeout(timeout)
    if not 0 < int(port) <= 65535:
        raise InputError(f"cannot connect to {_hostport(host, port)}: a peer listens on a "
                         "port in 1..65535 (the port it printed as 'listening on HOST:PORT')")
    require_secure(host, tls, insecure_plain_tcp)
    ctx = _context(tls, server_side=False)
    where = _hostport(host, port)
    window = retry_for if retry_for is not None else (timeout or DEFAULT_TIMEOUT)
    deadline = time.monotonic() + window
    pause = 0.02
    while True:
        left = deadline - time.monotonic()
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
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
    return _secure(sock, ctx, False, where, timeout, phase, where, max_frame)
