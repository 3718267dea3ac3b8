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
import itertools
import math
import queue
import selectors
import socket
import ssl
import sys
import threading
import time
from typing import Callable

from yaogc.circuits.errors import InputError
from yaogc.runtime.channel import DEFAULT_MAX_FRAME, DEFAULT_TIMEOUT, Channel
from yaogc.runtime.errors import (ChannelTimeout, ConnectFailed, HandshakeError,
                                  InsecureTransport, NetworkError, Stopped)
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
    # a listener's address is one of this machine's: say so, not that it cannot connect
    what = f"cannot resolve the address to listen on {host!r}" if passive else \
        f"cannot resolve host {host!r}"
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE if passive else 0)
    except socket.gaierror as e:
        raise ConnectFailed(f"{what}: {e.strerror}", phase=phase) from None
    except UnicodeError:
        raise ConnectFailed(f"{what}: not a valid host name", phase=phase) from None
    if not infos:
        raise ConnectFailed(f"{what}: no address", phase=phase)
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


# connections the kernel completes before they are accepted: a burst of data owners at a
# server's port (or strangers beside the peer) waits there, where beyond it each connection's
# SYN is dropped and retried a second or more later
BACKLOG = 128


def _bind(host: str, port: int, tls, insecure_plain_tcp: bool, phase: str | None):
    """A listening socket on ``host:port``, bound to the very address the transport rule
    checked."""
    try:
        if host in ("", "::") and socket.has_dualstack_ipv6():
            require_secure(host, tls, insecure_plain_tcp)
            # All interfaces means IPv4 too, not IPv6 only.
            return socket.create_server((host, port), family=socket.AF_INET6, backlog=BACKLOG,
                                        dualstack_ipv6=True)
        infos = resolve(host, port, passive=True, phase=phase)
        require_secure(host, tls, insecure_plain_tcp, infos)
        family, _, _, _, sockaddr = infos[0]
        return socket.create_server(sockaddr[:2], family=family, backlog=BACKLOG)
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


MAX_HANDSHAKES = 64     # connections a listener secures at once; more wait in the backlog


class _Handshakes:
    """The connections a listener is securing, each in a daemon thread of its own.

    Every outcome (a channel, or the error) goes into a queue, and a byte on a socket pair
    wakes the listening thread, which waits in ``select`` on that and on the listening socket
    together: a stranger that never greets holds up no one, and a peer that completes its
    handshake is taken at once, without polling. ``close`` ends every handshake still running
    (it shuts its connection down, so the thread's read returns at once) and closes any channel
    completed but not taken."""

    def __init__(self, server: Listener, timeout: float):
        self.server, self.timeout = server, timeout
        self.lock = threading.Lock()
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.pending: dict[int, socket.socket] = {}   # id -> a duplicate of the connection
        self.threads: list[threading.Thread] = []
        self.held: list = []       # outcomes taken from the queue, not yet handled
        self.outstanding = 0       # started and not yet handled (the listening thread's count)
        self.last_due = 0.0        # when the latest of the handshakes started must end
        self.closed = False
        self._ids = itertools.count()
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)

    def start(self, sock: socket.socket, peer: str) -> None:
        try:
            keep = sock.dup()    # the connection can be shut down from here, TLS or not
        except OSError:
            sock.close()
            raise
        n = next(self._ids)
        with self.lock:
            self.pending[n] = keep
        self.last_due = max(self.last_due, time.monotonic() + self.timeout)
        t = threading.Thread(target=self._secure, args=(n, sock, peer), daemon=True,
                             name=f"yaogc-handshake-{peer}")
        self.threads = [x for x in self.threads if x.is_alive()]
        self.threads.append(t)
        try:
            t.start()
        except BaseException:
            with self.lock:
                self.pending.pop(n, None)
            keep.close()
            sock.close()
            raise
        self.outstanding += 1

    def _secure(self, n: int, sock: socket.socket, peer: str) -> None:
        try:
            outcome = (peer, self.server.secure(sock, peer, self.timeout), None)
        except BaseException as e:  # noqa: BLE001 - handed to the listening thread
            outcome = (peer, None, e)
        with self.lock:
            keep = self.pending.pop(n, None)
            if keep is not None:
                keep.close()
            if self.closed:   # the listener is done: a channel completed too late goes
                if outcome[1] is not None:
                    outcome[1].close()
                return
            self.results.put(outcome)
            try:
                self.wake_w.send(b"!")
            except OSError:   # the pair's buffer is full: the listener is awake anyway
                pass

    def take(self) -> None:
        """Move the outcomes that came so far, in order, to ``held`` (which the listening
        thread empties; ``close`` closes any channel left in it)."""
        try:
            while self.wake_r.recv(4096):
                pass
        except OSError:   # nothing more to read
            pass
        while True:
            try:
                self.held.append(self.results.get_nowait())
            except queue.Empty:
                return

    def close(self) -> None:
        with self.lock:
            self.closed = True
            keeps, self.pending = list(self.pending.values()), {}
        for keep in keeps:
            try:
                keep.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            keep.close()
        self.take()
        for _, ch, _ in self.held:
            if ch is not None:
                ch.close()
        self.held = []
        self.wake_r.close()
        self.wake_w.close()
        # the connections are shut down, so each thread ends now; wait for them briefly
        end = time.monotonic() + min(self.timeout, 5.0)
        for t in self.threads:
            t.join(max(end - time.monotonic(), 0))


# seconds between two questions to a listener's or a connecting side's ``stop``
STOP_POLL_S = 0.5


def _check_stop(stop, where: str, phase: str | None) -> None:
    """Raise ``Stopped`` if ``stop()`` gives a reason to stop waiting for the peer."""
    reason = stop() if stop is not None else None
    if reason:
        raise Stopped(f"stopped waiting for the peer at {where}: {reason}", phase=phase)


def listen(host: str = "127.0.0.1", port: int = 0, timeout: float = DEFAULT_TIMEOUT,
           tls: TLSConfig | ssl.SSLContext | None = None, *,
           on_listening: Callable[[str, int], None] | None = None,
           insecure_plain_tcp: bool = False, max_frame: int = DEFAULT_MAX_FRAME,
           phase: str | None = None,
           on_failed: Callable[[str, NetworkError], None] | None = None,
           stop: Callable[[], str | None] | None = None) -> Channel:
    """Accept one peer on ``host:port`` and return the channel to it.

    Once bound (port 0 picks a free port), ``on_listening(host, port)`` is called, or
    ``listening on HOST:PORT`` is printed to stderr. Waits at most ``timeout`` seconds for a
    peer that completes the handshake; each connection's TLS handshake and greeting must end
    within ``timeout`` too. Connections are accepted while earlier ones are still in their
    handshake (each is secured in a thread of its own), so a stranger that connects and stays
    silent holds up no one; the first connection to complete the greeting is the peer, and
    any other is closed. A connection that fails before the greeting (a port scanner, a
    stranger, a peer with the wrong certificate) does not end the wait: it is reported to
    ``on_failed(peer, error)``, or on stderr, and the wait goes on; ``on_failed`` (called in
    the caller's thread) may raise (the error, say) to stop listening instead. At the end of
    ``timeout`` no new connection is accepted, but those already in their handshake may still
    complete it (each within its own ``timeout``), as a peer that connected in time should.
    ``stop()``, asked every ``STOP_POLL_S`` while no peer has completed the greeting, ends
    the wait when it returns a reason (whoever started this listener gave the session up).
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
        work = _Handshakes(server, timeout)
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(work.wake_r, selectors.EVENT_READ)
                accepting = False
                while True:
                    now = time.monotonic()
                    # accept until the deadline, as long as the handshakes in hand are few
                    want = now < deadline and work.outstanding < MAX_HANDSHAKES
                    if want != accepting:
                        if want:
                            sel.register(server.sock, selectors.EVENT_READ)
                        else:
                            sel.unregister(server.sock)
                        accepting = want
                    if now >= deadline and not work.outstanding:
                        raise ChannelTimeout(f"no peer connected to {where} within "
                                             f"{timeout:g} s" + last, phase=phase)
                    # past the deadline, only the handshakes begun in time are waited for
                    # (each ends within its own timeout; the slack covers the thread's exit)
                    until = deadline if now < deadline else work.last_due + 1.0
                    if now >= until:
                        raise ChannelTimeout(f"no peer completed the handshake on {where} "
                                             f"within {timeout:g} s" + last, phase=phase)
                    _check_stop(stop, where, phase)
                    ready = sel.select(until - now if stop is None
                                       else min(until - now, STOP_POLL_S))
                    if any(key.fileobj is server.sock for key, _ in ready):
                        try:
                            sock, peer = server.accept(1e-3)
                        except (TimeoutError, BlockingIOError, ConnectionAbortedError):
                            pass   # gone again before it was taken
                        else:
                            work.start(sock, peer)
                    work.take()
                    while work.held:
                        peer, ch, err = work.held.pop(0)
                        work.outstanding -= 1
                        if ch is not None:
                            return ch   # the first to complete; close() ends the others
                        if not isinstance(err, NetworkError):
                            raise err
                        last = f" (the last connection, from {peer}, failed: {err.detail})"
                        if on_failed is not None:
                            on_failed(peer, err)
                        else:
                            print(f"{where}: a connection from {peer} failed before the "
                                  f"greeting ({err.detail}); still listening",
                                  file=sys.stderr, flush=True)
        finally:
            work.close()


def connect(host: str, port: int, timeout: float = DEFAULT_TIMEOUT,
            tls: TLSConfig | ssl.SSLContext | None = None, *,
            retry_for: float | None = None, insecure_plain_tcp: bool = False,
            max_frame: int = DEFAULT_MAX_FRAME, phase: str | None = None,
            stop: Callable[[], str | None] | None = None) -> Channel:
    """Connect to a listening peer and return the channel to it.

    The host is resolved once; the transport rule is checked on those addresses and only
    they are tried. A refused connection (the peer is not listening yet) is retried for
    ``retry_for`` seconds (default: ``timeout``); each attempt waits up to ``timeout``, and
    the TLS handshake and greeting together must end within ``timeout``. ``stop()``, asked
    between attempts, ends the retries when it returns a reason.
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
        _check_stop(stop, where, phase)
        left = deadline - time.monotonic()
        try:
            sock = _connect_any(infos, timeout)
            break
        except (ConnectionRefusedError, ConnectionResetError) as e:
            if left <= pause:
                raise ConnectFailed(f"cannot connect to {where}: {e.strerror or e} "
                                    "(is the other party listening?)", phase=phase) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.1)     # the peer may be seconds from listening; a
            # refused attempt costs microseconds, a long pause the rest of it
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
