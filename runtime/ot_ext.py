"""OT extension: millions of chosen-message OTs on 128-bit labels from 128 base OTs.

Protocol: Ishai, Kilian, Nissim and Petrank, "Extending Oblivious Transfers Efficiently"
(CRYPTO 2003), with the optimizations of Asharov, Lindell, Schneider and Zohner, "More
Efficient Oblivious Transfer and Extensions for Faster Secure Computation" (CCS 2013): the
base-OT seeds are expanded by a PRG (AES-128-CTR, ``yaogc.gc.aes.PRG``) and the receiver sends
only ``u_j = G(k0_j) ^ G(k1_j) ^ r`` for each of the 128 columns. Secure against semi-honest
parties only, the model of the whole runtime.

Roles are reversed for the base OTs: the extension sender picks a secret 128-bit ``s`` and
receives ``k_{s_j}`` from 128 base OTs (``ot_base``) in which the extension receiver is the
sender. Per chunk of OTs, the receiver's matrix ``T`` has columns ``G(k0_j)``; the sender's
``Q`` has columns ``G(k_{s_j}) ^ s_j u_j``, so that row ``i`` satisfies ``q_i = t_i ^ r_i s``.
The random OT is derandomized with the fixed-key AES TCCR hash ``H`` (Guo, Katz, Wang, Yu,
S&P 2020): the sender sends ``y0 = m0 ^ H(q_i, i)`` and ``y1 = m1 ^ H(q_i ^ s, i)``, the
receiver outputs ``y_{r_i} ^ H(t_i, i)``.

The correlated variant (``send_correlated`` / ``recv_correlated``, ALSZ's C-OT) sends one
block per OT: the sender's zero message is ``L0 = H(q_i, i)`` (random, returned to it) and it
sends ``y = L0 ^ H(q_i ^ s, i) ^ delta``; the receiver outputs ``H(t_i, i) ^ r_i y``, which is
``L0 ^ r_i delta``. Use it when the zero labels need not be chosen in advance; with fixed
labels, ``send(L0, L0 ^ R)`` transfers them.

Tweak ``i`` is a session-wide OT index that never repeats, counted from 2^63 so that it never
meets a gate tweak (gates count from 0 under the same fixed-key AES). The PRG streams continue
across calls, so an ``OTExtSender`` / ``OTExtReceiver`` pair serves any number of calls on one
channel. OTs go in chunks (65536 by default): memory stays bounded, and the receiver prepares
the next chunk while the sender hashes the current one. Frames per chunk: receiver to sender
one header + ``u`` (16 bytes per OT), sender to receiver ``y0 || y1`` (32 bytes per OT, 16 for
the correlated variant). ``ch`` is a ``yaogc.runtime.channel.Channel`` (``send``, ``flush``,
``recv``, ``recv_array``); a malformed or mismatched frame from the peer raises ``OTError``, after which the pair is out of
step and the session must end.
"""

from __future__ import annotations

import secrets
import struct

import numpy as np

from yaogc.circuits.errors import InputError
from yaogc.gc.aes import PRG, FixedKeyAES
from yaogc.runtime.bitmatrix import BitTransposer, block_from_bits, pack_bits
from yaogc.runtime.errors import ProtocolError
from yaogc.runtime.ot_base import OTError, base_ot_recv, base_ot_send

KAPPA = 128
DEFAULT_CHUNK = 1 << 16
TWEAK_BASE = 1 << 63
# Per-chunk header from receiver to sender: kind, OTs in this call, session index of the chunk.
_HEADER = struct.Struct("<QQQ")
_CHOSEN, _CORRELATED = 1, 2
_KIND_NAME = {_CHOSEN: "chosen-message", _CORRELATED: "correlated"}


def _check_chunk(chunk: int) -> int:
    if not isinstance(chunk, int) or chunk < KAPPA or chunk % KAPPA:
        raise InputError(f"OT extension: chunk must be a positive multiple of 128, got {chunk!r}")
    return chunk


def _check_blocks(arr, name: str) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint64 or arr.ndim != 2 \
            or arr.shape[1] != 2:
        desc = f"{arr.shape} {arr.dtype}" if isinstance(arr, np.ndarray) else type(arr).__name__
        raise InputError(f"OT extension: {name} must be an (m, 2) uint64 array, got {desc}")
    return np.ascontiguousarray(arr)


def _check_choices(choices) -> np.ndarray:
    arr = np.asarray(choices)
    if arr.ndim != 1 or not (arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.integer)):
        raise InputError(f"OT extension: choices must be a 1-D array of 0/1, got shape "
                         f"{arr.shape} dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        bad = int(np.flatnonzero((arr < 0) | (arr > 1))[0])
        raise InputError(f"OT extension: choice {bad} is {arr[bad]}, not a bit")
    return arr.astype(np.uint8)


def _check_delta(delta) -> tuple[np.uint64, np.uint64]:
    if isinstance(delta, (bytes, bytearray)) and len(delta) == 16:
        arr = np.frombuffer(bytes(delta), dtype="<u8").astype(np.uint64)
    elif isinstance(delta, np.ndarray) and delta.shape == (2,) and delta.dtype == np.uint64:
        arr = delta
    else:
        raise InputError("OT extension: delta must be a (2,) uint64 array or 16 bytes")
    return arr[0], arr[1]


def _chunks(m: int, chunk: int):
    for start in range(0, m, chunk):
        yield start, min(chunk, m - start)


def _padded_rows(n: int) -> int:
    """Rows extended for a chunk of ``n`` OTs (a multiple of 128)."""
    return -(-n // KAPPA) * KAPPA


def _expand(prgs, cols: int, buf: np.ndarray) -> np.ndarray:
    """Next ``8 * cols`` bits of each of the 128 PRG streams, as rows of a (128, cols) view."""
    out = buf[:KAPPA * cols].reshape(KAPPA, cols)
    for j, prg in enumerate(prgs):
        out[j] = prg.blocks(cols // 16).view(np.uint8).reshape(-1)
    return out


class _Workspace:
    """Per-chunk working arrays kept for the whole session.

    Fresh multi-megabyte arrays cost a page fault per 4 KiB on every chunk: measured, hashing
    2^17 blocks with ``FixedKeyAES.tccr`` (which allocates its results) took 3.8 ms, and
    0.86 ms into these buffers.
    """

    def __init__(self, chunk: int, hashed: int):
        self.transposer = BitTransposer()
        self.mat = np.empty(KAPPA * chunk // 8, dtype=np.uint8)
        self.rows = np.empty((chunk, 2), dtype=np.uint64)
        self.scratch = np.empty((hashed, 2), dtype=np.uint64)
        self.tweaks = np.empty(hashed, dtype=np.uint64)
        self._iota = np.arange(chunk, dtype=np.uint64)

    def tweaks_for(self, index: int, n: int, copies: int) -> np.ndarray:
        """Tweaks of OTs index .. index+n-1, repeated ``copies`` times back to back."""
        out = self.tweaks[:copies * n]
        for c in range(copies):
            np.add(self._iota[:n], np.uint64(TWEAK_BASE + index), out=out[c * n:(c + 1) * n])
        return out

    def tccr(self, aes: FixedKeyAES, x: np.ndarray, tweaks: np.ndarray,
             out: np.ndarray) -> np.ndarray:
        """``aes.tccr(x, tweaks)`` computed into ``out`` with this workspace's scratch."""
        return aes.tccr(x, tweaks, out, self.scratch[:x.shape[0]])


class OTExtSender:
    """Extension sender on a channel; ``setup()`` runs once (implicitly on first use)."""

    def __init__(self, ch, chunk: int = DEFAULT_CHUNK):
        self.ch = ch
        self.chunk = _check_chunk(chunk)
        self.index = 0
        self._aes = FixedKeyAES()
        self._prgs = None
        self._ws = _Workspace(self.chunk, 2 * self.chunk)
        self._x = np.empty((2 * self.chunk, 2), dtype=np.uint64)
        self._h = np.empty((2 * self.chunk, 2), dtype=np.uint64)

    def setup(self) -> None:
        """128 base OTs as the base-OT receiver, with secret choice bits ``s``."""
        if self._prgs is not None:
            return
        s_int = secrets.randbits(KAPPA)
        s_bits = np.array([(s_int >> j) & 1 for j in range(KAPPA)], dtype=np.uint8)
        keys = base_ot_recv(self.ch, s_bits.tolist())
        self._s_rows = np.flatnonzero(s_bits)
        self._s = block_from_bits(s_bits)
        self._prgs = [PRG(k) for k in keys]

    def send(self, m0: np.ndarray, m1: np.ndarray) -> None:
        """Chosen-message OTs: the receiver gets ``m0[i]`` or ``m1[i]`` by its choice bit."""
        m0 = _check_blocks(m0, "m0")
        m1 = _check_blocks(m1, "m1")
        if m0.shape != m1.shape:
            raise InputError(f"OT extension: m0 has {m0.shape[0]} messages but m1 has "
                             f"{m1.shape[0]}")
        for start, n, h in self._hashed(_CHOSEN, m0.shape[0]):
            h[:n] ^= m0[start:start + n]
            h[n:] ^= m1[start:start + n]
            self.ch.send(h.view(np.uint8).reshape(-1))
            self.ch.flush()

    def send_correlated(self, delta, m: int) -> np.ndarray:
        """``m`` correlated OTs with offset ``delta`` ((2,) uint64 array or 16 bytes).

        Returns the random zero messages ``L0`` ((m, 2) uint64); the receiver gets
        ``L0[i] ^ c_i delta``.
        """
        d_lo, d_hi = _check_delta(delta)
        if not isinstance(m, (int, np.integer)) or m < 0:
            raise InputError(f"OT extension: the number of OTs must be an int >= 0, got {m!r}")
        m = int(m)
        zero = np.empty((m, 2), dtype=np.uint64)
        for start, n, h in self._hashed(_CORRELATED, m):
            zero[start:start + n] = h[:n]
            y = h[n:]
            y ^= h[:n]
            y[:, 0] ^= d_lo
            y[:, 1] ^= d_hi
            self.ch.send(y.view(np.uint8).reshape(-1))
            self.ch.flush()
        return zero

    def _hashed(self, kind: int, m: int):
        """Per chunk: (start, n, H) with H[:n] = H(q_i, i), H[n:] = H(q_i ^ s, i)."""
        self.setup()
        s_lo, s_hi = self._s
        for start, n in _chunks(m, self.chunk):
            n_pad = self._padded(n)
            cols = n_pad // 8
            q_mat = _expand(self._prgs, cols, self._ws.mat)
            try:   # the frame for n OTs has a known size: a larger one is refused at once
                frame = self.ch.recv_array(np.uint8, limit=_HEADER.size + KAPPA * cols)
            except ProtocolError as e:
                if getattr(e, "announced", None) is None:
                    raise
                raise OTError(f"OT extension: receiver's frame for {n} OTs has {e.announced} "
                              f"bytes, expected {_HEADER.size + KAPPA * cols}",
                              phase=e.phase) from None
            u = self._check_frame(frame, kind, m, n, cols)
            for j in self._s_rows:
                q_mat[j] ^= u[j]
            self._check_matrix(q_mat, cols)
            q = self._ws.transposer.transpose(q_mat, self._ws.rows[:n_pad])
            x = self._x[:2 * n]
            x[:n] = q[:n]
            np.bitwise_xor(q[:n, 0], s_lo, out=x[n:, 0])
            np.bitwise_xor(q[:n, 1], s_hi, out=x[n:, 1])
            tweaks = self._ws.tweaks_for(self.index, n, 2)
            self.index += n
            yield start, n, self._ws.tccr(self._aes, x, tweaks, self._h[:2 * n])

    _padded = staticmethod(_padded_rows)

    def _check_matrix(self, q_mat: np.ndarray, cols: int) -> None:
        """Before any row is used: nothing to check against a semi-honest receiver (the
        malicious-receiver variant, ``ot_kos``, runs its consistency check here)."""

    def _check_frame(self, frame, kind: int, m: int, n: int, cols: int) -> np.ndarray:
        size = _HEADER.size + KAPPA * cols
        if len(frame) < _HEADER.size:
            raise OTError(f"OT extension: receiver's frame has {len(frame)} bytes, shorter "
                          f"than its {_HEADER.size}-byte header")
        p_kind, p_m, p_index = _HEADER.unpack_from(frame)
        if p_kind != kind:
            if p_kind not in _KIND_NAME:
                raise OTError(f"OT extension: the receiver's chunk header names no kind of OT "
                              f"(kind {p_kind}; 1 chosen-message, 2 correlated)")
            raise OTError(f"OT extension: receiver asked for {_KIND_NAME[p_kind]} OTs, this "
                          f"side sends {_KIND_NAME[kind]} OTs")
        if p_m != m:
            raise OTError(f"OT extension: receiver asked for {p_m} OTs, this side sends {m}")
        if p_index != self.index:
            raise OTError(f"OT extension: receiver is at OT index {p_index}, this side at "
                          f"{self.index}")
        if len(frame) != size:
            raise OTError(f"OT extension: receiver's frame for {n} OTs has {len(frame)} "
                          f"bytes, expected {size}")
        return frame[_HEADER.size:].reshape(KAPPA, cols)


class OTExtReceiver:
    """Extension receiver on a channel; ``setup()`` runs once (implicitly on first use)."""

    def __init__(self, ch, chunk: int = DEFAULT_CHUNK):
        self.ch = ch
        self.chunk = _check_chunk(chunk)
        self.index = 0
        self._aes = FixedKeyAES()
        self._prgs0 = None
        self._ws = _Workspace(self.chunk, self.chunk)
        # hashed rows of two chunks: the one being finished and the one being prepared
        self._h = np.empty((2, self.chunk, 2), dtype=np.uint64)
        self._frame = np.empty(_HEADER.size + KAPPA * self.chunk // 8, dtype=np.uint8)

    def setup(self) -> None:
        """128 base OTs as the base-OT sender: the seed pairs of the 128 columns."""
        if self._prgs0 is not None:
            return
        keys = base_ot_send(self.ch, KAPPA)
        self._prgs0 = [PRG(k0) for k0, _ in keys]
        self._prgs1 = [PRG(k1) for _, k1 in keys]

    def recv(self, choices) -> np.ndarray:
        """Chosen-message OTs: returns ``m_{c_i}[i]`` as an (m, 2) uint64 array."""
        return self._run(_CHOSEN, choices)

    def recv_correlated(self, choices) -> np.ndarray:
        """Correlated OTs: returns ``L0[i] ^ c_i delta`` as an (m, 2) uint64 array."""
        return self._run(_CORRELATED, choices)

    def _run(self, kind: int, choices) -> np.ndarray:
        bits = _check_choices(choices)
        self.setup()
        m = bits.size
        out = np.empty((m, 2), dtype=np.uint64)
        # Strict send/recv alternation with the sender; the next chunk is prepared while the
        # sender hashes the current one, and outputs are computed while it hashes the next.
        pending = None
        for k, (start, n) in enumerate(_chunks(m, self.chunk)):
            frame, h = self._prepare(kind, m, bits[start:start + n], self._h[k % 2, :n])
            reply = self._recv_reply(kind, pending[1]) if pending else None
            self.ch.send(frame)
            self.ch.flush()
            if pending:
                self._finish(kind, out, reply, *pending)
            pending = (start, n, bits[start:start + n], h)
        if pending:
            self._finish(kind, out, self._recv_reply(kind, pending[1]), *pending)
        return out

    def _prepare(self, kind: int, m: int, bits: np.ndarray, h: np.ndarray):
        """The frame (header + u) of one chunk and its hashed rows H(t_i, i)."""
        n = bits.size
        n_pad = self._padded(n)
        cols = n_pad // 8
        frame = self._frame[:_HEADER.size + KAPPA * cols]
        _HEADER.pack_into(frame, 0, kind, m, self.index)
        u = frame[_HEADER.size:].reshape(KAPPA, cols)
        t_mat = _expand(self._prgs0, cols, self._ws.mat)
        _expand(self._prgs1, cols, frame[_HEADER.size:])
        u ^= t_mat
        self.r_packed = self._choice_bits(bits, n_pad)
        u ^= self._choice_columns(self.r_packed)
        t = self._ws.transposer.transpose(t_mat, self._ws.rows[:n_pad])[:n]
        tweaks = self._ws.tweaks_for(self.index, n, 1)
        self.index += n
        return frame, self._ws.tccr(self._aes, t, tweaks, h)

    _padded = staticmethod(_padded_rows)

    @staticmethod
    def _choice_bits(bits: np.ndarray, n_pad: int) -> np.ndarray:
        """The packed choice bits of a chunk's ``n_pad`` rows (past the real ones: 0)."""
        return pack_bits(bits, n_pad)

    def _choice_columns(self, r_packed: np.ndarray) -> np.ndarray:
        """The choice bits that go into each of the 128 columns of ``u``: the same ``r`` in
        every column (a broadcast view). Tests override it to play a cheating receiver."""
        return np.broadcast_to(r_packed, (KAPPA, r_packed.size))

    def _recv_reply(self, kind: int, n: int) -> np.ndarray:
        width = 2 * n if kind == _CHOSEN else n
        try:
            # read straight into an array: no intermediate bytes object per chunk
            return self.ch.recv_array(np.uint64, (width, 2))
        except ProtocolError as e:
            raise OTError(f"OT extension: sender's frame for {n} OTs is malformed: "
                          f"{e.detail}") from None

    def _finish(self, kind: int, out: np.ndarray, y: np.ndarray, start: int, n: int,
                bits: np.ndarray, h: np.ndarray) -> None:
        mask = (-bits.astype(np.int64)).view(np.uint64)[:, None]
        dst = out[start:start + n]
        if kind == _CHOSEN:
            np.bitwise_xor(y[:n], y[n:], out=dst)
            dst &= mask
            dst ^= y[:n]
        else:
            np.bitwise_and(y, mask, out=dst)
        dst ^= h
