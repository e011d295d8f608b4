"""The top of the layers: the ways horde runs, each a mode built by one composer.

- ``headless``: one process, the console, a fixed run time (``--headless``);
- ``web``: one process driven from the web UI until Ctrl-C;
- ``master``: a distributed run's master, headless or with the web UI (``--master``,
  ``--processes N``);
- ``worker``: a worker of a master (``--worker``, or one started by ``--processes``);
- ``capacity``: the capacity search (``horde capacity``), in one process or on a master.

Every mode ends the same way (``conclusion``: summary, files, exit code) and handles Ctrl-C the
same way (``signals``). The modes may use everything below them (web, distributed, runner,
scenario, stats...); nothing below imports a mode.
"""
