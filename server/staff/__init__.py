"""The staff-facing shell: the /api controllers and the periodic tick (the ``jifen-server``
subcommands are in ``server.cli``). Thin: each calls one use case in ``server.services``
(staff, review, manage, reports, checkpoint), which check role and community scope
themselves."""
