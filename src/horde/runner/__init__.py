"""Runners: what makes the load of a test, behind one interface (``interface.Runner``).

``local`` runs users on this process's loop (the closed model), ``arrival_rate`` starts iterations
on a schedule (the open model); a distributed master (``horde.distributed.master``) is a runner
too. They share the start and the end of a test (``lifecycle``) and take typed loads
(``load.Users``, ``load.ArrivalRate``). Around them: the environment a run shares
(``environment``), which model and runner a run uses (``models``), load shapes and stages
(``shapes``), the capacity search (``capacity``), ``--abort-on-threshold`` (``threshold_watch``)
and the event-loop watchdog (``blockwatch``).

Layer: above the scenario API, the stats and the settings; below the web UI, distributed runs,
the console and result files, and the modes, none of which the runner imports.
"""
