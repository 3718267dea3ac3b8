"""yaogc.runtime: the two-party run over the network, and the command line.

Security model: semi-honest (honest-but-curious) parties by default: a party that deviates
from the protocol is not detected. Malicious mode (``run_party(..., malicious=True)``,
``yaogc run --malicious``) is dual execution: a deviating party is caught or the result is
correct, at the cost of at most one leaked bit (see ``dualex``). TLS 1.3 with mutual
certificates keeps outsiders out in both.

Modules, in dependency order:

- ``errors``: network, peer and protocol errors (exit status 3).
- ``tls``: certificates (``yaogc certs``) and TLS 1.3 contexts pinning the peer's certificate.
- ``channel``: length-prefixed frames with byte counters, timeouts and a frame-size cap; an
  in-memory pair for tests. ``net``: ``listen`` / ``connect`` and the plain-TCP policy.
- ``bitmatrix``, ``ot_base``, ``ot_ext``, ``ot_kos``: oblivious transfer (Chou-Orlandi base
  OT, IKNP extension with the ALSZ optimizations, KOS15's check against a malicious receiver).
- ``inputs``, ``handshake``, ``tables``, ``progress``, ``protocol``: input files and values,
  the session description both sides compare, table streaming, the progress line, and the Yao
  protocol itself (``run_garbler``, ``run_evaluator``, ``run_party``); ``dualex``: dual
  execution, the malicious mode.
- ``local``, ``demo``: both parties as two processes on this machine; ``yaogc demo``.
- ``cli``, ``cli_net``: the ``yaogc`` command.
"""
