"""jifen's nouns: wire and domain types, and the table definitions of both databases.

Nothing here does I/O. PyPI has an unrelated package called ``schema``; the marker below
lets a test prove that ``import schema`` resolves to this one.
"""

JIFEN_SCHEMA = True
