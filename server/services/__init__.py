"""The server's use cases, one function each: verify → decide (in ``sync/``) → persist in
one transaction. The HTTP app and the CLI both call these and nothing below them.

    enroll, enroll_code      server.services.enroll
    push                     server.services.push
    pull                     server.services.pull
    audit                    server.services.audit
    demo_data                server.services.demo
    staff: accounts, tokens, roles, audit log     server.services.staff
    review queue: evidence, resolutions           server.services.review
    residents, rules, catalog, listings, revoke   server.services.manage
    forced re-key, key history                    server.services.rotate
    board, settlement, issued, coverage, kiosks   server.services.reports
    signed checkpoints of the batch log           server.services.checkpoint
    quarantine / gap review items (tick)          server.services.watch
"""

from server.services.context import Context, open_context

__all__ = ["Context", "open_context"]
