"""yaogc.runtime: the two-party run over the network, and the command line.

Security model: semi-honest (honest-but-curious) parties; TLS 1.3 with mutual certificates
keeps outsiders out. A party that deviates from the protocol is not detected.

Modules, in dependency order:

- ``errors``: network, peer and protocol errors (exit status 3).
- ``tls``: certificates (``yaogc certs``) and TLS 1.3 contexts pinning the peer's certificate.
- ``channel``: length-prefixed frames with byte counters, timeouts and a frame-size cap; an
  in-memory pair for tests. ``net``: ``listen`` / ``connect`` and the plain-TCP policy.
- ``bitmatrix``, ``ot_base``, ``ot_ext``: oblivious transfer (Chou-Orlandi base OT, IKNP
  extension with the ALSZ optimizations).
- ``inputs``, ``handshake``, ``tables``, ``progress``, ``protocol``: input files and values,
  the session description both sides compare, table streaming, the progress line, and the Yao
  protocol itself (``run_garbler``, ``run_evaluator``, ``run_party``).
- ``local``, ``demo``: both parties as two processes on this machine; ``yaogc demo``.
- ``cli``, ``cli_net``: the ``yaogc`` command.
"""
