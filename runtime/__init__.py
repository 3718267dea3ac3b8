"""yaogc.runtime: the two-party run over the network, data owners with two compute servers,
and the command line.

Security model: semi-honest (honest-but-curious) parties by default: a party that deviates
from the protocol is not detected. Malicious mode (``run_party(..., malicious=True)``,
``yaogc run --malicious``) is dual execution: a deviating party is caught or the result is
correct, at the cost of at most one leaked bit (see ``dualex``). TLS 1.3 with mutual
certificates keeps outsiders out in both.
With data owners, the two compute servers must not collude: together they learn every
input and output.

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
- ``sharing``, ``servers``, ``owners``: any number of data owners secret-share their inputs
  to two compute servers that run Yao's protocol between them (``yaogc serve``,
  ``yaogc submit``).
- ``shards``, ``shard_worker``, ``cluster``, ``worker_init``: a batch sharded over N worker
  pairs, each party on its own Dask cluster: the manifest, one shard's session on a worker,
  the coordinator (``run_sharded``; ``yaogc run --workers N``), and what a local cluster's
  worker processes run first.
- ``local``, ``owners_local``, ``demo``: every party as a process on this machine;
  ``yaogc demo``.
- ``cli``, ``cli_net``, ``cli_owners``: the ``yaogc`` command.
"""
