"""Batch reprocessing of a lab archive (issue 12).

``discover`` finds the session folders under a root; ``task`` is the work of one session
(process, analyse, write the outputs atomically, optionally import into a patient store)
returning a plain, picklable :class:`~core.batch.task.SessionResult`; ``manifest`` says
whether a session's outputs are complete and current (``--resume``); ``log`` writes the
JSON-lines record of every task; ``runner`` drives the tasks over an executor
(``engines``: a local process pool or a dask.distributed client).
"""
