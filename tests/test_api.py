"""``yaogc.run``: one party from Python (a notebook), with dicts, lists of dicts or a data
frame (anything with ``.to_dict('records')``) as inputs, kept columns in ``records``."""

import threading

import pytest

import yaogc
from yaogc.circuits.errors import InputError
from yaogc.circuits.evaluate import evaluate
from yaogc.compiler import compile_cached, compile_source, compile_text_cached, interpret
from yaogc.runtime.errors import NetworkError

PROGRAM = """party model, data
def main(w: i16[3] @model, b: i16 @model, x: i16[3] @data) -> (s: i32 @data):
    s: i32 = b
    for i in range(3):
        s = s + w[i] * x[i]
    return s
"""


class Frame:
    """The part of a data frame's interface that yaogc uses."""

    def __init__(self, records):
        self._records = records

    def to_dict(self, orient):
        assert orient == "records"
        return [dict(r) for r in self._records]


def both(program, listen_as, listen_inputs, connect_as, connect_inputs, listen_kw=None,
         **kw):
    """Both parties of ``program`` through yaogc.run (the listener in a thread, with
    ``listen_kw`` instead of ``kw`` if given); each side's Run or the exception it raised
    (None for the connecting side when the listener failed before listening)."""
    box, port = {}, threading.Event()

    def listener():
        try:
            box["l"] = yaogc.run(program, as_=listen_as, inputs=listen_inputs,
                                 listen="127.0.0.1:0", timeout=20,
                                 **(kw if listen_kw is None else listen_kw),
                                 on_listening=lambda h, p: (box.update(port=p), port.set()))
        except BaseException as e:  # noqa: BLE001
            box["l"] = e
            port.set()
    t = threading.Thread(target=listener)
    t.start()
    assert port.wait(60)
    if "port" not in box:
        t.join(60)
        return box["l"], None
    try:
        c = yaogc.run(program, as_=connect_as, inputs=connect_inputs,
                      connect=("127.0.0.1", box["port"]), timeout=20, **kw)
    except BaseException as e:  # noqa: BLE001
        c = e
    t.join(60)
    return box["l"], c


def pair(model_inputs, data_inputs, model_kw=None, **data_kw):
    """The model holder listens, the data holder connects; the data holder's error (or the
    model holder's before it listened) is raised."""
    m, d = both(PROGRAM, "model", model_inputs, "data", data_inputs, listen_kw=model_kw or {},
                **data_kw)
    failed = d if d is not None else m
    if isinstance(failed, BaseException):
        raise failed
    return m, d


def test_frame_with_ids_against_a_model_given_once(monkeypatch, tmp_path):
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path))
    records = [{"id": "a", "x[0]": 1, "x[1]": 2, "x[2]": 3},
               {"id": "b", "x[0]": -4, "x[1]": 0, "x[2]": 7}]
    m, d = pair({"w": [1, 10, 100], "b": 5}, Frame(records))
    assert d.outputs == [{"s": 326}, {"s": 701}]
    assert d.records == [{"id": "a", "s": 326}, {"id": "b", "s": 701}]
    assert d.stats["broadcast"] == "garbler" and d.stats["batch"] == 2
    assert m.outputs == [{}, {}]
    # the compile is reported as yaogc run --json reports it, the program's text cached as
    # a file is: the listener compiles it before it listens, the other side reads its
    # circuit; a second run reads it on both sides
    for r in (m, d):
        assert r.stats["compile_seconds"] > 0 and r.stats["compile_waited"] is False
    assert m.stats["compile_cached"] is False and d.stats["compile_cached"] is True
    m, d = pair({"w": [1, 10, 100], "b": 5}, Frame(records))
    assert m.stats["compile_cached"] is True and d.stats["compile_cached"] is True
    assert d.outputs == [{"s": 326}, {"s": 701}]


def test_rows_as_list_of_dicts_with_a_column_mapping():
    rows = [{"patient": 7, "age": 1, "bmi": 1, "bp": 1}]
    m, d = pair({"w": [2, 3, 4], "b": 0}, rows, columns={"x": ["age", "bmi", "bp"]})
    assert d.records == [{"patient": 7, "s": 9}]


def test_malicious_mode_from_python():
    # the model's one row serves the data holder's 2 rows: 2 evaluations on the model, which
    # a malicious-mode run allows only with max_batch
    rows = [{"x[0]": 1, "x[1]": 2, "x[2]": 3}, {"x[0]": -4, "x[1]": 0, "x[2]": 7}]
    m, d = pair({"w": [1, 10, 100], "b": 5}, rows,
                model_kw={"malicious": True, "max_batch": 2}, malicious=True)
    assert d.outputs == [{"s": 326}, {"s": 701}] and m.outputs == [{}, {}]
    assert d.stats["mode"] == m.stats["mode"] == "malicious"
    with pytest.raises(NetworkError, match="refuses to apply its one row to a batch of 2 rows"):
        pair({"w": [1, 10, 100], "b": 5}, rows, model_kw={"malicious": True},
             malicious=True)


def test_bad_inputs_are_refused_before_connecting():
    with pytest.raises(InputError, match="inputs row 2: column 'x\\[1\\]'"):
        yaogc.run(PROGRAM, as_="data", inputs=[{"x[0]": 1, "x[1]": 2, "x[2]": 3},
                                              {"x[0]": 1, "x[1]": "z", "x[2]": 3}],
                  connect="127.0.0.1:9")
    with pytest.raises(InputError, match="inputs must be"):
        yaogc.run(PROGRAM, as_="data", inputs=42, connect="127.0.0.1:9")
    # tls as a tuple has three files; anything else is named, not a TypeError from inside
    row = {"x[0]": 1, "x[1]": 2, "x[2]": 3}
    with pytest.raises(InputError, match="tls: a tuple .* has 3 files, got 2"):
        yaogc.run(PROGRAM, as_="data", inputs=row, connect="127.0.0.1:9", tls=("a.crt", "a.key"))
    with pytest.raises(InputError, match="tls: a TLSConfig or a tuple .* got str"):
        yaogc.run(PROGRAM, as_="data", inputs=row, connect="127.0.0.1:9", tls="a.crt")
    for bad, shown in (((None, None, None), "None"), ((b"a", b"b", b"c"), "b'a'"),
                       (("a.crt", "a.key", ""), "''")):
        with pytest.raises(InputError, match=r"tls: the .* is a file's path, got " + shown):
            yaogc.run(PROGRAM, as_="data", inputs=row, connect="127.0.0.1:9", tls=bad)
    # an address as a tuple is (host, port): an IndexError from inside was raised
    for bad in (("127.0.0.1",), ("127.0.0.1", "9"), ("127.0.0.1", 70000), (9, 9)):
        with pytest.raises(InputError, match=r"connect=.*expected \(host, port\)"):
            yaogc.run(PROGRAM, as_="data", inputs=row, connect=bad)


def test_an_array_given_as_a_set_is_refused():
    # a set has no order: element i would be whatever it yields i-th
    with pytest.raises(InputError, match=r"input 'x': a set has no order; give the 3 "
                                         r"elements of \w+\[3\] as a list"):
        yaogc.run(PROGRAM, as_="data", inputs={"x": {1.0, 2.0, 3.0}}, connect="127.0.0.1:9")


def test_the_api_exceptions_are_yaogc_attributes():
    import yaogc
    from yaogc.circuits.errors import InputError
    from yaogc.compiler.errors import CompileError
    from yaogc.runtime.errors import NetworkError
    assert (yaogc.InputError, yaogc.CompileError, yaogc.NetworkError) == \
        (InputError, CompileError, NetworkError)
    with pytest.raises(yaogc.InputError):
        yaogc.run(PROGRAM, as_="data", inputs={"x[0]": 1}, connect=("127.0.0.1",))
    with pytest.raises(AttributeError):
        yaogc.NoSuchThing


FIXED = """party a, b
def main(x: fix64_16 @a, y: fix64_16 @b) -> (q: fix64_16 @both, n: i8 @both):
    return x / y, -3
"""


def test_outputs_are_python_values_as_interpret_gives_them():
    # a fixed-point result a float cannot hold came back as text, so the type a user got
    # changed from row to row; now it is the Decimal interpret gives
    from decimal import Decimal
    from yaogc.compiler import interpret
    rows = [{"x": 1}, {"x": 70000000000000}]
    a, b = both(FIXED, "a", rows, "b", {"y": 3})
    want = [interpret(FIXED, {**r, "y": 3}) for r in rows]
    assert want[1]["q"] != float(want[1]["q"]) and isinstance(want[1]["q"], Decimal)
    for r in (a, b):
        assert r.outputs == [{"q": w["q"], "n": -3} for w in want]
        assert [type(o["q"]) for o in r.outputs] == [type(w["q"]) for w in want]
        assert all(isinstance(o["q"], (float, Decimal)) for o in r.records)
        assert [o["q"] for o in r.records] == [w["q"] for w in want]


WRAPS = """party a, b
def main(x: u8 @a, y: u8 @b) -> (s: u8 @both):
    return x + y
"""


def test_checked_runs_withhold_every_row_on_both_sides():
    from yaogc.compiler.checked import OverflowWithheld
    rows = [{"x": 1}, {"x": 200}, {"x": 3}]
    a, b = both(WRAPS, "a", rows, "b", {"y": 100}, checked=True)
    for r in (a, b):
        assert isinstance(r, OverflowWithheld) and r.exit_code == 4, r
        assert str(r).startswith("overflow: results withheld")
    assert yaogc.OverflowWithheld is OverflowWithheld
    # no row overflowing: the results, without the hidden bit
    a, b = both(WRAPS, "a", [{"x": 1}, {"x": 2}], "b", {"y": 100}, checked=True)
    assert a.outputs == b.outputs == [{"s": 101}, {"s": 102}]
    assert a.records == [{"s": 101}, {"s": 102}]
    with pytest.raises(yaogc.CompileError, match="may reach 510"):
        yaogc.run(WRAPS, as_="a", inputs={"x": 1}, listen="127.0.0.1:0", strict=True)


def test_program_text_is_cached_as_a_file_is_and_bad_program_forms_are_named(tmp_path,
                                                                              monkeypatch):
    from yaogc.circuits import schedstore
    from yaogc.runtime.api import load_program
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path / "cache"))
    info1, info2, info3 = {}, {}, {}
    c1 = load_program(WRAPS, info=info1)
    c2 = load_program("\ufeff" + WRAPS, info=info2)     # a byte-order mark, as an editor saves
    c3 = load_program(WRAPS, use_cache=False, info=info3)
    assert (info1["cached"], info2["cached"], info3["cached"]) == (False, False, False)
    assert c1.content_hash == c2.content_hash == c3.content_hash
    info = {}
    load_program(WRAPS, info=info)
    assert info["cached"] is True
    with pytest.raises(yaogc.InputError, match="program: give a program's path, its text"):
        load_program(WRAPS.encode())
    # a run keeps its schedule as yaogc run does (unless use_cache=False)
    a, b = both(WRAPS, "a", {"x": 1}, "b", {"y": 2})
    assert a.outputs == {"s": 3} and schedstore.enabled()
    assert sorted((tmp_path / "cache").glob("*.ysch"))
    a, b = both(WRAPS, "a", {"x": 1}, "b", {"y": 2}, use_cache=False)
    assert b.outputs == {"s": 3} and not schedstore.enabled()


SRC_API_ARGS = "party a, b\ndef main(x: u8 @a, y: u8 @b) -> u8 @both:\n    return x ^ y\n"


@pytest.mark.parametrize("call, first", [
    (lambda: compile_text_cached(SRC_API_ARGS, defines=5), "defines: a mapping"),
    (lambda: compile_text_cached(SRC_API_ARGS, defines=["N=3"]), "defines: a mapping"),
    (lambda: compile_text_cached(SRC_API_ARGS, max_gates="x"), "--max-gates x: expected"),
    (lambda: compile_text_cached(SRC_API_ARGS, max_gates=-1), "--max-gates -1: expected"),
    (lambda: compile_text_cached(SRC_API_ARGS, filename=None), "filename: a str"),
    (lambda: compile_text_cached(SRC_API_ARGS, progress=5), "progress: a function"),
    (lambda: compile_source(None), "a program's text is a str"),
    (lambda: compile_cached(None), "path: a program file's path"),
    (lambda: compile_cached(b"x.yao"), "path: a program file's path"),
    (lambda: yaogc.run(SRC_API_ARGS, "a", {"x": 1}, defines=5), "defines: a mapping"),
    (lambda: yaogc.run(SRC_API_ARGS, "a", {"x": 1}, columns=5), "columns: a mapping"),
    (lambda: yaogc.run(SRC_API_ARGS, "a", {"x": 1}, columns={"x": 5}), "columns: a mapping"),
    (lambda: yaogc.run(SRC_API_ARGS, "a", {"x": 1}, listen="127.0.0.1:0", on_listening=5),
     "on_listening: a function of (host, port), got int"),
    (lambda: yaogc.run(SRC_API_ARGS, "a", {"x": 1}, listen="127.0.0.1:0", timeout="2"),
     "timeout: a number of seconds, got '2'"),
    (lambda: interpret(SRC_API_ARGS, None), "inputs are a mapping of input name to value"),
    (lambda: interpret(SRC_API_ARGS, [{"x": 1, "y": 2}]), "(one row), not list"),
    (lambda: interpret(123, {}), "a program is a path or its text (str or bytes), not int"),
    (lambda: evaluate(compile_source(SRC_API_ARGS), {"x": 1, "y": 2}),
     "rows are a list of mappings of input name to value (one per row), not dict"),
    (lambda: evaluate(compile_source(SRC_API_ARGS), None), "(one per row), not NoneType"),
    (lambda: evaluate(compile_source(SRC_API_ARGS), [None]), "; a row is NoneType"),
])
def test_arguments_of_the_wrong_kind_are_named(call, first):
    # they escaped as AttributeError/TypeError from inside yaogc, or named the wrong problem
    with pytest.raises(yaogc.YaogcError) as got:
        call()
    assert first in str(got.value).splitlines()[0]


def test_a_program_file_csv_file_certificates_defines_and_garbler(tmp_path, monkeypatch):
    """The README's call: a program's path, an input file's path, TLS certificates from
    ``yaogc certs`` as a (cert, key, peer cert) tuple, -D values and the garbler named."""
    from yaogc.runtime.cli import main as cli
    monkeypatch.setenv("YAOGC_CACHE_DIR", str(tmp_path / "cache"))
    prog = tmp_path / "score.yao"
    prog.write_text(PROGRAM.replace("party model, data\n", "party model, data\nconst N = 9\n")
                    .replace("[3]", "[N]").replace("range(3)", "range(N)"))
    rows = tmp_path / "records.csv"
    rows.write_text("id,x[0],x[1]\nalice,3,-4\nbob,0,7\ncarol,-300,1\n")
    for name in ("model", "data"):
        assert cli(["certs", name, "--out", str(tmp_path), "--quiet"]) == 0
    pem = {n: (str(tmp_path / f"{n}.crt"), str(tmp_path / f"{n}.key")) for n in ("model", "data")}
    m, d = both(str(prog), "model", {"w": [2, 5], "b": -1}, "data", str(rows),
                listen_kw={"defines": {"N": 2}, "garbler": "data",
                           "tls": (*pem["model"], pem["data"][0])},
                defines={"N": 2}, garbler="data", tls=(*pem["data"], pem["model"][0]))
    for r in (m, d):
        assert not isinstance(r, BaseException), r
        assert r.stats["tls"] == "TLSv1.3"
    assert m.stats["compile_cached"] is False and d.stats["compile_cached"] is True
    want = [2 * 3 + 5 * -4 - 1, 5 * 7 - 1, 2 * -300 + 5 - 1]
    assert d.outputs == [{"s": v} for v in want]
    assert d.records == [{"id": i, "s": v} for i, v in zip(("alice", "bob", "carol"), want)]
    # a path that names no file and is no program text is refused as such
    with pytest.raises(InputError, match="no_such.yao: no such file"):
        yaogc.run(str(tmp_path / "no_such.yao"), as_="data", inputs={},
                  connect=("127.0.0.1", 9))
