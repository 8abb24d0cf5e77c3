"""The staff-facing shell: the /api controllers, the periodic tick, the CLI subcommands.
Thin: each calls one use case in ``server.services`` (staff, review, manage, reports,
checkpoint), which check role and community scope themselves."""
