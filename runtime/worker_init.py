"""What the fork server of a local Dask cluster (``yaogc run --workers N``) runs first: its
worker processes ignore SIGINT.

A Ctrl-C at a terminal reaches every process of its group, the workers too, each of which
then printed its own traceback. Only the coordinator acts on it: it stops the run and
closes the cluster, which ends the workers. The fork server restores, in each process it
forks, the handlers it had after its preloads, so the setting holds for every worker and
every worker's replacement. Imported nowhere else.
"""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
