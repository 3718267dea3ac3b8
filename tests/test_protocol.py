"""The Yao protocol: handshake comparison, inputs, per-recipient outputs, and full two-process
runs of the nine reference circuits (plain TCP and TLS, K=1 and K=100) against the plaintext
evaluator."""

import io
import threading
import zlib

import numpy as np
import pytest

from yaogc.circuits import BOOL, Builder, parse_type, uint
from yaogc.circuits.words import add_carry, gt
from yaogc.circuits.errors import InputError
from yaogc.circuits.evaluate import evaluate
from yaogc.runtime import handshake as hs
from yaogc.runtime.channel import memory_pair
from yaogc.runtime.inputs import party_inputs, read_input_file
from yaogc.runtime.local import run_local
from yaogc.runtime.protocol import (evaluator_session, garbler_session, plan, prepare)

def hospitals_circuit(width=16):
    """Two hospitals learn their combined count of cases and whether st_anne sees more."""
    b = Builder("hospitals", parties=("st_anne", "northfield"))
    x = b.input("st_anne", "cases_st_anne", uint(width))
    y = b.input("northfield", "cases_northfield", uint(width))
    total, carry = add_carry(b, x, y)
    b.output(("st_anne", "northfield"), "total_cases", uint(width + 1), total + [carry])
    b.output(("st_anne", "northfield"), "st_anne_sees_more", BOOL, [gt(b, x, y, False)])
    return b.build()


REFERENCE = ["adder64.txt", "sub64.txt", "neg64.txt", "zero_equal.txt", "mult64.txt",
             "mult2_64.txt", "divide64.txt", "aes_128.txt", "sha256.txt"]
_LOADED = {}


def load(path):
    from yaogc.circuits.bristol import load_circuit
    if path not in _LOADED:  # one Circuit object per file: its Schedule is cached on it
        _LOADED[path] = load_circuit(str(path))
    return _LOADED[path]


def random_rows(circuit, k, seed):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(k):
        row = {}
        for p in circuit.inputs:
            row[p.name] = int.from_bytes(rng.bytes((p.width + 7) // 8), "little") % (1 << p.width)
        rows.append(row)
    return rows


def split(circuit, rows, party):
    names = {p.name for p in circuit.inputs if p.party == party}
    return [{k: v for k, v in r.items() if k in names} for r in rows]


def in_memory(circuit, g_rows, e_rows, garbler=None):
    """Both sessions over an in-memory channel pair, in two threads."""
    pg, _, gi = prepare(circuit, "garbler", g_rows, garbler=garbler)
    pe, _, ei = prepare(circuit, "evaluator", e_rows, garbler=garbler)
    a, b = memory_pair(timeout=20)
    out = {}

    def g():
        try:
            out["g"] = garbler_session(a, pg, gi)
        except BaseException as e:  # noqa: BLE001
            out["g"] = e
    t = threading.Thread(target=g)
    t.start()
    try:
        out["e"] = evaluator_session(b, pe, ei)
    except BaseException as e:  # noqa: BLE001
        out["e"] = e
    finally:
        b.close()  # a garbler still talking to a failed evaluator stops at once
    t.join(30)
    return out["g"], out["e"]


# -- in-memory sessions -----------------------------------------------------------------------
def test_hospitals_in_memory_matches_plaintext():
    c = hospitals_circuit()
    g, e = in_memory(c, {"cases_st_anne": 1342}, {"cases_northfield": 977})
    want = evaluate(c, [{"cases_st_anne": 1342, "cases_northfield": 977}])[0]
    assert g.outputs == [want] and e.outputs == [want]
    assert g.stats["and_gates"] == 32 and g.stats["bytes_sent"] > 32 * 32


def recipients_circuit():
    b = Builder("recipients", parties=("alice", "bob"))
    x = b.input("alice", "x", uint(8))
    y = b.input("bob", "y", uint(8))
    both = [b.and_(p, q) for p, q in zip(x, y)]
    b.output("alice", "for_alice", uint(8), both)
    b.output("bob", "for_bob", uint(8), [b.xor(w, p) for w, p in zip(both, x)])
    b.output(("alice", "bob"), "shared", BOOL, [b.and_(x[0], y[7])])
    return b.build()


def test_each_party_learns_only_its_outputs():
    c = recipients_circuit()
    g, e = in_memory(c, [{"x": 0xF3}, {"x": 0x81}], [{"y": 0x5A}, {"y": 0xFF}])
    want = evaluate(c, [{"x": 0xF3, "y": 0x5A}, {"x": 0x81, "y": 0xFF}])
    assert g.outputs == [{"for_alice": w["for_alice"], "shared": w["shared"]} for w in want]
    assert e.outputs == [{"for_bob": w["for_bob"], "shared": w["shared"]} for w in want]
    assert g.batch and e.batch


def test_decoding_bits_go_only_to_recipients():
    # the garbler sends decoding bits for evaluator-bound wires only (8 + 1 per row), and the
    # evaluator colour bits for garbler-bound wires only (8 + 1): one byte-padded frame each
    c = recipients_circuit()
    p = plan(c, hs.resolve_roles(c))
    assert p.to_garbler.tolist() == list(range(8)) + [16]
    assert p.to_evaluator.tolist() == list(range(8, 17))


def test_garbler_without_inputs_and_roles_by_name():
    b = Builder("evalonly", parties=("server", "client"))
    y = b.input("client", "y", uint(4))
    b.output(("server", "client"), "z", uint(4), [b.not_(w) for w in y])
    c = b.build()
    g, e = in_memory(c, None, [{"y": 3}, {"y": 9}, {"y": 0}])
    assert [r["z"] for r in g.outputs] == [12, 6, 15] == [r["z"] for r in e.outputs]
    g, e = in_memory(c, [{"y": 5}], None, garbler="client")
    assert g.party == "client" and g.outputs == [{"z": 10}] == e.outputs


# -- handshake ------------------------------------------------------------------------------
def _desc(circuit, role="garbler", k=1, **kw):
    roles = hs.resolve_roles(circuit, kw.pop("garbler", None))
    return hs.describe(circuit, roles, role, k, kw.pop("digest", "d" * 64))


def test_handshake_agreement_and_each_difference():
    c = hospitals_circuit()
    g, e = _desc(c, "garbler", 5), _desc(c, "evaluator", 5)
    assert hs.check(g, e) == 5 and hs.check(e, g) == 5
    assert any("both sides are the garbler" in d for d in hs.compare(g, _desc(c, "garbler", 5)))
    assert any("batch size differs: 5 rows here, 7 at the peer" in d
               for d in hs.compare(g, _desc(c, "evaluator", 7)))
    # one row against K: that row is broadcast, and both sides name the same broadcaster
    one, seven = _desc(c, "garbler", 1), _desc(c, "evaluator", 7)
    assert hs.check(one, seven) == 7 == hs.check(seven, one)
    assert hs.broadcaster(one, seven) == "garbler" == hs.broadcaster(seven, one)
    assert hs.broadcaster(g, e) is None and hs.broadcaster(_desc(c, "garbler", 1),
                                                           _desc(c, "evaluator", 1)) is None
    other = _desc(c, "evaluator", 5, digest="e" * 64)
    assert any("circuit differs" in d for d in hs.compare(g, other))
    swapped = _desc(c, "evaluator", 5, garbler="northfield")
    diffs = hs.compare(g, swapped)
    assert any("the garbler is party 'st_anne' here but 'northfield' at the peer" in d
               for d in diffs)
    assert any("input 'cases_st_anne' belongs to the garbler here but evaluator" in d
               for d in diffs)
    newer = dict(e, protocol="yaogc-yao/9")
    assert hs.compare(g, newer) == [f"protocol version differs: {hs.PROTOCOL} here, yaogc-yao/9 "
                                    "at the peer"]
    with pytest.raises(hs.HandshakeMismatch, match="^handshake: the peer describes"):
        hs.check(g, other)


def test_handshake_port_layout_differences():
    c = hospitals_circuit()
    b = Builder("hospitals", parties=("st_anne", "northfield"))
    b.input("st_anne", "cases_st_anne", uint(16))
    y = b.input("northfield", "cases_northfield", uint(8))
    b.output(("st_anne", "northfield"), "total_cases", uint(8), y)
    d = hs.compare(_desc(c), _desc(b.build(), "evaluator"))
    assert any("input 'cases_northfield' is u16 (16 bits) here but u8 (8 bits)" in x for x in d)
    assert any("output 'st_anne_sees_more' exists here but not at the peer" in x for x in d)


def test_handshake_refuses_garbage_hello():
    with pytest.raises(hs.ProtocolError, match="not a valid session description"):
        hs.decode(b"\xff\x00junk")
    with pytest.raises(hs.ProtocolError, match="lacks fields"):
        hs.decode(b'{"protocol": "yaogc-yao/3"}')


def test_roles_and_party_assignment():
    c = hospitals_circuit()
    roles = hs.resolve_roles(c)
    assert roles == hs.Roles("st_anne", "northfield")
    assert hs.resolve_self(roles, "northfield") == "evaluator"
    assert hs.resolve_self(roles, "garbler") == "garbler"
    with pytest.raises(InputError, match="--as carol"):
        hs.resolve_self(roles, "carol")
    with pytest.raises(InputError, match="--garbler carol"):
        hs.resolve_roles(c, "carol")
    moved = hs.assign_parties(c, {"cases_northfield": "garbler"}, roles)
    assert moved.input("cases_northfield").party == "st_anne"


# -- inputs ---------------------------------------------------------------------------------
def test_inputs_missing_out_of_range_and_foreign(tmp_path):
    c = hospitals_circuit()
    with pytest.raises(InputError, match="missing input 'cases_st_anne'"):
        party_inputs(c, "st_anne", {})
    with pytest.raises(InputError, match="70000 is out of range for u16"):
        party_inputs(c, "st_anne", {"cases_st_anne": 70000})
    with pytest.raises(InputError, match="belongs to party 'northfield'"):
        party_inputs(c, "st_anne", {"cases_st_anne": 1, "cases_northfield": 2})
    with pytest.raises(InputError, match="no input 'cases'"):
        party_inputs(c, "st_anne", {"cases": 1})


def test_input_files_csv_and_json(tmp_path):
    b = Builder("arr", parties=("a", "b"))
    b.input("a", "v", uint(4))
    b.input("a", "xs", parse_type("u8[3]"))
    b.input("a", "f", parse_type("fix16_8"))
    c = b.build()
    csv = tmp_path / "in.csv"
    csv.write_text('v,xs,f\n3,"[1,2,3]",1.5\n15,"[0x10, 0, 255]",-2.25\n')
    rows, batch = read_input_file(csv)
    got = party_inputs(c, "a", None, rows, batch=batch)
    assert batch and got.k == 2 and got.rows[1]["xs"] == [16, 0, 255]
    js = tmp_path / "in.json"
    js.write_text('[{"v": 3, "xs": [1, 2, 3], "f": 1.5}, {"v": 4, "xs": ["0x10", 0, 255], '
                  '"f": 0.00390625}]')
    rows, batch = read_input_file(js)
    got2 = party_inputs(c, "a", None, rows, batch=batch)
    assert np.array_equal(got2.bits[0], got.bits[0])
    one = tmp_path / "one.json"
    one.write_text('{"xs": [1, 2, 3], "f": 1}')
    rows, batch = read_input_file(one)
    assert not batch and party_inputs(c, "a", {"v": 2}, rows).k == 1
    bad = tmp_path / "bad.csv"
    bad.write_text('v,xs,f\n3,[1,2,3],1\n')
    with pytest.raises(InputError, match=r"bad.csv:2: 5 cells"):
        read_input_file(bad)
    big = tmp_path / "big.json"
    big.write_text('[{"v": 16, "xs": [1, 2, 3], "f": 0}]')
    rows, batch = read_input_file(big)
    with pytest.raises(InputError, match="16 is out of range for u4"):
        party_inputs(c, "a", None, rows, batch=batch)


# -- the nine reference circuits between two real processes ----------------------------------
@pytest.mark.parametrize("name", REFERENCE)
def test_reference_circuit_two_processes(name, bristol_path, tls_pair):
    c = load(bristol_path(name))
    for k, tls in ((1, None), (100, tls_pair), (1, tls_pair), (100, None)):
        if name == "sha256.txt" and k == 100 and tls is None:
            continue  # one sha256 batch (over TLS) is enough
        rows = random_rows(c, k, seed=zlib.crc32(f"{name}/{k}".encode()))
        run = run_local(c, split(c, rows, "garbler"), split(c, rows, "evaluator"), tls=tls,
                        timeout=60)
        want = evaluate(c, rows)
        assert run.garbler.outputs == want, (name, k, tls)
        assert run.evaluator.outputs == want, (name, k, tls)
        st = run.evaluator.stats
        assert st["and_gates"] == k * c.stats()["and"]
        assert st["bytes_received"] >= 32 * st["and_gates"]


def test_aes_fips197_key_and_plaintext_held_apart(bristol_path):
    c = load(bristol_path("aes_128.txt"))
    key = int.from_bytes(bytes.fromhex("000102030405060708090a0b0c0d0e0f"), "big")
    pt = int.from_bytes(bytes.fromhex("00112233445566778899aabbccddeeff"), "big")
    run = run_local(c, {"in1": key}, {"in2": pt})
    ct = bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")
    for res in (run.garbler, run.evaluator):
        assert res.outputs[0]["out1"].to_bytes(16, "big") == ct
    # the other way round: plaintext with the garbler, key with the evaluator
    swapped = c.with_parties({"in1": "evaluator", "in2": "garbler"})
    run = run_local(swapped, {"in2": pt}, {"in1": key})
    assert run.evaluator.outputs[0]["out1"].to_bytes(16, "big") == ct


# -- progress line ----------------------------------------------------------------------------
class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_only_on_a_terminal_after_a_while(monkeypatch):
    from yaogc.runtime import progress
    quiet = io.StringIO()
    p = progress.Progress(10, stream=quiet)        # not a terminal: never drawn
    monkeypatch.setattr(progress, "SHOW_AFTER", 0.0)
    p.update(3, 3000)
    assert quiet.getvalue() == ""
    tty = _Tty()
    p = progress.Progress(10, label="garbler: ", stream=tty)
    p.update(4, 4_000_000)
    line = tty.getvalue()
    assert line.startswith("\rgarbler: layer 4/10 (40%), 4.0M AND") and "AND/s" in line
    p.close()
    assert tty.getvalue().endswith("\r")
    monkeypatch.setattr(progress, "SHOW_AFTER", 3600.0)
    late = _Tty()
    p = progress.Progress(10, stream=late)         # a short run: nothing appears
    p.update(10, 1000)
    p.close()
    assert late.getvalue() == ""


@pytest.mark.parametrize("frame_max, small", [(4096, False), (32, True)])
def test_blocks_and_labels_cut_into_small_frames(monkeypatch, bristol_path, frame_max, small):
    # huge batches cut table blocks and label arrays into frames below the cap: with a tiny
    # FRAME_MAX every layer straddles frames and the evaluator must join them (``small``:
    # frames of 32 bytes and less, each sent at once, joined as they come)
    from yaogc.runtime import tables
    monkeypatch.setattr(tables, "FRAME_MAX", frame_max)
    if small:
        monkeypatch.setattr(tables, "FRAME_TARGET", 1)
        monkeypatch.setattr(tables, "FRAME_IDLE", 1)
    c = load(bristol_path("mult64.txt"))
    rows = random_rows(c, 7, seed=5)
    g, e = in_memory(c, split(c, rows, "garbler"), split(c, rows, "evaluator"))
    want = evaluate(c, rows)
    assert g.outputs == want and e.outputs == want
    assert e.stats["table_bytes"] == 32 * 7 * 4033


def test_run_local_from_clean_processes(bristol_path):
    """Parties started from a fork server schedule the circuit themselves and still agree."""
    c = load(bristol_path("adder64.txt"))
    a, b = (1 << 64) - 3, 10
    run = run_local(c, {"in1": a}, {"in2": b}, start_method="forkserver")
    assert run.garbler.outputs == run.evaluator.outputs == [{"out1": (a + b) % (1 << 64)}]
