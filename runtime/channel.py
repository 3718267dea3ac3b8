"""The two-party channel: length-prefixed frames over TCP (optionally TLS 1.3), or in memory.

A frame is an 8-byte little-endian length followed by that many bytes. Typed messages put a
one-byte kind before the payload inside the frame. An abort is out of band: the length
2**64-1 (never a real frame) followed by a length-prefixed reason, so every receive call
reports it as PeerAborted, whatever it expected. Small frames are coalesced in a send buffer that is flushed when it grows,
before every receive and on close, so a send may not leave the process until then. Every
wait is bounded by ``timeout`` seconds and announced frame sizes by ``max_frame``. One thread
may send while another receives; two threads must not both send, or both receive.

Every received frame must arrive whole within the timeout plus its size at ``MIN_RATE``
bytes/s, counted from when this side starts waiting for it: a peer that trickles a frame
(one byte within every timeout) cannot hold this side longer than that. An honest peer writes
each frame in one go once it is ready, so only its time to start matters, as before.

Opening a channel over the network (``listen``, ``connect``) is :mod:`yaogc.runtime.net`.
"""

from __future__ import annotations

import contextlib
import enum
import math
import select
import socket
import ssl
import struct
import threading
import time
from collections import deque

import numpy as np

from yaogc.circuits.errors import YaogcError
from yaogc.runtime.errors import (ChannelTimeout, HandshakeError, NetworkError, PeerAborted,
                                  PeerClosed, ProtocolError)
from yaogc.runtime.tls import der_fingerprint, describe_ssl_error

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_FRAME = 256 << 20
# the most a handshake or control message may announce: JSON of a few kilobytes at most, so
# that a peer not yet known (or checked) cannot make this side set aside a frame's worth of
# memory, nor wait for it, before anything is checked
SMALL_MESSAGE = 1 << 20
_ABORT = (1 << 64) - 1   # the length announcing an abort
_REASON_MAX = 4096

_HEADER = struct.Struct("<Q")
_SMALL = 64 << 10        # frames below this are copied into the send buffer
_FLUSH_AT = 1 << 20      # the send buffer is written out once it holds this much
_CHUNK = 4 << 20         # one sendall call; the timeout applies to each chunk
_RBUF = 1 << 20          # receive buffer; larger frames are read straight into place
_SCRATCH_MAX = 64 << 20  # largest frame recv() reads via a kept scratch buffer
_VERSION = 1
_GREETING = b"YAOGC\x00" + bytes([_VERSION]) + b"\n"
MIN_RATE = 100_000       # bytes/s: the slowest a frame's body may arrive, beyond the timeout
LINGER_S = 1.0          # seconds an aborting side reads what a peer still sends (_linger)


class Channel:
    """Frames and typed messages over a byte transport, with counters and timeouts.

    ``bytes_sent``/``bytes_received`` count every byte given to or taken from the connection
    (frame headers and the greeting included, TLS record overhead excluded); sent bytes are
    counted when ``send`` returns, even if they still sit in the send buffer.
    """

    def __init__(self, transport, *, timeout: float | None = DEFAULT_TIMEOUT,
                 max_frame: int = DEFAULT_MAX_FRAME, phase: str | None = None,
                 peer: str = "peer", tls: bool = False):
        self._t = transport
        self.max_frame = int(max_frame)
        self.phase = phase
        self.peer = peer
        self.tls = tls
        self.bytes_sent = 0
        self.bytes_received = 0
        self.frames_sent = 0
        self.frames_received = 0
        self._wbuf = bytearray()
        self._rbuf = bytearray(_RBUF)
        self._rview = memoryview(self._rbuf)
        self._rpos = self._rend = 0
        self._scratch = bytearray()
        self._wlock = threading.RLock()  # one thread may send while another receives
        self._broken: NetworkError | None = None  # the failure that ended the stream
        self._closed = False
        self._deadline: float | None = None   # time.monotonic() by which the step must end
        self._deadline_what = ""
        self._frame_deadline: float | None = None   # by which the frame being read must end
        self._frame_start = 0.0
        self._frame_budget = 0.0
        self._frame_size: int | None = None
        self._limit: tuple | None = None   # the deadline the socket's timeout was cut to
        self.timeout = timeout

    # -- settings -------------------------------------------------------------------------
    @property
    def timeout(self) -> float | None:
        return self._timeout

    @timeout.setter
    def timeout(self, seconds: float | None) -> None:
        self._timeout = None if seconds is None else float(seconds)
        self._t.settimeout(self._timeout)

    def set_deadline(self, seconds: float | None, what: str = "", *,
                     budget: float | None = None) -> None:
        """Bound the total time of the following sends and receives (``None`` lifts it).

        The timeout bounds each wait; a deadline bounds their sum, so a peer that trickles
        one byte just within every timeout still cannot hold this side past it. ``budget``:
        the allowance to name in the error, when part of it is already spent."""
        if seconds is None:
            self._deadline = None
            self._t.settimeout(self._timeout)
        else:
            self._deadline = time.monotonic() + float(seconds)
            self._deadline_budget = float(seconds if budget is None else budget)
            self._deadline_what = what or (self.phase or "this step")

    def _arm(self, receiving: bool = False, started: bool = True) -> None:
        """Before a blocking call: wait at most what is left of the step's deadline or, without
        one, when receiving, of the frame's (the socket's timeout is cut to it)."""
        # a step under a deadline is bounded as a whole, which covers its frames
        if self._deadline is not None:
            limit = (self._deadline, "step")
        elif receiving and self._frame_deadline is not None:
            limit = (self._frame_deadline, "frame")
        else:
            if self._limit is not None:   # a cut timeout must not outlive its deadline
                self._limit = None
                self._t.settimeout(self._timeout)
            return
        self._limit = limit
        left = limit[0] - time.monotonic()
        if left <= 0:
            self._broken = ChannelTimeout(self._late(limit[1], started), phase=self.phase)
            raise self._broken
        self._t.settimeout(left if self._timeout is None else min(self._timeout, left))

    def _late(self, which: str, started: bool = True) -> str:
        """What the peer failed to do in time, for the deadline ``which`` ('step', 'frame');
        ``started``: whether any byte of the frame had come."""
        if which == "frame" and not started:
            return f"timed out after {self._timeout:g} s waiting for the peer to send"
        if which == "step":
            return (f"the peer did not complete {self._deadline_what} within "
                    f"{self._deadline_budget:g} s")
        size = "" if self._frame_size is None else f" of {self._frame_size} bytes"
        return (f"the peer did not send a whole message{size} within "
                f"{self._frame_budget:g} s (it sends too slowly or stalls mid-message)")

    def _begin_frame(self) -> None:
        """This side starts waiting for a frame: it must arrive within the timeout (the
        header) plus its size at MIN_RATE (the body, once the header announced it)."""
        self._frame_size = None
        if self._timeout is None:
            self._frame_deadline = None
            return
        self._frame_start = time.monotonic()
        self._frame_budget = self._timeout
        self._frame_deadline = self._frame_start + self._timeout

    def _sized_frame(self, n: int) -> None:
        if self._frame_deadline is not None:
            self._frame_size = n
            self._frame_budget = round(self._timeout + n / MIN_RATE, 3)
            self._frame_deadline = self._frame_start + self._frame_budget

    @property
    def peer_fingerprint(self) -> str | None:
        """SHA-256 fingerprint of the peer's TLS certificate, None on plain channels."""
        der = self._t.getpeercert(binary_form=True) if self.tls else None
        return der_fingerprint(der) if der else None

    @property
    def tls_version(self) -> str | None:
        """The negotiated TLS version (``TLSv1.3``), None on plain channels."""
        return self._t.version() if self.tls else None

    # -- sending ---------------------------------------------------------------------------
    def send(self, data, *, flush: bool = False) -> None:
        """Send one frame holding ``data`` (bytes, bytearray, memoryview or a numpy array).

        The frame may wait in the send buffer until the next receive, ``flush()`` or
        ``close()``; pass ``flush=True`` when the peer must see it before this side receives.
        """
        body = _byte_view(data)
        self._emit(_HEADER.pack(len(body)), body, flush)

    def send_msg(self, kind: int, payload=b"", *, flush: bool = False) -> None:
        """Send a typed message: kind (0..255) and payload in one frame."""
        if not 0 <= int(kind) <= 255:
            raise ValueError(f"message kind must be in 0..255, got {kind}")
        body = _byte_view(payload)
        self._emit(_HEADER.pack(len(body) + 1) + bytes([int(kind)]), body, flush)

    def send_array(self, arr: np.ndarray, kind: int | None = None, *,
                   flush: bool = False) -> None:
        """Send an array's raw bytes (C order) as one frame, as a typed message if ``kind``."""
        if kind is None:
            self.send(arr, flush=flush)
        else:
            self.send_msg(kind, arr, flush=flush)

    def _emit(self, prefix: bytes, body: memoryview, flush: bool = False) -> None:
        if len(body) + len(prefix) - _HEADER.size > self.max_frame:
            raise ProtocolError(f"refusing to send a frame of {len(body)} bytes, above the "
                                f"frame limit of {self.max_frame} bytes", phase=self.phase)
        with self._wlock:
            self._usable()
            self._wbuf += prefix
            if len(body) < _SMALL:
                self._wbuf += body
                if len(self._wbuf) >= _FLUSH_AT:
                    self._flush()
            else:
                self._flush()
                self._write(body)
            self.bytes_sent += len(prefix) + len(body)
            self.frames_sent += 1
            if flush:
                self._flush()

    def flush(self) -> None:
        """Write out whatever the send buffer holds."""
        with self._wlock:
            self._flush()

    def _flush_before_receiving(self) -> None:
        # If another thread is sending, its frames are its own business: waiting for its lock
        # could deadlock two parties whose sending threads both wait for the peer to read.
        if self._wbuf and self._wlock.acquire(blocking=False):
            try:
                self._flush()
            finally:
                self._wlock.release()

    def _flush(self) -> None:
        if self._wbuf:
            self._usable()
            data, self._wbuf = self._wbuf, bytearray()
            self._write(memoryview(data))

    def _write(self, view: memoryview) -> None:
        for i in range(0, len(view), _CHUNK):
            self._arm(receiving=False)
            try:
                self._t.sendall(view[i:i + _CHUNK])
            except Exception as e:  # noqa: BLE001 - translated, never swallowed
                raise self._fail(e, "sending") from e

    # -- receiving -------------------------------------------------------------------------
    def recv(self, limit: int | None = None) -> bytes:
        """Receive one frame; with ``limit``, a frame announced larger is refused at its
        header (before this side waits for, or makes room for, its body)."""
        n = self._read_header()
        self._within(n, limit)
        return self._read_bytes(n)

    def _within(self, n: int, limit: int | None) -> None:
        if limit is not None and n > limit:
            err = self._desync(f"the peer announced a message of {n} bytes, more than the "
                               f"{limit} due here")
            err.announced = n     # for a caller that words it its own way
            raise err

    def recv_msg(self, expected_kind: int, limit: int | None = None) -> bytes:
        """Receive a typed message of ``expected_kind`` and return its payload; with
        ``limit``, a payload announced larger is refused at its header (a handshake message
        takes :data:`SMALL_MESSAGE`).

        Another kind is a ProtocolError.
        """
        _, n = self._read_kind(expected_kind)
        self._within(n, limit)
        return self._read_bytes(n)

    def recv_msg_any(self, limit: int | None = None) -> tuple[int, bytes]:
        """Receive a typed message of any kind (of at most ``limit`` bytes if given)."""
        kind, n = self._read_kind(None)
        self._within(n, limit)
        return kind, self._read_bytes(n)

    def recv_array(self, dtype, shape=None, kind: int | None = None, *,
                   limit: int | None = None) -> np.ndarray:
        """Receive one frame as an array of ``dtype`` and ``shape`` (an int is a count).

        The frame's size must match exactly; with ``shape=None`` any whole number of items is
        accepted as a 1-D array, of at most ``limit`` bytes if given (a larger one is refused
        at its header). With ``kind`` the frame must be that typed message.
        """
        dtype = np.dtype(dtype)
        n = self._read_header() if kind is None else self._read_kind(kind)[1]
        self._within(n, limit)
        if shape is None:
            if n % dtype.itemsize:
                raise self._desync(f"expected whole {dtype} items, the peer sent {n} bytes")
            shape = (n // dtype.itemsize,)
        else:
            shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
            if min(shape, default=0) < 0:
                raise ValueError(f"array shape must not be negative, got {shape}")
            want = math.prod(shape) * dtype.itemsize
            if n != want:
                raise self._desync(f"expected {want} bytes for a {dtype} array of shape "
                                   f"{shape}, the peer sent {n}")
        out = np.empty(shape, dtype)
        self._read_into(memoryview(out.reshape(-1).view(np.uint8)), n)
        return out

    def peer_stirred(self) -> bool:
        """A zero-time poll for a side that expects nothing from the peer just now (a server
        holding a data owner's inputs): True if bytes or the end of the stream are waiting,
        that is, the peer closed the connection or sent what it should not have."""
        if self._rend > self._rpos:
            return True
        pending = getattr(self._t, "pending", None)
        if pending is not None and pending():
            return True
        try:
            return bool(select.select([self._t], [], [], 0)[0])
        except (TypeError, ValueError, OSError):  # no file descriptor (in memory) or closed
            return False

    def _read_header(self) -> int:
        self._flush_before_receiving()
        self._usable()
        self._begin_frame()
        self._fill(_HEADER.size, None)
        (n,) = _HEADER.unpack_from(self._rbuf, self._rpos)
        self._rpos += _HEADER.size
        self.bytes_received += _HEADER.size
        if n == _ABORT:
            self._peer_aborted()
        if n > self.max_frame:
            raise self._desync(f"the peer announced a frame of {n} bytes, above the frame "
                               f"limit of {self.max_frame} bytes")
        self._sized_frame(n)
        self.frames_received += 1
        return n

    def _read_kind(self, expected: int | None) -> tuple[int, int]:
        n = self._read_header()
        if n == 0:
            raise self._desync("the peer sent an empty frame where a typed message was due")
        self._fill(1, n)
        kind = self._rbuf[self._rpos]
        self._rpos += 1
        self.bytes_received += 1
        if expected is not None and kind != int(expected):
            raise self._desync(f"expected message {_kind_name(expected, expected)}, the peer "
                               f"sent {_kind_name(kind, expected)}")
        return kind, n - 1

    def _peer_aborted(self) -> None:
        self._fill(_HEADER.size, None)
        (n,) = _HEADER.unpack_from(self._rbuf, self._rpos)
        self._rpos += _HEADER.size
        if n > _REASON_MAX:
            raise self._desync(f"the peer aborted with an overlong reason ({n} bytes)")
        # The reason is the peer's text: keep it to one printable line of bounded length.
        text = self._read_bytes(n).decode("utf-8", "replace")
        reason = "".join(c if c.isprintable() else " " for c in text[:500])
        self._broken = PeerAborted(f"the peer aborted: {reason}", phase=self.phase)
        raise self._broken

    def _read_bytes(self, n: int) -> bytes:
        if n <= _RBUF:
            self._fill(n, n)
            out = bytes(self._rview[self._rpos:self._rpos + n])
            self._rpos += n
            self.bytes_received += n
            return out
        # A fresh bytearray per frame costs more than the transfer (calloc hands out new
        # zero pages that fault on first touch), so large frames land in a reused scratch.
        if len(self._scratch) < n <= _SCRATCH_MAX:
            self._scratch = bytearray(n)
        buf = memoryview(self._scratch if n <= _SCRATCH_MAX else bytearray(n))[:n]
        self._read_into(buf, n)
        return bytes(buf)

    def _fill(self, k: int, frame: int | None) -> None:
        """Make at least ``k`` bytes available in the receive buffer."""
        if self._rend - self._rpos >= k:
            return
        if self._rpos + k > _RBUF:
            left = self._rend - self._rpos
            self._rbuf[:left] = self._rbuf[self._rpos:self._rend]
            self._rpos, self._rend = 0, left
        while self._rend - self._rpos < k:
            got = self._recv_into(self._rview[self._rend:], frame, self._rend - self._rpos)
            self._rend += got

    def _read_into(self, dest: memoryview, frame: int) -> None:
        """Fill ``dest`` from the buffer, then straight from the transport when it is large."""
        n = len(dest)
        got = min(n, self._rend - self._rpos)
        dest[:got] = self._rview[self._rpos:self._rpos + got]
        self._rpos += got
        while got < n:
            if n - got >= _RBUF // 2:
                got += self._recv_into(dest[got:], frame, got)
            else:
                self._rpos = self._rend = 0
                self._fill(1, frame)
                k = min(n - got, self._rend)
                dest[got:got + k] = self._rview[:k]
                self._rpos = k
                got += k
        self.bytes_received += n

    def _recv_into(self, view: memoryview, frame: int | None, have: int) -> int:
        started = frame is not None or have > 0
        self._arm(receiving=True, started=started)
        try:
            got = self._t.recv_into(view)
        except Exception as e:  # noqa: BLE001 - translated, never swallowed
            raise self._fail(e, "receiving", started) from e
        if got == 0:
            if frame is None and have == 0:
                self._broken = PeerClosed("the peer closed the connection", phase=self.phase)
            else:
                total = f" of {frame}" if frame is not None else ""
                self._broken = PeerClosed(f"the peer closed the connection in the middle of a "
                                          f"frame ({have}{total} bytes received)",
                                          phase=self.phase)
            raise self._broken
        return got

    # -- failures --------------------------------------------------------------------------
    def _usable(self) -> None:
        if self._closed:
            raise NetworkError("the channel is closed", phase=self.phase)
        if self._broken:
            raise type(self._broken)(f"the channel is unusable after an earlier failure: "
                                     f"{self._broken.detail}", phase=self.phase)

    def _desync(self, message: str) -> ProtocolError:
        self._broken = ProtocolError(message, phase=self.phase)
        return self._broken

    def _fail(self, e: BaseException, doing: str, started: bool = True) -> NetworkError:
        """Translate a transport exception; the stream position is lost, so mark it broken."""
        if isinstance(e, TimeoutError) and self._limit is not None and \
                time.monotonic() >= self._limit[0] - 1e-3:
            err = ChannelTimeout(self._late(self._limit[1], started), phase=self.phase)
        elif isinstance(e, TimeoutError):
            waiting = "send" if doing == "receiving" else "read what this side sends"
            err = ChannelTimeout(f"timed out after {self._timeout:g} s waiting for the peer "
                                 f"to {waiting}", phase=self.phase)
        elif isinstance(e, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionError)):
            err = PeerClosed(f"the peer closed the connection while this side was {doing}",
                             phase=self.phase)
        elif isinstance(e, ssl.SSLError):
            err = NetworkError(f"TLS error while {doing}: {describe_ssl_error(e)}",
                               phase=self.phase)
        elif isinstance(e, OSError):
            err = NetworkError(f"network error while {doing}: {e.strerror or e}",
                               phase=self.phase)
        else:
            raise e
        self._broken = err
        return err

    # -- lifetime --------------------------------------------------------------------------
    def abort(self, reason: str, after_bad_input: bool = False, *, close: bool = True) -> None:
        """Tell the peer why this side gives up (best effort), then close (``close=False``:
        the caller closes, once a thread of its own reading the channel has ended).
        ``after_bad_input``: also where what the peer sent broke the stream (its reading side
        is lost, this side's writing is not)."""
        broken_here = self._broken is not None and not (
            after_bad_input and isinstance(self._broken, ProtocolError))
        if not self._closed and not broken_here:
            body = reason.encode("utf-8")[:_REASON_MAX]
            broken, self._broken = self._broken, None   # the writing side still works
            with self._wlock:
                self._wbuf += _HEADER.pack(_ABORT) + _HEADER.pack(len(body)) + body
                self.bytes_sent += 2 * _HEADER.size + len(body)
            try:
                self.flush()
            except NetworkError:
                pass
            finally:
                if broken is not None:
                    self._broken = broken
            self._linger()
        self._wbuf = bytearray()
        if close:
            self.close()

    def _linger(self) -> None:
        """After the abort message: let the peer read it. A peer still sending (the inputs
        of a large batch) gets a reset for the bytes this side leaves unread, and loses the
        abort with them; so what it sends is read and dropped, for at most LINGER_S, until
        it closes."""
        t = self._t
        if not isinstance(t, socket.socket):
            return
        try:
            t.shutdown(socket.SHUT_WR)
            end = time.monotonic() + LINGER_S
            t.settimeout(0.1)
            while time.monotonic() < end:
                try:
                    if not t.recv(1 << 16):
                        break
                except TimeoutError:
                    continue
        except (OSError, ValueError):
            pass

    def shutdown(self) -> None:
        """End the connection both ways but keep its descriptor: a thread blocked reading it
        returns at once. (Closing it under that thread instead could give its number to a
        new connection, whose bytes the blocked read would then take.) ``close`` follows."""
        if isinstance(self._t, socket.socket) and not self._closed:
            with contextlib.suppress(OSError):
                # the plain socket's: an SSLSocket's own would drop its TLS state under the
                # blocked read
                socket.socket.shutdown(self._t, socket.SHUT_RDWR)

    def close(self) -> None:
        """Flush pending frames (unless the channel already failed) and close."""
        if self._closed:
            return
        try:
            if not self._broken:
                self.flush()
        finally:
            self._closed = True
            self._t.close()

    def __enter__(self) -> "Channel":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is None:
            self.close()
        elif isinstance(exc, ProtocolError):
            # what the peer sent was malformed or inconsistent: say so (without the details,
            # which may quote this side's data), rather than leave it to report a closed
            # connection, perhaps under a later phase of its own
            self._wbuf = bytearray()
            self.abort(f"it refused a malformed or inconsistent message of this side "
                       f"(during {exc.phase or self.phase})", after_bad_input=True)
        elif isinstance(exc, NetworkError):
            self._wbuf = bytearray()
            self.close()
        else:
            # Tell the peer that this side stopped, instead of leaving it to time out, but not
            # the message itself: it may quote this party's private input.
            if isinstance(exc, KeyboardInterrupt):
                self.abort("the peer was interrupted")
            elif isinstance(exc, YaogcError):
                self.abort(f"the peer stopped on an error of its own ({type(exc).__name__})")
            else:
                self.abort("the peer stopped on an internal error")

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("broken" if self._broken else "open")
        return (f"<Channel {self.peer} {'tls' if self.tls else 'plain'} {state} "
                f"sent={self.bytes_sent} received={self.bytes_received}>")

    # -- greeting --------------------------------------------------------------------------
    def _greet(self, server_side: bool) -> None:
        """Exchange the 8-byte greeting so mismatches surface before any protocol message.

        A TLS client reads first: in TLS 1.3 its handshake ends before the server has checked
        its certificate, so a rejection arrives as an alert that only a read reports. Everyone
        else writes first, so a TLS listener facing plain TCP fails at once.
        """
        steps = [lambda: self._write(memoryview(_GREETING)),
                 lambda: self._fill(len(_GREETING), None)]
        try:
            for step in (steps[::-1] if self.tls and not server_side else steps):
                step()
        except ChannelTimeout:
            within = self._deadline_budget if self._deadline is not None else self._timeout
            raise HandshakeError(f"no greeting from {self.peer} within {within:g} s "
                                 "(is it a yaogc party, using TLS exactly when this side "
                                 "does?)", phase=self.phase) from None
        except NetworkError as e:
            if isinstance(e.__cause__, ssl.SSLError) and not isinstance(e, PeerClosed):
                msg = f"TLS handshake with {self.peer} failed: {describe_ssl_error(e.__cause__)}"
            elif isinstance(e, PeerClosed):
                msg = f"{self.peer} closed the connection during the greeting; " + (
                    "it may have rejected this side's certificate" if self.tls else
                    "it may require TLS (this side uses plain TCP)")
            else:
                msg = e.detail
            raise HandshakeError(msg, phase=self.phase) from None
        got = bytes(self._rview[self._rpos:self._rpos + len(_GREETING)])
        self._rpos += len(_GREETING)
        self.bytes_sent += len(_GREETING)
        self.bytes_received += len(_GREETING)
        if got == _GREETING:
            return
        if got[0] == 0x16:
            msg = ("the peer started a TLS handshake but this side uses plain TCP "
                   "(give this side a certificate, key and the peer's certificate)")
        elif got[:6] == _GREETING[:6]:
            msg = f"the peer speaks channel version {got[6]}, this side {_VERSION}"
        else:
            msg = f"the peer is not a yaogc party (it sent {got!r})"
        self._broken = HandshakeError(msg, phase=self.phase)
        raise self._broken


def _kind_name(kind: int, like) -> str:
    """Name a message kind through the caller's IntEnum, if it passed one."""
    if isinstance(like, enum.Enum):
        try:
            return f"{type(like)(kind).name} ({int(kind)})"
        except ValueError:
            pass
    return f"kind {int(kind)}"


def _byte_view(data) -> memoryview:
    if isinstance(data, np.ndarray):
        return memoryview(np.ascontiguousarray(data).reshape(-1).view(np.uint8))
    view = memoryview(data)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


# -- in-memory pair -------------------------------------------------------------------------
class _Pipe:
    """One direction of an in-memory connection: an unbounded queue of byte chunks."""

    def __init__(self):
        self.cond = threading.Condition()
        self.chunks: deque[memoryview] = deque()
        self.writer_closed = False
        self.reader_closed = False


class _MemoryEnd:
    """A socket-like end of an in-memory connection (sendall, recv_into, settimeout, close)."""

    def __init__(self, inbound: _Pipe, outbound: _Pipe):
        self._in, self._out = inbound, outbound
        self._timeout: float | None = None

    def settimeout(self, t: float | None) -> None:
        self._timeout = t

    def sendall(self, data) -> None:
        with self._out.cond:
            if self._out.reader_closed or self._out.writer_closed:
                raise BrokenPipeError("peer closed")
            self._out.chunks.append(memoryview(bytes(data)))
            self._out.cond.notify_all()

    def recv_into(self, view: memoryview) -> int:
        p = self._in
        with p.cond:
            if not p.cond.wait_for(lambda: p.chunks or p.writer_closed, self._timeout):
                raise TimeoutError("timed out")
            if not p.chunks:
                return 0
            head = p.chunks[0]
            k = min(len(head), len(view))
            view[:k] = head[:k]
            if k == len(head):
                p.chunks.popleft()
            else:
                p.chunks[0] = head[k:]
            return k

    def close(self) -> None:
        for p, flag in ((self._out, "writer_closed"), (self._in, "reader_closed")):
            with p.cond:
                setattr(p, flag, True)
                p.cond.notify_all()


def memory_pair(timeout: float | None = DEFAULT_TIMEOUT,
                max_frame: int = DEFAULT_MAX_FRAME) -> tuple[Channel, Channel]:
    """Two connected in-memory channels (unbounded buffers, so sends never block)."""
    ab, ba = _Pipe(), _Pipe()
    return (Channel(_MemoryEnd(ba, ab), timeout=timeout, max_frame=max_frame, peer="memory:b"),
            Channel(_MemoryEnd(ab, ba), timeout=timeout, max_frame=max_frame, peer="memory:a"))
