"""The public API refuses a caller-supplied PRG that would make a garbler's secrets known,
unless it is marked as a deliberate test (TLS contexts: see test_tls_pinning)."""

import numpy as np
import pytest

from test_schedule import adder_circuit
from yaogc.circuits.schedule import schedule
from yaogc.gc import GarbleError, Garbler
from yaogc.gc.aes import PRG


def test_a_caller_seeded_prg_is_refused_unless_marked_for_testing():
    s = schedule(adder_circuit())
    with pytest.raises(GarbleError, match="must be seeded from os.urandom"):
        Garbler(s, prg=PRG(b"\x00" * 16))
    a = Garbler(s, prg=PRG(b"\x07" * 16, testing=True))
    b = Garbler(s, prg=PRG(b"\x07" * 16, testing=True))
    assert np.array_equal(a.R, b.R)            # reproducible, as a test wants
    assert not np.array_equal(Garbler(s, prg=PRG()).R, Garbler(s).R)
